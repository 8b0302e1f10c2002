package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

func fixture(name string) []string {
	root := filepath.Join("..", "..", "testdata", "load", name)
	return []string{"--procfs", filepath.Join(root, "proc"), "--sysfs", filepath.Join(root, "sys")}
}

// faultTree is a copy of the idle-2cpu fixture (proc and sys) whose file
// rel (under the tree) is replaced by what make makes of it.
func faultTree(t *testing.T, rel string, make func(t testing.TB, path string)) (proc, sys string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "load", "idle-2cpu")
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "proc"), filepath.Join(src, "sys"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v\n%s", err, out)
	}
	path := filepath.Join(dir, rel)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	make(t, path)
	return filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
}

// The faults every path option must survive (the fault matrix).
var faults = testutil.PathFaults

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Every file of --procfs and --sysfs check_load needs, made into each
// fault: one UNKNOWN line naming the file, well within -t, nothing on
// stderr. A FIFO used to block the open until the watchdog fired; a
// device or a huge file used to be read whole.
func TestPathFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_load")
	files := []struct {
		rel  string
		args []string
	}{
		{"proc/loadavg", []string{"-w", "5"}},
		{"sys/devices/system/cpu/online", []string{"-r", "-w", "5"}},
	}
	for _, f := range files {
		for _, fault := range faults {
			t.Run(f.rel+"/"+fault.Name, func(t *testing.T) {
				proc, sys := faultTree(t, f.rel, fault.Make)
				r := testutil.Run(t, bin, append([]string{"--procfs", proc, "--sysfs", sys, "-t", "3"}, f.args...)...)
				path := filepath.Join(filepath.Dir(proc), f.rel)
				if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - ") || !strings.Contains(r.Stdout, path) ||
					strings.Count(r.Stdout, "\n") != 1 || r.Stderr != "" {
					t.Errorf("exit %d, %q (stderr %q); want one UNKNOWN line naming %s", r.Code, r.Stdout, r.Stderr, path)
				}
				if r.Elapsed > 3500*time.Millisecond {
					t.Errorf("took %s with -t 3", r.Elapsed)
				}
			})
		}
	}
	// The roots themselves: a file where a directory is expected.
	for _, fault := range faults {
		t.Run("--procfs is a "+fault.Name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "proc")
			fault.Make(t, root)
			r := testutil.Run(t, bin, "--procfs", root, "-w", "5", "-t", "3")
			if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - ") || !strings.Contains(r.Stdout, root) || r.Stderr != "" || r.Elapsed > 3500*time.Millisecond {
				t.Errorf("exit %d after %s, %q (stderr %q)", r.Code, r.Elapsed, r.Stdout, r.Stderr)
			}
		})
	}
}

// A malformed pressure file, or one that is not a regular file, is an
// UNKNOWN naming it; the load is still reported.
func TestPressureFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_load")
	for _, fault := range faults[:5] {
		proc, sys := faultTree(t, "proc/pressure/io", fault.Make)
		r := testutil.Run(t, bin, "--procfs", proc, "--sysfs", sys, "-w", "5", "-t", "3")
		if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - total load average: 0.10, 0.20, 0.30 / "+proc+"/pressure/io: ") || r.Stderr != "" {
			t.Errorf("%s: exit %d, %q (stderr %q)", fault.Name, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// check_load is small and starts fast: it must not link the HTTP stack.
func TestNoNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/hindsight-plugins/hindsight/cmd/check_load").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || dep == "crypto/tls" {
			t.Errorf("check_load links %s", dep)
		}
	}
}

func TestBinaryOutput(t *testing.T) {
	bin := testutil.Binary(t, "check_load")
	tests := []struct {
		args  []string
		code  int
		first string
	}{
		{append(fixture("idle-2cpu"), "-w", "5,4,3", "-c", "10,8,6"), 0, "LOAD OK - total load average: 0.10, 0.20, 0.30 | load1=0.1;5;10;0 load5=0.2;4;8;0 load15=0.3;3;6;0 psi_cpu_some_avg10=1.5%;;;0;100"},
		{append(fixture("container-v2-quota"), "-r", "-w", "3,2,1.5", "-c", "5,4,3"), 2, "LOAD CRITICAL - scaled load average: 4.50, 4.00, 3.50 - total load average: 9.00, 8.00, 7.00 (2 CPUs) |"},
		{[]string{"-w", "5:1"}, 3, `LOAD UNKNOWN - invalid argument for flag -w, --warning`},
		{[]string{"--frobnicate"}, 3, "LOAD UNKNOWN - unknown flag frobnicate"},
	}
	for _, tt := range tests {
		r := testutil.Run(t, bin, tt.args...)
		if r.Code != tt.code || !strings.HasPrefix(r.Stdout, tt.first) || r.Stderr != "" {
			t.Errorf("%v: exit %d\n%s\nstderr %q\nwant exit %d, first line starting %q", tt.args, r.Code, r.Stdout, r.Stderr, tt.code, tt.first)
		}
	}
	r := testutil.Run(t, bin, "--help")
	if r.Code != 3 || !strings.Contains(r.Stdout, "Examples:\n  check_load -w 5,4,3 -c 10,8,6") || !strings.Contains(r.Stdout, "--psi-warning") {
		t.Errorf("--help: exit %d\n%s", r.Code, r.Stdout)
	}
	r = testutil.Run(t, bin, "--version")
	if r.Code != 3 || !strings.HasPrefix(r.Stdout, "check_load (hindsight) ") {
		t.Errorf("--version: exit %d %q", r.Code, r.Stdout)
	}
}

