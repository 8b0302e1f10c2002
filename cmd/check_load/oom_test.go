package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// hogEnv makes this test binary a memory hog (see TestMain): it waits for
// a byte on stdin, by which time it is in the test's cgroup, then
// allocates until the OOM killer ends it.
const hogEnv = "HINDSIGHT_OOM_HOG"

func TestMain(m *testing.M) {
	if os.Getenv(hogEnv) == "1" {
		os.Exit(hog())
	}
	os.Exit(m.Run())
}

// hog touches 1 MiB blocks, up to 1 GiB so that a limit that did not
// take cannot eat the machine.
func hog() int {
	var one [1]byte
	if _, err := os.Stdin.Read(one[:]); err != nil {
		return 2
	}
	var keep [][]byte
	for range 1024 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	runtime.KeepAlive(keep)
	return 0 // not killed: the caller sees exit 0 and fails
}

// memoryCgroup makes a cgroup limited to 32 MiB without swap: cgroup v2
// when it has the memory controller, else cgroup v1's memory hierarchy.
// It returns the directory, or why there is none.
func memoryCgroup(t *testing.T) (string, string) {
	name := "hs-oom-test-" + strconv.Itoa(os.Getpid())
	if ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && bytes.Contains(ctl, []byte("memory")) {
		os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0)
		dir := filepath.Join("/sys/fs/cgroup", name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", "cannot create a cgroup v2: " + err.Error()
		}
		t.Cleanup(func() { removeCgroup(dir) })
		if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte("32M"), 0); err != nil {
			return "", "cgroup v2 memory controller not usable here: " + err.Error()
		}
		os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0)
		return dir, ""
	}
	base := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(base, "memory.limit_in_bytes")); err != nil {
		return "", "no cgroup v2 memory controller and no cgroup v1 memory hierarchy on this machine"
	}
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "cannot create a cgroup v1 memory cgroup: " + err.Error()
	}
	t.Cleanup(func() { removeCgroup(dir) })
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte("32M"), 0); err != nil {
		return "", "cgroup v1 memory limit not usable here: " + err.Error()
	}
	os.WriteFile(filepath.Join(dir, "memory.memsw.limit_in_bytes"), []byte("32M"), 0)
	return dir, ""
}

// removeCgroup removes dir once the killed child has left it.
func removeCgroup(dir string) {
	for range 50 {
		if os.Remove(dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A real OOM kill: a child outgrows a 32 MiB cgroup and the kernel kills
// it. check_load run before and after with one state file turns WARNING,
// naming the child when the kernel log is readable (root).
func TestRealOOMKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + t.Name() + " creates a memory cgroup")
	}
	dir, why := memoryCgroup(t)
	if why != "" {
		t.Skip(why)
	}
	t.Logf("memory cgroup %s", dir)
	bin := testutil.Binary(t, "check_load")
	args := []string{"-w", "1000", "-t", "20", "--state-file", filepath.Join(t.TempDir(), "state.json")}
	r := testutil.Run(t, bin, args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "OOM kills: first run") || r.Stderr != "" {
		t.Fatalf("first run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), hogEnv+"=1")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	pid := child.Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("move the child into %s: %v", dir, err)
	}
	stdin.Write([]byte{1})
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		child.Process.Kill()
		t.Fatal("the child outgrowing 32 MiB was not killed within 60s")
	}
	if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not OOM-killed: %v", err)
	}

	r = testutil.Run(t, bin, args...)
	if r.Code != 1 || !strings.HasPrefix(r.Stdout, "LOAD WARNING - ") || !strings.Contains(r.Stdout, "since the last run (warning 0)") || r.Stderr != "" {
		t.Fatalf("second run: exit %d, want WARNING for the OOM kill\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if f, err := os.Open("/dev/kmsg"); err == nil {
		f.Close()
		if want := "(pid " + strconv.Itoa(pid) + ")"; !strings.Contains(r.Stdout, want) {
			t.Errorf("the kernel log is readable but the killed child is not named %q:\n%s", want, r.Stdout)
		}
	}
	t.Logf("second run:\n%s", r.Stdout)

	r = testutil.Run(t, bin, args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "no OOM kill since the last run") {
		t.Errorf("third run: exit %d, want OK again\n%s", r.Code, r.Stdout)
	}
}

// A vmstat made into each fault: UNKNOWN naming it, the load still
// reported, within -t. A dangling symlink reads as no vmstat (a -v note,
// as in a fixture tree without one).
func TestVmstatFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_load")
	for _, fault := range faults {
		if strings.Contains(fault.Name, "dangling") {
			continue
		}
		t.Run(fault.Name, func(t *testing.T) {
			proc, _ := faultTree(t, "proc/vmstat", fault.Make)
			r := testutil.Run(t, bin, "--procfs", proc, "-w", "5", "-t", "3", "--no-state-file")
			path := filepath.Join(proc, "vmstat")
			if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - total load average: ") || !strings.Contains(strings.SplitN(r.Stdout, "\n", 2)[0], path) || r.Stderr != "" {
				t.Errorf("exit %d, %q (stderr %q); want UNKNOWN naming %s", r.Code, r.Stdout, r.Stderr, path)
			}
			if r.Elapsed > 3500*time.Millisecond {
				t.Errorf("took %s with -t 3", r.Elapsed)
			}
		})
	}
}
