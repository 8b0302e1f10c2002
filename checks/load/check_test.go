package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// -n reads command lines through the isolated prober, which re-executes
// this test binary.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func fixture(name string) []string {
	root := filepath.Join("..", "..", "testdata", "load", name)
	return []string{"--procfs", filepath.Join(root, "proc"), "--sysfs", filepath.Join(root, "sys"), "--no-state-file"}
}

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
	return code, out.String()
}

func TestGolden(t *testing.T) {
	psi := "psi_cpu_some_avg10=1.5%;;;0;100 psi_cpu_some_avg60=2.25%;;;0;100 psi_cpu_some_avg300=3%;;;0;100 " +
		"psi_io_some_avg10=12%;;;0;100 psi_io_some_avg60=25.5%;;;0;100 psi_io_some_avg300=8%;;;0;100 " +
		"psi_io_full_avg10=6%;;;0;100 psi_io_full_avg60=12.25%;;;0;100 psi_io_full_avg300=4%;;;0;100 " +
		"psi_memory_some_avg10=0%;;;0;100 psi_memory_some_avg60=0%;;;0;100 psi_memory_some_avg300=0%;;;0;100 " +
		"psi_memory_full_avg10=0%;;;0;100 psi_memory_full_avg60=0%;;;0;100 psi_memory_full_avg300=0%;;;0;100"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"absolute, as the C plugin", append(fixture("idle-2cpu"), "-w", "5,4,3", "-c", "10,8,6"), 0,
			"LOAD OK - total load average: 0.10, 0.20, 0.30 | load1=0.1;5;10;0 load5=0.2;4;8;0 load15=0.3;3;6;0 " + psi + "\n" +
				"[OK] 1-minute load 0.10\n[OK] 5-minute load 0.20\n[OK] 15-minute load 0.30\n"},
		{"defaults are per CPU", append(fixture("idle-2cpu"), "-v"), 0,
			"LOAD OK - scaled load average: 0.05, 0.10, 0.15 - total load average: 0.10, 0.20, 0.30 (2 CPUs) | " +
				"load1=0.1;;;0 load5=0.2;;;0 load15=0.3;;;0 scaled_load1=0.05;3;5;0 scaled_load5=0.1;2;4;0 scaled_load15=0.15;1.5;3;0 cpus=2;;;0 " + psi + "\n" +
				"[OK] 1-minute load 0.05 per CPU (0.10 in all)\n[OK] 5-minute load 0.10 per CPU (0.20 in all)\n[OK] 15-minute load 0.15 per CPU (0.30 in all)\n" +
				"OOM kills not counted: ../../testdata/load/idle-2cpu/proc/vmstat: no such file or directory\n" +
				"judged per CPU: 2 CPUs (all online, no cgroup CPU quota)\n"},
		{"container: 64 CPUs but a 2-CPU quota, output bounded", append(fixture("container-v2-quota"), "-r", "-w", "3,2,1.5", "-c", "5,4,3", "-v", "--max-output", "910"), 2,
			"LOAD CRITICAL - scaled load average: 4.50, 4.00, 3.50 - total load average: 9.00, 8.00, 7.00 (2 CPUs) | " +
				"load1=9;;;0 load5=8;;;0 load15=7;;;0 scaled_load1=4.5;3;5;0 scaled_load5=4;2;4;0 scaled_load15=3.5;1.5;3;0 cpus=2;;;0 " +
				"psi_cpu_some_avg10=1.5%;;;0;100 psi_cpu_some_avg60=2.25%;;;0;100 psi_cpu_some_avg300=3%;;;0;100 " +
				"psi_io_some_avg10=12%;;;0;100 psi_io_some_avg60=25.5%;;;0;100 psi_io_some_avg300=8%;;;0;100 " +
				"psi_io_full_avg10=6%;;;0;100\n" +
				"[CRITICAL] 15-minute load 3.50 per CPU (7.00 in all) outside critical 3\n" +
				"[WARNING] 1-minute load 4.50 per CPU (9.00 in all) outside warning 3\n" +
				"[WARNING] 5-minute load 4.00 per CPU (8.00 in all) outside warning 2\n" +
				"OOM kills not counted: ../../testdata/load/container-v2-quota/proc/vmstat: no such file or directory\n" +
				"judged per CPU: 2 CPUs (cgroup quota 2 in ../../testdata/load/container-v2-quota/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max)\n" +
				"(8 perfdata items not shown)\n"},
		{"container, full output", append(fixture("container-v2-quota"), "-r", "-w", "3,2,1.5", "-c", "5,4,3", "-v"), 2,
			"LOAD CRITICAL - scaled load average: 4.50, 4.00, 3.50 - total load average: 9.00, 8.00, 7.00 (2 CPUs) | " +
				"load1=9;;;0 load5=8;;;0 load15=7;;;0 scaled_load1=4.5;3;5;0 scaled_load5=4;2;4;0 scaled_load15=3.5;1.5;3;0 cpus=2;;;0 " + psi + "\n" +
				"[CRITICAL] 15-minute load 3.50 per CPU (7.00 in all) outside critical 3\n" +
				"[WARNING] 1-minute load 4.50 per CPU (9.00 in all) outside warning 3\n" +
				"[WARNING] 5-minute load 4.00 per CPU (8.00 in all) outside warning 2\n" +
				"OOM kills not counted: ../../testdata/load/container-v2-quota/proc/vmstat: no such file or directory\n" +
				"judged per CPU: 2 CPUs (cgroup quota 2 in ../../testdata/load/container-v2-quota/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max)\n"},
	}
	for _, tt := range tests {
		code, out := run(t, tt.args...)
		if code != tt.code || out != tt.want {
			t.Errorf("%s: exit %d\n%s\nwant exit %d\n%s", tt.name, code, out, tt.code, tt.want)
		}
	}
}