// The C plugin and ours read the same kernel numbers; the first line keeps
// the C plugin's words so scripts that grep it still work.
func TestSameWordsAsCPlugin(t *testing.T) {
	c := "/usr/lib/nagios/plugins/check_load"
	if _, err := os.Stat(c); err != nil {
		t.Skip("monitoring-plugins-basic not installed: " + err.Error())
	}
	out, _ := exec.Command(c, "-w", "500,400,300", "-c", "1000,800,600").Output()
	ours := testutil.Run(t, testutil.Binary(t, "check_load"), "-w", "500,400,300", "-c", "1000,800,600", "--no-state-file")
	prefix := "LOAD OK - total load average: "
	if !strings.HasPrefix(string(out), prefix) || !strings.HasPrefix(ours.Stdout, prefix) {
		t.Errorf("C: %q\nours: %q", out, ours.Stdout)
	}
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + t.Name() + " changes cgroups and CPU affinity of a child")
	}
}

// A real cgroup v1 CPU quota of half a CPU: -r must divide by 0.5.
func TestRealCgroupQuota(t *testing.T) {
	requireRoot(t)
	base := "/sys/fs/cgroup/cpu"
	v2 := false
	if _, err := os.Stat(filepath.Join(base, "cpu.cfs_quota_us")); err != nil {
		base, v2 = "/sys/fs/cgroup", true
		if _, err := os.Stat(filepath.Join(base, "cgroup.subtree_control")); err != nil {
			t.Skip("no cgroup v1 cpu controller and no cgroup v2 at /sys/fs/cgroup on this machine")
		}
	}
	dir := filepath.Join(base, "hindsight-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	if v2 {
		os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+cpu"), 0)
		if err := os.WriteFile(filepath.Join(dir, "cpu.max"), []byte("50000 100000"), 0); err != nil {
			t.Skip("cgroup v2 cpu controller not available here: " + err.Error())
		}
	} else {
		if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte("50000"), 0); err != nil {
			t.Fatal(err)
		}
	}
	bin := testutil.Binary(t, "check_load")
	// The shell moves itself into the cgroup, then becomes the plugin.
	out, err := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" -r -w 1000 -v --no-state-file`, "sh", dir, bin).Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "(0.5 CPUs) |") || !strings.Contains(string(out), "judged per CPU: 0.5 CPUs (cgroup quota 0.5 in ") {
		t.Errorf("quota of 0.5 CPU not honoured:\n%s", out)
	}
}

// Real CPU affinity: pinned to one CPU, -r divides by 1.
func TestRealAffinity(t *testing.T) {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		t.Skip("taskset (util-linux) not installed")
	}
	bin := testutil.Binary(t, "check_load")
	out, err := exec.Command(taskset, "-c", "0", bin, "-r", "-w", "1000", "-v", "--no-state-file").Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	online, _ := os.ReadFile("/sys/devices/system/cpu/online")
	want := "(1 CPUs) |"
	if strings.TrimSpace(string(online)) != "0" && !strings.Contains(string(out), "1 of ") {
		t.Errorf("affinity to one CPU not reported:\n%s", out)
	}
	if !strings.Contains(string(out), want) {
		t.Errorf("affinity to one CPU not honoured, want %q:\n%s", want, out)
	}
}

// -n on the live system: a CPU hog started here shows up among the top
// consumers, with its command line read through the isolated prober.
func TestRealTopConsumer(t *testing.T) {
	hog := exec.Command("sh", "-c", "while :; do :; done", "hindsight-hog")
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	defer hog.Process.Kill()
	time.Sleep(100 * time.Millisecond)
	bin := testutil.Binary(t, "check_load")
	r := testutil.Run(t, bin, "-w", "@0:", "-n", "10", "--sample-interval", "500ms", "--no-state-file")
	want := "pid " + strconv.Itoa(hog.Process.Pid) + " "
	if r.Code != 1 || !strings.Contains(r.Stdout, "CPU consumers:") || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "CPU: sh -c while :; do :; done hindsight-hog") {
		t.Errorf("the hog (pid %d) is not among the top consumers: exit %d\n%s", hog.Process.Pid, r.Code, r.Stdout)
	}
}
