package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// fuseFixture mounts a fault-injecting FUSE filesystem whose backing
// directory holds a copy of the idle-2cpu fixture (proc, sys).
func fuseFixture(t *testing.T) *fusetest.FS {
	t.Helper()
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	must(t, os.Mkdir(backing, 0o755))
	src := filepath.Join("..", "..", "testdata", "load", "idle-2cpu")
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "proc"), filepath.Join(src, "sys"), backing).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v\n%s", err, out)
	}
	fsys, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// dStateOf lists the processes in D whose command line holds pattern.
func dStateOf(t *testing.T, pattern string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(pattern)) {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && bytes.Contains(st, []byte(") D ")) {
			out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

// --procfs on a mount that stopped answering: the plugin answers within
// -t naming the file, from the prober, and what is left stuck in D is a
// probe child that does not hold the caller's pipe (Elapsed is measured
// until every holder closed it). The second run does not try again.
func TestHungProcfsMount(t *testing.T) {
	fsys := fuseFixture(t)
	bin := testutil.Binary(t, "check_load")
	proc := filepath.Join(fsys.Mountpoint, "proc")
	fsys.Set("all", fusetest.Hang)
	for i, want := range []string{"no answer within", "hung since"} {
		r := testutil.Run(t, bin, "--procfs", proc, "-w", "5", "-t", "3")
		if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - --procfs "+proc+": ") || !strings.Contains(r.Stdout, want) || r.Stderr != "" {
			t.Errorf("run %d: exit %d, %q (stderr %q); want UNKNOWN naming %s, saying %q", i+1, r.Code, r.Stdout, r.Stderr, proc, want)
		}
		if r.Elapsed > 3*time.Second {
			t.Errorf("run %d: the caller's pipe was released after %s with -t 3", i+1, r.Elapsed)
		}
	}
	sys := filepath.Join(fsys.Mountpoint, "sys")
	r := testutil.Run(t, bin, "--sysfs", sys, "-r", "-w", "5", "-t", "3")
	if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - --sysfs "+sys+": ") || r.Stderr != "" || r.Elapsed > 3*time.Second {
		t.Errorf("--sysfs: exit %d after %s, %q (stderr %q)", r.Code, r.Elapsed, r.Stdout, r.Stderr)
	}
	for _, p := range dStateOf(t, bin) {
		if !strings.Contains(p, "__hindsight_probe__") {
			t.Errorf("a plugin process, not a probe child, is in D: %s", p)
		}
	}
}

// lxcfs mounts its FUSE /proc/loadavg over the real one in LXC
// containers: the file is read in the prober, and works; hung, it is an
// UNKNOWN naming it within -t while the rest of /proc is read in-process.
func TestLoadavgMountedOverFromFUSE(t *testing.T) {
	fsys := fuseFixture(t)
	bin := testutil.Binary(t, "check_load")
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "load", "idle-2cpu")
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "proc"), filepath.Join(src, "sys"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v\n%s", err, out)
	}
	must(t, os.WriteFile(filepath.Join(fsys.Backing, "proc", "loadavg"), []byte("1.50 1.25 1.00 2/300 4242\n"), 0o644))
	target := filepath.Join(dir, "proc", "loadavg")
	if err := syscall.Mount(filepath.Join(fsys.Mountpoint, "proc", "loadavg"), target, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(target, syscall.MNT_DETACH) })
	args := []string{"--procfs", filepath.Join(dir, "proc"), "--sysfs", filepath.Join(dir, "sys"), "-t", "3", "-r", "-w", "5"}
	r := testutil.Run(t, bin, args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "total load average: 1.50, 1.25, 1.00 (2 CPUs)") || r.Stderr != "" {
		t.Errorf("through the FUSE file: exit %d, %q (stderr %q)", r.Code, r.Stdout, r.Stderr)
	}
	fsys.Set("all", fusetest.Hang)
	r = testutil.Run(t, bin, args...)
	if r.Code != 3 || !strings.HasPrefix(r.Stdout, "LOAD UNKNOWN - "+target+": ") || r.Stderr != "" || r.Elapsed > 3*time.Second {
		t.Errorf("hung FUSE file: exit %d after %s, %q (stderr %q)", r.Code, r.Elapsed, r.Stdout, r.Stderr)
	}
}