func TestStates(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		has  []string
	}{
		{"per CPU by the v1 parent quota of 1.5", append(fixture("docker-v1-parent-quota"), "-r", "-w", "1.5", "-c", "2.5"), 1,
			[]string{"LOAD WARNING - scaled load average: 2.00, 2.00, 2.00 - total load average: 3.00, 3.00, 3.00 (1.5 CPUs) |"}},
		{"-w with two values repeats the last", append(fixture("idle-2cpu"), "-w", "1,0.15"), 1,
			[]string{"load1=0.1;1;;0 load5=0.2;0.15;;0 load15=0.3;0.15;;0", "[WARNING] 15-minute load 0.30 outside warning 0.15"}},
		{"range thresholds", append(fixture("idle-2cpu"), "-c", "@0.25:0.35"), 2, []string{"[CRITICAL] 15-minute load 0.30 outside critical @0.25:0.35"}},
		{"PSI warning on io some avg60", append(fixture("idle-2cpu"), "-w", "5", "-c", "10", "--psi-warning", "io=20", "--psi-critical", "io=50"), 1,
			[]string{"LOAD WARNING - total load average: 0.10, 0.20, 0.30 / io pressure (some, avg60) 25.50% outside warning 20 |", "psi_io_some_avg60=25.5%;20;50;0;100"}},
		{"PSI critical on memory full avg10, OK", append(fixture("idle-2cpu"), "-w", "5", "--psi-critical", "memory:full:avg10=5"), 0,
			[]string{"[OK] memory pressure (full, avg10) 0.00%", "psi_memory_full_avg10=0%;;5;0;100"}},
		{"no PSI on this kernel: still checks load", append(fixture("no-psi"), "-w", "5", "-v"), 0,
			[]string{"LOAD OK - total load average: 0.50, 0.40, 0.30 | load1=0.5;5;;0", "pressure stall information not available on this kernel"}},
		{"no PSI but thresholds on it", append(fixture("no-psi"), "-w", "5", "--psi-warning", "cpu=10"), 3,
			[]string{"LOAD UNKNOWN - total load average: 0.50, 0.40, 0.30 / PSI cpu some avg60 has a threshold but the kernel does not report it |"}},
		{"garbage loadavg", fixture("garbage"), 3, []string{`LOAD UNKNOWN - malformed load average "load?" in ../../testdata/load/garbage/proc/loadavg`}},
		{"missing procfs", []string{"--procfs", "/nonexistent"}, 3, []string{"LOAD UNKNOWN - --procfs /nonexistent: no such file or directory"}},
		{"bad PSI spec", []string{"--psi-warning", "disk=5"}, 3, []string{`invalid PSI threshold "disk=5": resource "disk" is not one of cpu, io, memory`}},
		{"bad PSI window", []string{"--psi-warning", "io:avg5=5"}, 3, []string{`"avg5" is neither some/full nor avg10/avg60/avg300`}},
		{"too many thresholds", []string{"-w", "1,2,3,4"}, 3, []string{`invalid threshold list "1,2,3,4": at most three values`}},
		{"negative -n", []string{"-n", "-1"}, 3, []string{"invalid -n -1"}},
		{"negative range as its own argument", append(fixture("idle-2cpu"), "-c", "-10:0.2"), 2, []string{"[CRITICAL] 15-minute load 0.30 outside critical -10:0.2"}},
	}
	for _, tt := range tests {
		code, out := run(t, tt.args...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s", tt.name, code, tt.code, out)
		}
		for _, h := range tt.has {
			if !strings.Contains(out, h) {
				t.Errorf("%s: output lacks %q\n%s", tt.name, h, out)
			}
		}
	}
}

