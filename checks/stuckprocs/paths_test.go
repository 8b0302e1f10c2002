package stuckprocs

import (
	"fmt"
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
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// fakeProc is one process of a generated procfs tree.
type fakeProc struct {
	pid     int
	comm    string
	state   string
	args    []string
	lastRan time.Duration // for a task in D
}

// writeProcfs writes a procfs tree of procs, with this plugin as pid
// 4000 and a hung-task count of hung.
func writeProcfs(t testing.TB, root string, hung int, procs ...fakeProc) {
	t.Helper()
	put := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("stat", "cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1700000000\n")
	put("thread-self/sched", "se.exec_start : 999999000.000000\n")
	put("sys/kernel/hung_task_detect_count", strconv.Itoa(hung)+"\n")
	os.Symlink("4000", filepath.Join(root, "self"))
	procs = append(procs, fakeProc{pid: 4000, comm: "check_stuck_pro", state: "R", args: []string{"check_stuck_procs"}})
	for _, p := range procs {
		dir := strconv.Itoa(p.pid)
		put(dir+"/stat", fmt.Sprintf("%d (%s) %s 1 %d %d 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 %d 10485760 256"+
			" 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", p.pid, p.comm, p.state, p.pid, p.pid, 1000+p.pid))
		put(dir+"/cmdline", strings.Join(p.args, "\x00")+"\x00")
		put(dir+"/status", "Name:\t"+p.comm+"\nUid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n")
		if p.state == "D" {
			put(dir+"/sched", fmt.Sprintf("se.exec_start : %d.000000\n", 999999000-p.lastRan.Milliseconds()))
			put(dir+"/schedstat", "1203300 0 1\n")
			put(dir+"/wchan", "request_wait_answer")
		}
	}
}

func fixedArgs(root string, more ...string) []string {
	return append([]string{"--procfs", root, "--now", fixtureNow, "--kmsg", filepath.Join(testdata, "kmsg.txt")}, more...)
}

// At most 8 command lines of processes in D are read through the prober
// in one run; the state file remembers them, so the next run reads the
// rest.
func TestCmdlineReadsAreCapped(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	var procs []fakeProc
	for i := range 12 {
		procs = append(procs, fakeProc{pid: 100 + i, comm: "stuck" + strconv.Itoa(i), state: "D", args: []string{"/bin/stuck", strconv.Itoa(i)}, lastRan: 10 * time.Minute})
	}
	writeProcfs(t, root, 0, procs...)
	statePath := filepath.Join(t.TempDir(), "s.json")
	code, out := runFixture(t, fixedArgs(root, "--state-file", statePath, "-v")...)
	if code != 2 || !strings.Contains(out, "command lines of processes in D: 8 read through the prober, 4 not (at most 8 a run): named by comm") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if n := strings.Count(out, "): /bin/stuck "); n != 8 {
		t.Errorf("%d command lines shown, want 8:\n%s", n, out)
	}
	code, out = runFixture(t, fixedArgs(root, "--state-file", statePath, "-v")...)
	if !strings.Contains(out, "command lines of processes in D: 4 read through the prober\n") || strings.Count(out, "): /bin/stuck ") != 12 {
		t.Errorf("second run did not read the rest: exit %d\n%s", code, out)
	}
	code, out = runFixture(t, fixedArgs(root, "--state-file", statePath, "-v")...)
	if strings.Contains(out, "read through the prober") || strings.Count(out, "): /bin/stuck ") != 12 {
		t.Errorf("third run read command lines again: exit %d\n%s", code, out)
	}
}

// Our own probe children (any hindsight plugin's) stuck in D are neither
// reported nor counted, and the next run does not read them again.
func TestProbeChildrenLeftOutOfFixture(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	writeProcfs(t, root, 0,
		fakeProc{pid: 50, comm: "check_blockdev", state: "D", args: []string{"check_blockdev", "__hindsight_probe__", "/var/tmp/hindsight-0/probes"}, lastRan: time.Hour},
		fakeProc{pid: 51, comm: "blockdev.test", state: "D", args: []string{"blockdev.test", "__hindsight_probe__"}, lastRan: time.Hour},
		fakeProc{pid: 60, comm: "df", state: "D", args: []string{"df", "/mnt"}, lastRan: time.Hour})
	statePath := filepath.Join(t.TempDir(), "s.json")
	for run := 1; run <= 2; run++ {
		code, out := runFixture(t, fixedArgs(root, "--state-file", statePath, "-v")...)
		if code != 2 || !strings.Contains(out, "STUCK CRITICAL - 1 process in D for >5m: df (pid 60") || !strings.Contains(out, "procs_d=1;") ||
			!strings.Contains(out, "left out: 2 probe children of hindsight in D") || strings.Contains(out, "pid 50") || strings.Contains(out, "pid 51") {
			t.Errorf("run %d: exit %d\n%s", run, code, out)
		}
		if run == 2 && strings.Contains(out, "read through the prober") {
			t.Errorf("run 2 read command lines again:\n%s", out)
		}
	}
}

// A file of the tree that is huge, or not a file: a bounded error, never
// an out-of-memory crash.
func TestHugeFilesInTree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	writeProcfs(t, root, 0, fakeProc{pid: 60, comm: "df", state: "S", args: []string{"df"}})
	os.MkdirAll(filepath.Join(root, "61"), 0o755)
	sparse(t, filepath.Join(root, "61", "stat"), 1<<30)
	os.MkdirAll(filepath.Join(root, "62"), 0o755)
	syscall.Mkfifo(filepath.Join(root, "62", "stat"), 0o644)
	os.MkdirAll(filepath.Join(root, "63"), 0o755)
	os.Symlink("/dev/zero", filepath.Join(root, "63", "stat"))
	code, out := runFixture(t, fixedArgs(root, "--no-state-file", "-v")...)
	for _, w := range []string{"STUCK OK - 1 process,", "3 unreadable", "61/stat: larger than the 4 MiB limit", "62/stat: is a FIFO", "63/stat: is a character device"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q (exit %d):\n%s", w, code, out)
		}
	}
	sparse(t, filepath.Join(root, "stat"), 1<<30)
	code, out = runFixture(t, fixedArgs(root, "--no-state-file")...)
	if code != 3 || !strings.Contains(out, "STUCK UNKNOWN - "+root+"/stat: larger than the 4 MiB limit for /proc or /sys files (--procfs)") {
		t.Errorf("a 1 GiB stat: exit %d\n%s", code, out)
	}
}

