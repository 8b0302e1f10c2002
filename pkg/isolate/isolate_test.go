package isolate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// The test binary doubles as the probe child and as a plugin binary.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	if os.Getenv("HINDSIGHT_TEST_REPLACED_SELF") != "" {
		os.Exit(probeAfterReplacingSelf())
	}
	if mnt := os.Getenv("HINDSIGHT_TEST_STATFS_PLUGIN"); mnt != "" {
		os.Args = append([]string{"check_mount"}, os.Args[1:]...)
		os.Exit(plugin.Main(statfsPlugin(mnt), os.Exit))
	}
	os.Exit(m.Run())
}

type statfsCheck struct{ mount string }

func (c *statfsCheck) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	var r plugin.Result
	done := env.Begin("statfs " + c.mount)
	defer done()
	_, err := env.Prober().Do(ctx, env.Budget(0.5), isolate.Request{Op: isolate.Statfs, Path: c.mount})
	if err != nil {
		r.Add(plugin.CRITICAL, "mount "+err.Error())
		return r, nil
	}
	r.Add(plugin.OK, "mount "+c.mount+" answered")
	return r, nil
}

func statfsPlugin(mnt string) plugin.Plugin {
	return plugin.Plugin{Name: "check_mount", Service: "MOUNT", New: func() plugin.Check { return &statfsCheck{mount: mnt} }}
}

func prober(t *testing.T) *isolate.Prober {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return isolate.NewProberFor(exe, t.TempDir())
}

func TestOperations(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a b"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, ctx := prober(t), context.Background()

	r, err := p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Statfs, Path: dir})
	if err != nil || r.Statfs.Blocks == 0 || r.Statfs.Bsize == 0 {
		t.Errorf("statfs: %+v, %v", r.Statfs, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Stat, Path: dir})
	if err != nil || r.Stat.Mode&syscall.S_IFDIR == 0 || r.Stat.Mtime.IsZero() {
		t.Errorf("stat: %+v, %v", r.Stat, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Readdir, Path: dir})
	if err != nil || len(r.Names) != 1 || r.Names[0] != "a b" {
		t.Errorf("readdir: %q, %v", r.Names, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Read, Path: filepath.Join(dir, "a b"), Max: 3})
	if err != nil || string(r.Data) != "hel" {
		t.Errorf("read: %q, %v", r.Data, err)
	}
	if _, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.WriteTest, Path: dir}); err != nil {
		t.Errorf("write-test: %v", err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("write-test left files behind: %v", names)
	}
	_, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Stat, Path: filepath.Join(dir, "missing")})
	var opErr *isolate.OpError
	if !errors.As(err, &opErr) || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "stat "+dir+"/missing: no such file or directory") {
		t.Errorf("stat of a missing file: %v", err)
	}
}

// A FIFO nobody writes blocks open(2) for real: the probe must give up
// within its budget and say what did not answer.
func TestTimeoutOnBlockingOpen(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := prober(t).Do(context.Background(), 300*time.Millisecond, isolate.Request{Op: isolate.Read, Path: fifo})
	elapsed := time.Since(start)
	if !errors.Is(err, isolate.ErrTimeout) || err.Error() != "read "+fifo+": no answer within 300ms" {
		t.Fatalf("want a timeout, got %v", err)
	}
	if elapsed > 500*time.Millisecond {
		t.Errorf("timeout took %v, budget 300ms", elapsed)
	}
}

func TestContextCancelStopsWaiting(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := prober(t).Do(ctx, 10*time.Second, isolate.Request{Op: isolate.Read, Path: fifo})
	if !errors.Is(err, isolate.ErrTimeout) || time.Since(start) > 500*time.Millisecond {
		t.Errorf("context deadline not honoured: %v after %v", err, time.Since(start))
	}
}

