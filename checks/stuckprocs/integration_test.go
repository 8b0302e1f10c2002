package stuckprocs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Integration tests: real processes on this machine, judged by the built
// plugin binary. The machine may have other stuck processes (other
// tests'), so assertions name our own processes, never the whole verdict.

// copyExe copies an executable under a chosen name: a process with that
// comm, exe and argv[0].
func copyExe(t *testing.T, src, name string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	in, err := os.Open(src)
	if err != nil {
		t.Skipf("%s: %v", src, err)
	}
	defer in.Close()
	dst := filepath.Join(dir, name)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// start runs a command and kills and reaps it at the end of the test.
func start(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// waitState waits until pid shows state in /proc/PID/stat.
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil {
			if i := strings.LastIndexByte(string(data), ')'); i > 0 && len(data) > i+2 && data[i+2] == state {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pid %d never reached state %c", pid, state)
}

func expect(t *testing.T, res testutil.Result, minCode int, want ...string) {
	t.Helper()
	if res.Code < minCode || res.Code > 2 {
		t.Errorf("exit %d, want at least %d\n%s%s", res.Code, minCode, res.Stdout, res.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(res.Stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, res.Stdout)
		}
	}
}

func TestRealZombie(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	exe := copyExe(t, "/bin/true", "hs-zombie-test")
	cmd := exec.Command(exe)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() }) // reaped only at the end: a zombie until then
	waitState(t, cmd.Process.Pid, 'Z')

	res := runBin(t, bin, "--no-state-file", "-C", "hs-zombie-test", "-s", "Z", "-w", "0", "--zombie-warning", "0")
	expect(t, res, 1, "1 process with command name 'hs-zombie-test', status 'Z'",
		fmt.Sprintf("of stuckprocs.test (pid %d)", os.Getpid()))
}

// vforkHelper compiles a program whose parent vfork()s a child that
// sleeps: the parent sits in D (killable) until the child exits.
func vforkHelper(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed: needed to build the vfork helper")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "vfork.c")
	os.WriteFile(src, []byte(`#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	pid_t p = vfork();
	if (p == 0) { sleep(argc > 1 ? atoi(argv[1]) : 60); _exit(0); }
	return p < 0;
}
`), 0o644)
	out := filepath.Join(dir, "hs-vfork-d")
	if msg, err := exec.Command(gcc, "-O2", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, msg)
	}
	return out
}

func TestRealDState(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	cmd := start(t, vforkHelper(t), "60")
	pid := cmd.Process.Pid
	waitState(t, pid, 'D')
	time.Sleep(100 * time.Millisecond) // in D for longer than --d-warning

	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "--d-critical", "1h", "-s", "D", "-C", "hs-vfork-d", "-c", "0", "-v",
		"--sample-interval", "200ms")
	expect(t, res, 1,
		"counters frozen over 200ms",
		fmt.Sprintf("hs-vfork-d (pid %d, user %s, D for ", pid, currentUser(t)),
		"wchan kernel_clone): "+cmd.Path+" 60\n", // the cmdline, read through the prober
		"1 process with command name 'hs-vfork-d', status 'D'",
		fmt.Sprintf("hs-vfork-d in D: pid %d: last ran ", pid))
}

// The state file carries a duration across runs: the second run, two
// hours later by its clock, knows since when the task has been in D.
func TestRealStateFileAcrossRuns(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	cmd := start(t, vforkHelper(t), "60")
	pid := cmd.Process.Pid
	waitState(t, pid, 'D')
	stateFile := filepath.Join(t.TempDir(), "state.json")

	res := runBin(t, bin, "--state-file", stateFile)
	if strings.Contains(res.Stdout, fmt.Sprintf("pid %d,", pid)) {
		t.Fatalf("first run already judges the fresh D task:\n%s", res.Stdout)
	}
	later := strconv.FormatInt(time.Now().Add(2*time.Hour).Unix(), 10)
	res = runBin(t, bin, "--state-file", stateFile, "--now", later)
	expect(t, res, 2, fmt.Sprintf("[CRITICAL] hs-vfork-d (pid %d, user root, D for 2h", pid))
}

func TestRealLongRunningByName(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	name := "hs-long-running-job-name" // longer than comm's 15 characters
	cmd := start(t, copyExe(t, "/bin/sleep", name), "600")
	waitState(t, cmd.Process.Pid, 'S')

	res := runBin(t, bin, "--no-state-file", "-C", name, "-w", "1:1", "-c", "1:5", "--only-selected")
	if res.Code != 0 || !strings.Contains(res.Stdout, "1 process with command name '"+name+"'") {
		t.Errorf("exit %d\n%s", res.Code, res.Stdout)
	}
	later := strconv.FormatInt(time.Now().Add(3*time.Hour+30*time.Second).Unix(), 10)
	res = runBin(t, bin, "--no-state-file", "-C", name, "--max-age", "2h", "--now", later)
	expect(t, res, 2, fmt.Sprintf("[CRITICAL] %s (pid %d, user root, running for 3h, over 2h): ", name, cmd.Process.Pid))
}

