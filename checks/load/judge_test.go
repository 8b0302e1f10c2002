package load

import (
	"context"
	"errors"
	"strings"
	"testing"

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
