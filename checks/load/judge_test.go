package load

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// opts builds options as go-flags would from the given flag values.
func opts(t *testing.T, warn, crit string, perCPU bool, psiWarn ...string) *Options {
	t.Helper()
	o := &Options{PerCPU: perCPU}
	if warn != "" {
		must(t, o.Warning.UnmarshalFlag(warn))
	}
	if crit != "" {
		must(t, o.Critical.UnmarshalFlag(crit))
	}
	for _, s := range psiWarn {
		p, err := ParsePSIThreshold(s)
		must(t, err)
		o.PSIWarning = append(o.PSIWarning, p)
	}
	return o
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var somePSI = psi{
	"cpu":    {"some": {"avg10": 1, "avg60": 2, "avg300": 3}},
	"io":     {"some": {"avg10": 10, "avg60": 30, "avg300": 5}, "full": {"avg10": 1, "avg60": 2, "avg300": 3}},
	"memory": {"some": {"avg10": 0, "avg60": 0, "avg300": 0}, "full": {"avg10": 0, "avg60": 0, "avg300": 0}},
}

// judge is a pure function: every case is options and observations in,
// the whole rendered output out, no host involved.
func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		o    *Options
		obs  observations
		want string // rendered, first line and long output
	}{
		{"absolute OK, no PSI",
			opts(t, "5,4,3", "10,8,6", false), observations{Load: [3]float64{0.5, 0.4, 0.3}},
			"LOAD OK - total load average: 0.50, 0.40, 0.30 | load1=0.5;5;10;0 load5=0.4;4;8;0 load15=0.3;3;6;0\n" +
				"[OK] 1-minute load 0.50\n[OK] 5-minute load 0.40\n[OK] 15-minute load 0.30\n"},
		{"defaults are per CPU, with a quota",
			opts(t, "", "", false), observations{Load: [3]float64{9, 8, 7}, CPUs: CPUs{Count: 2, Online: 64, Allowed: 64, Quota: 2, QuotaAt: "/sys/fs/cgroup/x/cpu.max"}, Verbose: 1},
			"LOAD CRITICAL - scaled load average: 4.50, 4.00, 3.50 - total load average: 9.00, 8.00, 7.00 (2 CPUs) | " +
				"load1=9;;;0 load5=8;;;0 load15=7;;;0 scaled_load1=4.5;3;5;0 scaled_load5=4;2;4;0 scaled_load15=3.5;1.5;3;0 cpus=2;;;0\n" +
				"[CRITICAL] 15-minute load 3.50 per CPU (7.00 in all) outside critical 3\n" +
				"[WARNING] 1-minute load 4.50 per CPU (9.00 in all) outside warning 3\n" +
				"[WARNING] 5-minute load 4.00 per CPU (8.00 in all) outside warning 2\n" +
				"judged per CPU: 2 CPUs (cgroup quota 2 in /sys/fs/cgroup/x/cpu.max)\n"},
		{"PSI threshold crossed",
			opts(t, "5", "", false, "io=20"), observations{Load: [3]float64{1, 1, 1}, PSI: somePSI},
			"LOAD WARNING - total load average: 1.00, 1.00, 1.00 / io pressure (some, avg60) 30.00% outside warning 20 |"},
		{"PSI threshold on a kernel without PSI",
			opts(t, "5", "", false, "memory=20"), observations{Load: [3]float64{1, 1, 1}, PSIWhy: "pressure stall information not available on this kernel"},
			"LOAD UNKNOWN - total load average: 1.00, 1.00, 1.00 / PSI memory some avg60 has a threshold but the kernel does not report it |"},
		{"a bad pressure file is UNKNOWN, the load still judged",
			opts(t, "5", "", false), observations{Load: [3]float64{1, 1, 1}, PSI: psi{}, PSIBad: []error{errors.New("/proc/pressure/io: is a FIFO, not a regular file")}},
			"LOAD UNKNOWN - total load average: 1.00, 1.00, 1.00 / /proc/pressure/io: is a FIFO, not a regular file |"},
		{"top consumers listed",
			opts(t, "0.5", "", false), observations{Load: [3]float64{1, 1, 1}, Top: top{List: []consumer{{PID: 7, User: "root", State: "R", Percent: 99.5, Cmdline: "yes " + strings.Repeat("y", 200)}}}},
			"\ntop 1 CPU consumers:\n  pid 7 root R 99.5% CPU: yes " + strings.Repeat("y", 113) + "...\n"},
		{"top consumers cut by the deadline say nothing",
			opts(t, "0.5", "", false), observations{Load: [3]float64{1, 1, 1}, Top: top{Err: context.DeadlineExceeded}},
			"[WARNING] 15-minute load 1.00 outside warning 0.5\n"},
		{"top consumers not available",
			opts(t, "0.5", "", false), observations{Load: [3]float64{1, 1, 1}, Top: top{Err: errors.New("/proc: permission denied")}},
			"top CPU consumers not available: /proc: permission denied\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := plugin.Render("LOAD", judge(tt.o, tt.obs), 0)
			if !strings.Contains(out, tt.want) {
				t.Errorf("got\n%s\nwant it to hold\n%s", out, tt.want)
			}
			if strings.HasPrefix(tt.name, "top consumers cut") && strings.Contains(out, "top CPU") {
				t.Errorf("a listing cut short by the deadline is mentioned:\n%s", out)
			}
		})
	}
}