func TestTopShownOnlyWhenNotOK(t *testing.T) {
	code, out := run(t, append(fixture("overloaded"), "-w", "5", "-c", "30", "-n", "2", "--sample-interval", "0")...)
	if code != 1 || !strings.Contains(out, "top 2 CPU consumers:\n  pid 2001 ") || !strings.Contains(out, "  pid 2002 root R ") {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, out = run(t, append(fixture("overloaded"), "-w", "50", "-n", "2")...)
	if code != 0 || strings.Contains(out, "CPU consumers") {
		t.Errorf("OK run lists consumers: exit %d\n%s", code, out)
	}
}

// OOM kills end to end through the runtime's state file: the fixture's
// vmstat says 7 kills this boot and its kernel log holds three.
func TestOOMKills(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "load", "oom")
	kmsgFile := filepath.Join(root, "kmsg")
	const boot = "c61f923e-4f4e-411e-ab13-4380b0756843"
	tests := []struct {
		name  string
		prev  string // the state file's data, "" for none
		extra []string
		code  int
		has   []string
	}{
		{"first run: the baseline", "", nil, 0,
			[]string{"[OK] OOM kills: first run, 7 kills since boot kept to compare with", "oom_kills_total=7c"}},
		{"same count", `{"boot_id":"` + boot + `","oom_kills":7}`, nil, 0,
			[]string{"[OK] no OOM kill since the last run", "oom_kills=0;0;;0 oom_kills_total=7c"}},
		{"two more: WARNING naming the last two", `{"boot_id":"` + boot + `","oom_kills":5}`, nil, 1,
			[]string{"LOAD WARNING - total load average: 0.10, 0.20, 0.30 / 2 OOM kills since the last run (warning 0): nagios (pid 1234) in /system.slice/nagios.service, python3 (pid 4321) in /hs-oom-test |", "oom_kills=2;0;;0"}},
		{"only the records after the last one read", `{"boot_id":"` + boot + `","oom_kills":5,"kmsg_seq":105}`, nil, 1,
			[]string{"2 OOM kills since the last run (warning 0): python3 (pid 4321) in /hs-oom-test and 1 other no longer in the kernel log"}},
		{"another boot: all of this boot's kills", `{"boot_id":"old","oom_kills":20,"kmsg_seq":900}`, nil, 1,
			[]string{"7 OOM kills since the last run (rebooted since; warning 0): backup (pid 800) in /system.slice/cron.service, nagios (pid 1234)", "and 4 others no longer in the kernel log"}},
		{"a count that went down is a reboot", `{"oom_kills":20}`, nil, 1, []string{"7 OOM kills since the last run (rebooted since; warning 0)"}},
		{"thresholds", `{"boot_id":"` + boot + `","oom_kills":5}`, []string{"--oom-warning", "2", "--oom-critical", "5"}, 0,
			[]string{"[OK] 2 OOM kills since the last run: nagios (pid 1234)", "oom_kills=2;2;5;0"}},
		{"critical", `{"boot_id":"` + boot + `","oom_kills":5}`, []string{"--oom-critical", "1"}, 2,
			[]string{"[CRITICAL] 2 OOM kills since the last run (critical 1): nagios"}},
		{"an explicit --kmsg that is a directory is UNKNOWN", `{"boot_id":"` + boot + `","oom_kills":7}`, []string{"--kmsg", root}, 3,
			[]string{"LOAD UNKNOWN - total load average: 0.10, 0.20, 0.30 / OOM-killed processes cannot be named: " + root + ": is a directory, not the kernel log device or a file of its records (--kmsg)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statePath := filepath.Join(t.TempDir(), "state.json")
			if tt.prev != "" {
				must(t, os.WriteFile(statePath, []byte(`{"kind":"check_load","version":1,"data":`+tt.prev+"}\n"), 0o600))
			}
			args := append([]string{"--procfs", filepath.Join(root, "proc"), "-w", "5", "--state-file", statePath, "--kmsg", kmsgFile}, tt.extra...)
			code, out := run(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, h := range tt.has {
				if !strings.Contains(out, h) {
					t.Errorf("output lacks %q\n%s", h, out)
				}
			}
			data, err := os.ReadFile(statePath)
			if err != nil || !strings.Contains(string(data), `"oom_kills":7`) || !strings.Contains(string(data), boot) {
				t.Errorf("state after the run: %s (%v)", data, err)
			}
		})
	}
}

// The state file is written only when it changed: a quiet machine's run
// writes nothing.
func TestOOMStateUnchangedNotWritten(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "load", "oom")
	statePath := filepath.Join(t.TempDir(), "state.json")
	args := []string{"--procfs", filepath.Join(root, "proc"), "-w", "5", "--state-file", statePath}
	if code, out := run(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	old := time.Unix(1e9, 0)
	must(t, os.Chtimes(statePath, old, old))
	if code, out := run(t, args...); code != 0 || !strings.Contains(out, "no OOM kill since the last run") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if fi, err := os.Stat(statePath); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the state file was rewritten with nothing new")
	}
}