// The case a goroutine cannot handle: a FUSE statfs the daemon has taken
// and never answers. The prober reports it within budget, and the plugin
// binary exits and closes its stdout within -t, measured from the caller.
func TestHungFUSEStatfs(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the hung-FUSE test: " + why)
	}
	backing, mnt := t.TempDir(), t.TempDir()
	ffs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	ffs.Set(fusetest.OpStatfs, fusetest.Hang)

	start := time.Now()
	_, err = prober(t).Do(context.Background(), time.Second, isolate.Request{Op: isolate.Statfs, Path: mnt})
	if !errors.Is(err, isolate.ErrTimeout) || time.Since(start) > 1300*time.Millisecond {
		t.Fatalf("prober: %v after %v, want a timeout within 1s", err, time.Since(start))
	}

	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-t", "2")
	cmd.Env = append(os.Environ(), "HINDSIGHT_TEST_STATFS_PLUGIN="+mnt)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(stdout) // returns when every holder of the pipe is gone
	released := time.Since(start)
	err = cmd.Wait()
	if released > 2200*time.Millisecond {
		t.Errorf("caller blocked on the plugin's stdout for %v, deadline 2s", released)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("exit: %v, want CRITICAL (2)", err)
	}
	want := "MOUNT CRITICAL - mount statfs " + mnt + ": no answer within 1s\n"
	if string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// One child runs statfs, stat and readdir in order; the reply holds all
// three, and a failure names the operation that failed.
func TestSequenceInOneChild(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	p, ctx := prober(t), context.Background()
	r, err := p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Statfs, Path: dir, Then: []isolate.Op{isolate.Stat, isolate.Readdir}})
	if err != nil || r.Statfs.Blocks == 0 || r.Stat.Mode&syscall.S_IFDIR == 0 || len(r.Names) != 1 {
		t.Fatalf("sequence: %+v, %v", r, err)
	}
	file := filepath.Join(dir, "f")
	_, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Stat, Path: file, Then: []isolate.Op{isolate.Readdir, isolate.Statfs}})
	var opErr *isolate.OpError
	if !errors.As(err, &opErr) || opErr.Req.Op != isolate.Readdir || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("readdir of a file in a sequence: %v", err)
	}
}

// A hang in the second operation of a sequence is reported as that one.
func TestSequenceHangNamesTheOperation(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the hung-FUSE sequence test: " + why)
	}
	mnt := t.TempDir()
	ffs, err := fusetest.Mount(t.TempDir(), mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	ffs.Set(fusetest.OpReaddir, fusetest.Hang)
	start := time.Now()
	r, err := prober(t).Do(context.Background(), time.Second, isolate.Request{Op: isolate.Statfs, Path: mnt, Then: []isolate.Op{isolate.Readdir, isolate.Stat}})
	var te *isolate.TimeoutError
	if !errors.As(err, &te) || te.Req.Op != isolate.Readdir || err.Error() != "readdir "+mnt+": no answer within 1s" || te.Pid == 0 {
		t.Fatalf("want a timeout naming readdir, got %v", err)
	}
	if r.Statfs.Bsize == 0 {
		t.Errorf("the statfs that answered before the hang is lost: %+v", r.Statfs)
	}
	if el := time.Since(start); el > 1300*time.Millisecond {
		t.Errorf("took %v, budget 1s", el)
	}
}

// A target whose child is stuck is not probed again, by this prober or
// another one sharing the lock directory (another run, another plugin):
// the error says since when, at once, and no second child joins the first.
func TestStuckTargetNotProbedAgain(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the stuck-target test: " + why)
	}
	mnt := t.TempDir()
	ffs, err := fusetest.Mount(t.TempDir(), mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	ffs.Set(fusetest.OpStatfs, fusetest.Hang)
	exe, _ := os.Executable()
	locks := t.TempDir()
	req := isolate.Request{Op: isolate.Statfs, Path: mnt}
	_, err = isolate.NewProberFor(exe, locks).Do(context.Background(), time.Second, req)
	var first *isolate.TimeoutError
	if !errors.As(err, &first) || !first.Since.IsZero() || first.Pid == 0 {
		t.Fatalf("first probe: %v", err)
	}
	if !ffs.WaitHeld(1, 2*time.Second) {
		t.Fatal("the hung statfs was never taken by the filesystem")
	}
	// Executed through /proc/self/exe, the child names itself after the
	// plugin, so ps and check_stuck_procs show "check_x", not "exe".
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", first.Pid)); strings.TrimSpace(string(comm)) != filepath.Base(exe) {
		t.Errorf("stuck child's comm %q, want %q", comm, filepath.Base(exe))
	}
	for i := 0; i < 3; i++ {
		start := time.Now()
		_, err = isolate.NewProberFor(exe, locks).Do(context.Background(), time.Second, isolate.Request{Op: isolate.Stat, Path: mnt, Target: mnt})
		var again *isolate.TimeoutError
		if !errors.As(err, &again) || again.Since.IsZero() || again.Pid != first.Pid {
			t.Fatalf("probe %d of a stuck target: %v", i+2, err)
		}
		if el := time.Since(start); el > 200*time.Millisecond {
			t.Errorf("probe %d of a stuck target took %v: it should not wait", i+2, el)
		}
		if !strings.Contains(err.Error(), "hung since ") {
			t.Errorf("message does not say since when: %v", err)
		}
	}
	// SIGKILL wakes the child, which enters D only when next scheduled:
	// on a loaded machine that can be after the probes above.
	n := probeChildren(t, exe)
	for end := time.Now().Add(3 * time.Second); n == 0 && time.Now().Before(end); n = probeChildren(t, exe) {
		time.Sleep(20 * time.Millisecond)
	}
	if n != 1 {
		t.Errorf("%d probe children of this test binary in D, want the one stuck", n)
	}
	ffs.Release()
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err = isolate.NewProberFor(exe, locks).Do(context.Background(), time.Second, req)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("after the filesystem answered again: %v", err)
	}
}