// dfOnHungFUSE starts df on a FUSE mount whose statfs never answers and
// waits until the filesystem holds the request: df then sits in S in
// request_wait_answer, as it does for hours on a hung gluster mount. The
// cleanup answers the statfs (closing the mount) so df exits.
func dfOnHungFUSE(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	os.Mkdir(backing, 0o755)
	os.Mkdir(mnt, 0o755)
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	fs.Set(fusetest.OpStatfs, fusetest.Hang)
	cmd := exec.Command("df", mnt)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fs.Close() // answers the hung statfs: df exits
		cmd.Wait()
	})
	waitWchan(t, cmd.Process.Pid, "request_wait_answer")
	if !fs.WaitHeld(1, 10*time.Second) { // taken by the filesystem: a kill now leaves df in D
		t.Fatal("the hung statfs never reached the FUSE server")
	}
	return cmd, mnt
}

// hungDF is dfOnHungFUSE's df, killed: it stays in D, unkillable, until
// the mount answers (blockdev-lab §3).
func hungDF(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd, mnt := dfOnHungFUSE(t)
	cmd.Process.Kill()
	waitState(t, cmd.Process.Pid, 'D')
	time.Sleep(100 * time.Millisecond) // in D for longer than the tests' 1ms --d-warning
	return cmd, mnt
}

// sleepingDF is dfOnHungFUSE's df, left be: asleep (S), never in D.
func sleepingDF(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd, mnt := dfOnHungFUSE(t)
	waitState(t, cmd.Process.Pid, 'S')
	time.Sleep(100 * time.Millisecond) // blocked longer than the 1ms thresholds below
	return cmd, mnt
}

// Issue 14: a df blocked on a hung FUSE mount sits in S, not D; the
// README's NRPE line (short thresholds) reports it, naming the mount.
func TestRealSleepingDFOnHungFUSE(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	df, mnt := sleepingDF(t)
	// The README's NRPE line, its thresholds shortened to the test's scale.
	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "--d-critical", "2ms", "--zombie-warning", "20", "-t", "10")
	expect(t, res, 2, fmt.Sprintf("[CRITICAL] df (pid %d, user root) blocked ", df.Process.Pid),
		" in FUSE request_wait_answer on "+mnt+", asleep (S) and stuck all the same: df "+mnt+"\n")
	if !strings.HasPrefix(res.Stdout, "STUCK CRITICAL - ") || !strings.Contains(strings.SplitN(res.Stdout, "\n", 2)[0], "blocked on a filesystem for >2ms") {
		t.Errorf("first line:\n%s", res.Stdout)
	}
	if res.Stderr != "" || res.Elapsed > 10*time.Second {
		t.Errorf("stderr %q, took %s", res.Stderr, res.Elapsed)
	}
}

func waitWchan(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if w, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid)); string(w) == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pid %d never waited in %s", pid, want)
}

func TestRealHungDF(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	df, mnt := hungDF(t)
	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "-t", "5", "-v")
	expect(t, res, 1, fmt.Sprintf("df (pid %d, user root, D for ", df.Process.Pid), "wchan request_wait_answer on "+mnt+"): df "+mnt)
	if res.Elapsed > 5*time.Second {
		t.Errorf("took %s with a hung df on the machine", res.Elapsed)
	}
}