// The defaults apply only when neither -w nor -c is given.
func TestThresholds(t *testing.T) {
	w, c, per := opts(t, "", "", false).thresholds()
	dw, _ := threshold.ParseTriplet(defaultWarning)
	dc, _ := threshold.ParseTriplet(defaultCritical)
	if !per || w.String() != dw.String() || c.String() != dc.String() {
		t.Errorf("defaults: %v %v %v", w, c, per)
	}
	if _, _, per := opts(t, "", "4", false).thresholds(); per {
		t.Error("-c alone is judged per CPU")
	}
}

// oomOpts are options with the OOM thresholds as go-flags sets them: the
// default --oom-warning 0 unless given.
func oomOpts(t *testing.T, warn, crit string) *Options {
	t.Helper()
	o := opts(t, "5", "", false)
	must(t, o.OOMWarning.UnmarshalFlag(warn))
	if crit != "" {
		must(t, o.OOMCritical.UnmarshalFlag(crit))
	}
	return o
}

func TestJudgeOOM(t *testing.T) {
	load := [3]float64{1, 1, 1}
	nagios := victim{PID: 1234, Comm: "nagios", Memcg: "/system.slice/nagios.service"}
	tests := []struct {
		name  string
		o     *Options
		r     oomReport
		state plugin.State
		want  []string // each held by the rendered output
		not   string   // held by no line of it, when set
	}{
		{"first run: baseline, no warning", oomOpts(t, "0", ""), oomReport{Known: true, Total: 5},
			plugin.OK, []string{"LOAD OK - total load average: 1.00, 1.00, 1.00 |", "oom_kills=U;0;;0 oom_kills_total=5c", "[OK] OOM kills: first run, 5 kills since boot kept to compare with"}, ""},
		{"no kill since the last run", oomOpts(t, "0", ""), oomReport{Known: true, Total: 5, Compared: true},
			plugin.OK, []string{"[OK] no OOM kill since the last run", "oom_kills=0;0;;0 oom_kills_total=5c"}, ""},
		{"growth warns by default, naming the process", oomOpts(t, "0", ""), oomReport{Known: true, Total: 6, Since: 1, Compared: true, Victims: []victim{nagios}},
			plugin.WARNING, []string{"LOAD WARNING - total load average: 1.00, 1.00, 1.00 / 1 OOM kill since the last run (warning 0): nagios (pid 1234) in /system.slice/nagios.service |", "oom_kills=1;0;;0"}, ""},
		{"growth, names not all in the log", oomOpts(t, "0", ""), oomReport{Known: true, Total: 8, Since: 3, Compared: true, Victims: []victim{{PID: 9, Comm: "x", Memcg: "/"}}},
			plugin.WARNING, []string{"3 OOM kills since the last run (warning 0): x (pid 9) and 2 others no longer in the kernel log"}, ""},
		{"growth, log closed to this user: a note, not UNKNOWN", oomOpts(t, "0", ""), oomReport{Known: true, Total: 6, Since: 1, Compared: true, LogNote: "/dev/kmsg not readable as uid 109 (dmesg_restrict): run as root, or with CAP_SYSLOG, to see them"},
			plugin.WARNING, []string{"/ 1 OOM kill since the last run (warning 0) |", "\nOOM-killed processes not named: /dev/kmsg not readable as uid 109"}, "UNKNOWN"},
		{"reboot: the kills of this boot", oomOpts(t, "0", ""), oomReport{Known: true, Total: 2, Since: 2, Compared: true, Rebooted: true},
			plugin.WARNING, []string{"2 OOM kills since the last run (rebooted since; warning 0), not found in the kernel log", "oom_kills=2;0;;0 oom_kills_total=2c"}, ""},
		{"reboot without kills", oomOpts(t, "0", ""), oomReport{Known: true, Total: 0, Compared: true, Rebooted: true},
			plugin.OK, []string{"[OK] no OOM kill since the last run"}, ""},
		{"--oom-warning 2: one kill is OK", oomOpts(t, "2", ""), oomReport{Known: true, Total: 6, Since: 1, Compared: true, Victims: []victim{nagios}},
			plugin.OK, []string{"[OK] 1 OOM kill since the last run: nagios (pid 1234)", "oom_kills=1;2;;0"}, "WARNING"},
		{"--oom-critical 1: two kills are CRITICAL", oomOpts(t, "0", "1"), oomReport{Known: true, Total: 7, Since: 2, Compared: true},
			plugin.CRITICAL, []string{"[CRITICAL] 2 OOM kills since the last run (critical 1), not found in the kernel log", "oom_kills=2;0;1;0"}, ""},
		{"--oom-warning ~: never", oomOpts(t, "~:", ""), oomReport{Known: true, Total: 60, Since: 50, Compared: true},
			plugin.OK, []string{"[OK] 50 OOM kills"}, ""},
		{"no state file: only the counter", oomOpts(t, "0", ""), oomReport{Known: true, Total: 3, NoState: true},
			plugin.OK, []string{"oom_kills_total=3c"}, "oom_kills="},
		{"an explicit --kmsg that cannot be read is UNKNOWN", oomOpts(t, "0", ""), oomReport{Known: true, Total: 3, Compared: true, LogBad: "/tmp/fifo: is a FIFO, not the kernel log device or a file of its records (--kmsg)"},
			plugin.UNKNOWN, []string{"LOAD UNKNOWN - total load average: 1.00, 1.00, 1.00 / OOM-killed processes cannot be named: /tmp/fifo: is a FIFO"}, ""},
		{"a malformed vmstat is UNKNOWN", oomOpts(t, "0", ""), oomReport{Bad: errors.New(`malformed oom_kill "x" in /proc/vmstat`)},
			plugin.UNKNOWN, []string{`LOAD UNKNOWN - total load average: 1.00, 1.00, 1.00 / malformed oom_kill "x" in /proc/vmstat |`}, "oom_kills"},
		{"no counter: said with -v only", oomOpts(t, "0", ""), oomReport{Why: "OOM kills not counted: no oom_kill in /proc/vmstat (Linux before 4.13)"},
			plugin.OK, []string{"LOAD OK"}, "oom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := judge(tt.o, observations{Load: load, OOM: tt.r})
			out := plugin.Render("LOAD", res, 0)
			if res.State() != tt.state {
				t.Errorf("state %v, want %v\n%s", res.State(), tt.state, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant it to hold\n%s", out, w)
				}
			}
			if tt.not != "" && strings.Contains(out, tt.not) {
				t.Errorf("got\n%s\nwant no %q", out, tt.not)
			}
		})
	}
}

func TestParseVictims(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "load", "oom", "kmsg"))
	must(t, err)
	got := kmsg.OOMVictims(kmsg.ParseAll(string(data)))
	want := []victim{{PID: 800, Comm: "backup", Memcg: "/system.slice/cron.service"}, {PID: 1234, Comm: "nagios", Memcg: "/system.slice/nagios.service"}, {PID: 4321, Comm: "python3", Memcg: "/hs-oom-test"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