func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// badPaths are the files a path option can be given by mistake or by a
// broken system, by name.
func badPaths(t *testing.T) map[string]string {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	sparse(t, big, 1<<30)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	empty := filepath.Join(dir, "emptydir")
	os.Mkdir(empty, 0o755)
	return map[string]string{"FIFO": fifo, "/dev/zero": "/dev/zero", "/dev/urandom": "/dev/urandom", "1 GiB sparse file": big,
		"directory": empty, "symlink loop": loop, "dangling symlink": dangling}
}

// oneLine checks the plugin contract of a run: one status line naming
// path, nothing on stderr, done within -t and a half.
func oneLine(t *testing.T, res testutil.Result, timeout time.Duration, state, path string) {
	t.Helper()
	first := strings.SplitN(res.Stdout, "\n", 2)[0]
	if !strings.HasPrefix(first, "STUCK "+state+" - ") || !strings.Contains(res.Stdout, path) {
		t.Errorf("exit %d, want %s naming %s:\n%s", res.Code, state, path, res.Stdout)
	}
	if res.Stderr != "" {
		t.Errorf("stderr: %s", res.Stderr)
	}
	if res.Elapsed > timeout+500*time.Millisecond {
		t.Errorf("took %s with -t %s", res.Elapsed, timeout)
	}
}

func TestProcfsBadPaths(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	for kind, path := range badPaths(t) {
		t.Run(kind, func(t *testing.T) {
			res := runBin(t, bin, "--procfs", path, "--no-state-file", "-t", "3")
			if res.Code != 3 || strings.Count(res.Stdout, "\n") != 1 || !strings.Contains(res.Stdout, "(--procfs)") {
				t.Errorf("exit %d:\n%s", res.Code, res.Stdout)
			}
			oneLine(t, res, 3*time.Second, "UNKNOWN", path)
		})
	}
}

func TestStateFileBadPaths(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	for kind, path := range badPaths(t) {
		t.Run(kind, func(t *testing.T) {
			res := runBin(t, bin, "--procfs", fixture("healthy"), "--state-file", path, "-t", "3")
			if kind == "dangling symlink" {
				// No state yet: the first run writes it, replacing the link.
				oneLine(t, res, 3*time.Second, "OK", "")
				return
			}
			oneLine(t, res, 3*time.Second, "UNKNOWN", path)
			if !strings.Contains(res.Stdout, "durations in D across runs and hung-task growth is off") {
				t.Errorf("does not say what is off:\n%s", res.Stdout)
			}
		})
	}
	t.Run("unwritable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "theirs")
		os.Mkdir(dir, 0o700)
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Skip(err)
		}
		path := filepath.Join(dir, "s.json")
		res := runBin(t, bin, "--procfs", fixture("healthy"), "--state-file", path, "-t", "3")
		oneLine(t, res, 3*time.Second, "UNKNOWN", path)
		if !strings.Contains(res.Stdout, "not written") || !strings.Contains(res.Stdout, "is off") {
			t.Errorf("does not say what is off:\n%s", res.Stdout)
		}
	})
}