// Postmortem 000: the nightly ansible run deadlocked for a week behind a
// df blocked on a hung builder; nothing looked at the processes. Two runs
// of the check, the second three hours later by its clock: CRITICAL,
// naming both.
func TestPostmortem000Replay(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	df, _ := hungDF(t)
	job := start(t, copyExe(t, "/bin/sleep", "ansible-playbook"), "3600")
	waitState(t, job.Process.Pid, 'S')
	stateFile := filepath.Join(t.TempDir(), "state.json")
	args := []string{"--state-file", stateFile, "-C", "ansible-playbook", "--max-age", "2h", "-w", "1:1"}

	res := runBin(t, bin, args...)
	if strings.Contains(res.Stdout, "ansible-playbook (pid") {
		t.Errorf("a fresh job judged overdue:\n%s", res.Stdout)
	}
	later := strconv.FormatInt(time.Now().Add(3*time.Hour+30*time.Second).Unix(), 10)
	res = runBin(t, bin, append(args, "--now", later)...)
	first := strings.SplitN(res.Stdout, "\n", 2)[0]
	if res.Code != 2 || !strings.HasPrefix(first, "STUCK CRITICAL - ") {
		t.Errorf("exit %d, want CRITICAL:\n%s", res.Code, res.Stdout)
	}
	dfLine := fmt.Sprintf("[CRITICAL] df (pid %d, user root, D for 3h, wchan request_wait_answer on ", df.Process.Pid)
	jobLine := fmt.Sprintf("[CRITICAL] ansible-playbook (pid %d, user root, running for 3h, over 2h): ", job.Process.Pid)
	expect(t, res, 2, dfLine, jobLine)
	if strings.Contains(res.Stdout, " procs_stuck=1;") && !strings.Contains(first, fmt.Sprintf("ansible-playbook (pid %d, 3h)", job.Process.Pid)) {
		t.Errorf("first line does not name the overdue job:\n%s", res.Stdout)
	}
	// Other tests' stuck tasks may crowd the first line on a shared
	// machine; alone, it names the job and the df.
	if strings.Contains(res.Stdout, " procs_d=1;") && !strings.Contains(first, fmt.Sprintf("df (pid %d, 3h", df.Process.Pid)) {
		t.Errorf("first line does not name the hung df:\n%s", res.Stdout)
	}
}

func currentUser(t *testing.T) string {
	uid := strconv.Itoa(os.Getuid())
	if _, name, err := lookupUser(uid); err == nil && name != "" {
		return name
	}
	return uid
}

// stuckProbeChild leaves one of our probe children in D on a FUSE mount
// whose lookups never answer, as a check_blockdev run on a hung mount
// does.
func stuckProbeChild(t *testing.T) int {
	t.Helper()
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	os.Mkdir(backing, 0o755)
	os.Mkdir(mnt, 0o755)
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	fs.Set(fusetest.OpLookup, fusetest.Hang)
	fs.Set(fusetest.OpGetattr, fusetest.Hang)
	t.Cleanup(func() { fs.Close() }) // answers: the child exits
	prober := isolate.NewProber(t.TempDir())
	// A budget a loaded machine's child start-up fits in: killed before the
	// filesystem took its request, the child would just die, not sit in D.
	_, err = prober.Do(context.Background(), 2*time.Second, isolate.Request{Op: isolate.Stat, Path: filepath.Join(mnt, "x")})
	var te *isolate.TimeoutError
	if !errors.As(err, &te) || te.Pid == 0 {
		t.Fatalf("the probe did not hang: %v", err)
	}
	if !fs.WaitHeld(1, 5*time.Second) {
		t.Fatal("the filesystem never took the probe's request")
	}
	waitState(t, te.Pid, 'D')
	return te.Pid
}

// Our own probe children stuck in D are not the machine's stuck
// processes: the soak saw check_stuck_procs report them.
func TestRealProbeChildNotReported(t *testing.T) {
	bin := testutil.Binary(t, "check_stuck_procs")
	pid := stuckProbeChild(t)
	time.Sleep(100 * time.Millisecond)
	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "-t", "5", "-v")
	if strings.Contains(res.Stdout, fmt.Sprintf("(pid %d,", pid)) || strings.Contains(res.Stdout, fmt.Sprintf("pid %d:", pid)) {
		t.Errorf("our probe child %d reported:\n%s", pid, res.Stdout)
	}
	if !strings.Contains(res.Stdout, "left out: ") || !strings.Contains(res.Stdout, " of hindsight in D") {
		t.Errorf("-v does not say probe children were left out:\n%s", res.Stdout)
	}
	if res.Stderr != "" || res.Elapsed > 5*time.Second {
		t.Errorf("stderr %q, took %s", res.Stderr, res.Elapsed)
	}
	// A state file remembers it: the next run reads nothing of it.
	stateFile := filepath.Join(t.TempDir(), "state.json")
	runBin(t, bin, "--state-file", stateFile, "--d-warning", "1ms")
	res = runBin(t, bin, "--state-file", stateFile, "--d-warning", "1ms", "-v")
	if strings.Contains(res.Stdout, fmt.Sprintf("(pid %d,", pid)) || !strings.Contains(res.Stdout, " of hindsight in D") {
		t.Errorf("second run:\n%s", res.Stdout)
	}
}

// statfsThreadArg makes the test binary a process whose worker thread
// calls statfs on the path that follows, while the leader sleeps: a
// multi-threaded server with one thread blocked on a hung mount.
const statfsThreadArg = "__statfs_thread__"