// probeChildren counts the processes running exe in probe mode that are
// in uninterruptible sleep.
func probeChildren(t *testing.T, exe string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmd), "\x00")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		inD := strings.Contains(string(stat), ") D ")
		if len(args) > 1 && args[1] == "__hindsight_probe__" && inD {
			if target, _ := os.Readlink("/proc/" + e.Name() + "/exe"); target == exe {
				n++
			}
		}
	}
	return n
}

// Requests on one target reuse one child; Walk and ReadFile answer.
func TestSessionWalkAndReadFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "f.pem"), []byte("0123456789"), 0o644)
	os.Symlink("nowhere", filepath.Join(dir, "a", "dangling"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	p, ctx := prober(t), context.Background()
	defer p.Close()
	r, err := p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Walk, Path: dir, Target: dir})
	if err != nil || len(r.Entries) != 6 {
		t.Fatalf("walk: %+v, %v", r.Entries, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Walk, Path: dir, Target: dir, Depth: 1})
	if err != nil || len(r.Entries) != 3 { // dir, a, fifo
		t.Errorf("walk of depth 1: %+v, %v", r.Entries, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.Walk, Path: dir, Target: dir, Max: 2})
	if err != nil || len(r.Entries) != 2 || !r.Truncated {
		t.Errorf("walk of at most 2: %+v %v, %v", r.Entries, r.Truncated, err)
	}
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.ReadFile, Path: filepath.Join(dir, "a", "f.pem"), Target: dir, Max: 4})
	if err != nil || string(r.Data) != "01234" || r.Stat.Size != 10 {
		t.Errorf("read-file over its max must give max+1 bytes: %q %+v, %v", r.Data, r.Stat, err)
	}
	start := time.Now()
	r, err = p.Do(ctx, 5*time.Second, isolate.Request{Op: isolate.ReadFile, Path: filepath.Join(dir, "fifo"), Target: dir})
	if err != nil || r.Data != nil || r.Stat.Mode&syscall.S_IFMT != syscall.S_IFIFO || time.Since(start) > time.Second {
		t.Errorf("read-file of a FIFO must not block and must say what it is: %+v, %v", r.Stat, err)
	}
}

// probeAfterReplacingSelf is a copy of the test binary that replaces the
// file it was started from by something else, as a package upgrade does
// mid-run, then probes: the child must still be this program.
func probeAfterReplacingSelf() int {
	self := os.Args[0]
	if err := os.Remove(self); err != nil {
		return 10
	}
	if err := os.WriteFile(self, []byte("#!/bin/sh\necho not the plugin\nexit 42\n"), 0o755); err != nil {
		return 11
	}
	p := isolate.NewProber("")
	defer p.Close()
	r, err := p.Do(context.Background(), 5*time.Second, isolate.Request{Op: isolate.Stat, Path: "/"})
	if err != nil || r.Stat.Mode&syscall.S_IFDIR == 0 {
		os.Stdout.WriteString("probe: " + fmt.Sprint(err) + "\n")
		return 12
	}
	return 0
}

// During a package upgrade the binary's path holds the new version while
// the old one runs: the child is re-executed through /proc/self/exe, the
// running program, never whatever is at the path now.
func TestChildIsTheRunningBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "check_upgraded")
	if err := os.WriteFile(copied, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copied)
	cmd.Env = append(os.Environ(), "HINDSIGHT_TEST_REPLACED_SELF=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("probe after the binary was replaced: %v\n%s", err, out)
	}
}
