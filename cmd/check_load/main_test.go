package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

func fixture(name string) []string {
	root := filepath.Join("..", "..", "testdata", "load", name)
	return []string{"--procfs", filepath.Join(root, "proc"), "--sysfs", filepath.Join(root, "sys")}
}

// The deadline, for real: /proc/loadavg is a FIFO nobody writes, so
// opening it blocks. The binary must print one line naming what it was
// reading and exit within the timeout plus 200 ms, with the timeout state.
func TestDeadlineOnBlockingRead(t *testing.T) {
	bin := testutil.Binary(t, "check_load")
	proc := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(proc, "loadavg"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		code  int
		state string
		after string
		limit time.Duration
	}{
		{[]string{"-t", "1"}, 3, "UNKNOWN", "1s", time.Second},
		{[]string{"-t", "1:CRITICAL"}, 2, "CRITICAL", "1s", time.Second},
		{[]string{"-t", "0.5", "--timeout-result", "warning"}, 1, "WARNING", "500ms", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		r := testutil.Run(t, bin, append([]string{"--procfs", proc, "-w", "5"}, tt.args...)...)
		want := "LOAD " + tt.state + " - timed out after " + tt.after + " while reading " + proc + "/loadavg\n"
		if r.Code != tt.code || r.Stdout != want || r.Stderr != "" {
			t.Errorf("%v: exit %d, %q (stderr %q); want %d, %q", tt.args, r.Code, r.Stdout, r.Stderr, tt.code, want)
		}
		if r.Elapsed > tt.limit+200*time.Millisecond {
			t.Errorf("%v: took %v, deadline %v", tt.args, r.Elapsed, tt.limit)
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
		{[]string{"-w", "5:1"}, 3, `LOAD UNKNOWN - invalid threshold list "5:1": invalid range "5:1": start is greater than end`},
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
	ours := testutil.Run(t, testutil.Binary(t, "check_load"), "-w", "500,400,300", "-c", "1000,800,600")
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
	out, err := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" -r -w 1000 -v`, "sh", dir, bin).Output()
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
	out, err := exec.Command(taskset, "-c", "0", bin, "-r", "-w", "1000", "-v").Output()
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
	r := testutil.Run(t, bin, "-w", "@0:", "-n", "10", "--sample-interval", "500ms")
	want := "pid " + strconv.Itoa(hog.Process.Pid) + " "
	if r.Code != 1 || !strings.Contains(r.Stdout, "CPU consumers:") || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "CPU: sh -c while :; do :; done hindsight-hog") {
		t.Errorf("the hog (pid %d) is not among the top consumers: exit %d\n%s", hog.Process.Pid, r.Code, r.Stdout)
	}
}