// init pins the main goroutine of the statfs helper to the leader thread.
// Only a lock taken during init does that: by the time TestMain runs, the
// main goroutine may already have moved to another thread, and the statfs
// goroutine could then block the leader itself (seen once in CI, where
// blockedThread, which skips the leader, found no blocked thread).
func init() {
	if len(os.Args) == 3 && os.Args[1] == statfsThreadArg {
		runtime.LockOSThread()
	}
}

func statfsThreadMain(path string) {
	go func() {
		runtime.LockOSThread()
		var st syscall.Statfs_t
		// An interrupted statfs blocks again, until the mount answers.
		for syscall.Statfs(path, &st) == syscall.EINTR {
			continue
		}
		os.Exit(0)
	}()
	time.Sleep(time.Hour)
	os.Exit(0)
}

// blockedThread waits for a thread of pid other than the leader to sleep
// in want, and returns its tid.
func blockedThread(t *testing.T, pid int, want string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var seen []string // the last look, for the failure message
	for time.Now().Before(deadline) {
		tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			seen = []string{err.Error()}
		} else {
			seen = seen[:0]
		}
		for _, e := range tids {
			tid, _ := strconv.Atoi(e.Name())
			w, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/wchan", pid, tid))
			if tid != pid && string(w) == want {
				return tid
			}
			seen = append(seen, fmt.Sprintf("%d:%s", tid, w))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no thread of pid %d but the leader ever waited in %s; last seen (tid:wchan) %v", pid, want, seen)
	return 0
}

// statfsThreadOnHungFUSE mounts a FUSE filesystem whose statfs hangs and
// starts the statfs helper on it; it returns once a worker thread (tid)
// of the helper waits there. The cleanup answers the statfs and ends the
// helper.
func statfsThreadOnHungFUSE(t *testing.T) (fs *fusetest.FS, mnt string, cmd *exec.Cmd, tid int) {
	t.Helper()
	dir := t.TempDir()
	backing := filepath.Join(dir, "backing")
	mnt = filepath.Join(dir, "mnt")
	os.Mkdir(backing, 0o755)
	os.Mkdir(mnt, 0o755)
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	fs.Set(fusetest.OpStatfs, fusetest.Hang)
	cmd = exec.Command(os.Args[0], statfsThreadArg, mnt)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fs.Close() // answers the hung statfs: the helper exits
		cmd.Process.Kill()
		cmd.Wait()
	})
	return fs, mnt, cmd, blockedThread(t, cmd.Process.Pid, "request_wait_answer")
}

// A worker thread of a multi-threaded process blocked on a hung FUSE
// mount sleeps in S while its leader sleeps elsewhere: reported like a
// df blocked there, named by pid and thread.
func TestRealThreadOnHungFUSE(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_stuck_procs")
	_, mnt, cmd, tid := statfsThreadOnHungFUSE(t)
	pid := cmd.Process.Pid
	time.Sleep(100 * time.Millisecond) // blocked longer than the 1ms thresholds below
	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "--d-critical", "2ms", "--zombie-warning", "20", "-t", "10")
	expect(t, res, 2, fmt.Sprintf("(pid %d thread %d, user root) blocked ", pid, tid),
		" in FUSE request_wait_answer on "+mnt+", asleep (S) and stuck all the same: ")
	if res.Stderr != "" || res.Elapsed > 10*time.Second {
		t.Errorf("stderr %q, took %s", res.Stderr, res.Elapsed)
	}
}

// The same process killed (by an operator, or the OOM killer) while its
// worker thread waits on the hung mount: the leader exits and shows as a
// zombie, the thread stays in D, hidden behind it. It is still a process
// stuck on the mount, and said so.
func TestRealKilledWithThreadInD(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_stuck_procs")
	fs, _, cmd, tid := statfsThreadOnHungFUSE(t)
	pid := cmd.Process.Pid
	if !fs.WaitHeld(1, 10*time.Second) { // taken: a kill now leaves the thread in D
		t.Fatal("the filesystem never took the statfs")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the leader never became a zombie: %q", st)
		}
	}
	time.Sleep(100 * time.Millisecond)
	res := runBin(t, bin, "--no-state-file", "--d-warning", "1ms", "--d-critical", "2ms", "-v", "-t", "10")
	// Not a zombie to count: a process whose thread is stuck in D.
	expect(t, res, 2, fmt.Sprintf("(pid %d thread %d, user root, D for ", pid, tid), "wchan request_wait_answer")
	// Zombies are listed by parent: this test binary.
	if strings.Contains(res.Stdout, fmt.Sprintf(" of %s (pid %d)", filepath.Base(os.Args[0]), os.Getpid())) || res.Stderr != "" {
		t.Errorf("stderr %q; counted as a zombie:\n%s", res.Stderr, res.Stdout)
	}
}