// --kmsg is read only when the hung-task count grew; a bad one is a
// finding naming it at every run.
func TestKmsgBadPaths(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	root := filepath.Join(t.TempDir(), "proc")
	writeProcfs(t, root, 3)
	one := uint64(1)
	for kind, path := range badPaths(t) {
		t.Run(kind, func(t *testing.T) {
			statePath := filepath.Join(t.TempDir(), "s.json")
			if err := state.Save(statePath, stateKind, stateVersion, saved{BootTime: 1700000000, HungCount: &one}); err != nil {
				t.Fatal(err)
			}
			res := runBin(t, bin, "--procfs", root, "--now", fixtureNow, "--state-file", statePath, "--kmsg", path, "-t", "3")
			oneLine(t, res, 3*time.Second, "WARNING", path)
			if !strings.Contains(res.Stdout, "[UNKNOWN] the kernel's hung-task reports are not quoted: "+path) {
				t.Errorf("no finding for the kernel log:\n%s", res.Stdout)
			}
		})
	}
	// Not needed, not read, but a --kmsg that could never be read is said
	// at every run (one stat), not first on the day a task hangs.
	res := runBin(t, bin, "--procfs", root, "--now", fixtureNow, "--no-state-file", "--kmsg", "/dev/zero", "-t", "3")
	oneLine(t, res, 3*time.Second, "UNKNOWN", "/dev/zero")
}

// --procfs, --state-file and --kmsg on a FUSE mount: read through the
// prober, the same verdict as off it; when the mount hangs, UNKNOWN
// naming it within -t.
func TestPathsOnFuse(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_stuck_procs")
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	os.Mkdir(backing, 0o755)
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("cp", "-a", filepath.Join(testdata, "busy", "."), backing).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if out, err := exec.Command("cp", filepath.Join(testdata, "kmsg.txt"), backing).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	defer fs.Close()
	args := func(root, kmsg string) []string {
		return []string{"--procfs", root, "--now", fixtureNow, "--no-state-file", "--kmsg", kmsg, "-t", "4"}
	}
	want := runBin(t, bin, args(filepath.Join(backing, "proc"), filepath.Join(backing, "kmsg.txt"))...)
	got := runBin(t, bin, args(filepath.Join(mnt, "proc"), filepath.Join(mnt, "kmsg.txt"))...)
	if got.Code != want.Code || strings.ReplaceAll(got.Stdout, mnt, backing) != want.Stdout {
		t.Errorf("on FUSE:\n%s\noff it:\n%s", got.Stdout, want.Stdout)
	}

	one := uint64(1)
	statePath := filepath.Join(mnt, "s.json")
	if err := state.Save(filepath.Join(backing, "s.json"), stateKind, stateVersion, saved{BootTime: 1700000000, HungCount: &one}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{fusetest.OpGetattr, fusetest.OpLookup, fusetest.OpReaddir, fusetest.OpOpen, fusetest.OpRead} {
		fs.Set(op, fusetest.Hang)
	}
	defer fs.Release()
	res := runBin(t, bin, args(filepath.Join(mnt, "proc"), "/dev/kmsg")...)
	oneLine(t, res, 4*time.Second, "UNKNOWN", mnt)
	res = runBin(t, bin, "--procfs", fixture("healthy"), "--state-file", statePath, "-t", "4")
	oneLine(t, res, 4*time.Second, "UNKNOWN", statePath)
	local := filepath.Join(t.TempDir(), "s.json")
	if err := state.Save(local, stateKind, stateVersion, saved{BootTime: 1700000000, HungCount: &one}); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "proc")
	writeProcfs(t, root, 3)
	res = runBin(t, bin, "--procfs", root, "--now", fixtureNow, "--state-file", local, "--kmsg", filepath.Join(mnt, "kmsg.txt"), "-t", "4")
	oneLine(t, res, 4*time.Second, "WARNING", filepath.Join(mnt, "kmsg.txt"))
}