// A vmstat that no kernel writes is UNKNOWN naming it; one without
// oom_kill (before Linux 4.13) is a -v note, the load still judged.
func TestOOMCounterFaults(t *testing.T) {
	tests := []struct {
		vmstat string
		code   int
		has    string
	}{
		{"nr_free_pages 1\noom_kill x\n", 3, `LOAD UNKNOWN - total load average: 0.10, 0.20, 0.30 / malformed oom_kill "x" in `},
		{"nr_free_pages 1\noom_kill -1\n", 3, `malformed oom_kill "-1" in `},
		{"nr_free_pages 1\n", 0, "OOM kills not counted: no oom_kill in "},
	}
	for _, tt := range tests {
		proc := t.TempDir()
		src := filepath.Join("..", "..", "testdata", "load", "idle-2cpu", "proc", "loadavg")
		data, err := os.ReadFile(src)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(proc, "loadavg"), data, 0o644))
		must(t, os.WriteFile(filepath.Join(proc, "vmstat"), []byte(tt.vmstat), 0o644))
		code, out := run(t, "--procfs", proc, "-w", "5", "-v", "--state-file", filepath.Join(t.TempDir(), "s.json"))
		if code != tt.code || !strings.Contains(out, tt.has) || !strings.Contains(out, filepath.Join(proc, "vmstat")) {
			t.Errorf("vmstat %q: exit %d, want %d and %q\n%s", tt.vmstat, code, tt.code, tt.has, out)
		}
	}
}
