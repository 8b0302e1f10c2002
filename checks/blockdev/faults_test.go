package blockdev

// The fault matrix of the path options: each run against a FIFO without a
// writer, /dev/zero, a 1 GB sparse file, a directory, a symlink loop and a
// dangling symlink ends within -t with one status line, nothing on stderr,
// and UNKNOWN naming the path where the path is not what the option takes.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// badPaths makes one of each bad kind of path under dir.
func badPaths(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	sub := filepath.Join(dir, "dir")
	os.Mkdir(sub, 0o755)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	return map[string]string{"fifo": fifo, "/dev/zero": "/dev/zero", "sparse 1 GB": sparse, "directory": sub, "symlink loop": loop, "dangling symlink": dangling}
}

func TestPathOptionFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_blockdev")
	// The kinds each option takes: there the run is not UNKNOWN for it.
	// A dangling symlink as --state-file is no state yet; the runtime
	// then replaces the link by the file (not its target).
	fine := map[string]map[string]bool{
		"--read-test":  {"sparse 1 GB": true},
		"--write-test": {"directory": true},
		"--state-file": {"dangling symlink": true},
	}
	for _, opt := range []string{"--procfs", "--sysfs", "--state-file", "--fstab", "--kmsg", "--read-test", "--write-test"} {
		for kind := range badPaths(t) {
			t.Run(opt+" "+kind, func(t *testing.T) {
				p := badPaths(t)[kind] // afresh: a run may replace a link
				args := map[string]string{
					"--state-file": filepath.Join(t.TempDir(), "state.json"),
					"--fstab":      "/dev/null",
				}
				args[opt] = p
				cmd := []string{"-t", "3", "-p", "/", opt, p}
				for k, v := range args {
					if k != opt {
						cmd = append(cmd, k, v)
					}
				}
				if opt != "--kmsg" {
					cmd = append(cmd, "--no-kmsg")
				}
				r := testutil.Run(t, bin, cmd...)
				t.Logf("%s -> %d in %s\n%s", strings.Join(cmd, " "), r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout)
				if r.Elapsed > 3500*time.Millisecond {
					t.Errorf("took %s, -t is 3", r.Elapsed)
				}
				if r.Stderr != "" {
					t.Errorf("stderr: %q", r.Stderr)
				}
				first, _, _ := strings.Cut(r.Stdout, "\n")
				if !strings.HasPrefix(first, "BLOCKDEV ") {
					t.Errorf("no status line: %q", r.Stdout)
				}
				if fine[opt][kind] {
					if r.Code != 0 {
						t.Errorf("exit %d, want 0: %s is what %s takes", r.Code, kind, opt)
					}
					return
				}
				if r.Code != 3 || !strings.Contains(r.Stdout, "UNKNOWN") || !strings.Contains(r.Stdout, p) {
					t.Errorf("exit %d, want UNKNOWN naming %s", r.Code, p)
				}
			})
		}
	}
}

// A state file that cannot be used is UNKNOWN saying what is off; so is
// a kernel log not readable as this user.
func TestUnusableStateAndLog(t *testing.T) {
	bin := testutil.Binary(t, "check_blockdev")
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for name, path := range map[string]string{"directory": dir, "under a file": filepath.Join(file, "state.json")} {
		r := testutil.Run(t, bin, "-p", "/", "--no-kmsg", "--fstab", "/dev/null", "--state-file", path)
		if r.Code != 3 || !strings.Contains(r.Stdout, path) || !strings.Contains(r.Stdout, "detection across runs is off") {
			t.Errorf("state file %s: exit %d\n%s", name, r.Code, r.Stdout)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv to run as nobody")
	}
	os.Chmod(dir, 0o755)
	asNobody := func(args ...string) testutil.Result {
		return testutil.Run(t, setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
	}
	r := asNobody("-p", "/", "--no-kmsg", "--fstab", "/dev/null", "--state-file", filepath.Join(dir, "state.json"))
	if r.Code != 3 || !strings.Contains(r.Stdout, "state file "+filepath.Join(dir, "state.json")) || !strings.Contains(r.Stdout, "detection across runs is off") {
		t.Errorf("unwritable state file: exit %d\n%s", r.Code, r.Stdout)
	}
	// Debian's dmesg_restrict=1: the kernel log is closed to nobody.
	if data, _ := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); strings.TrimSpace(string(data)) == "1" {
		r := asNobody("-p", "/", "--fstab", "/dev/null", "--state-file", filepath.Join(t.TempDir(), "s.json"))
		if r.Code != 3 || !strings.Contains(r.Stdout, "kernel log /dev/kmsg: not readable as uid 65534") || !strings.Contains(r.Stdout, "--no-kmsg") {
			t.Errorf("kernel log as nobody: exit %d\n%s", r.Code, r.Stdout)
		}
	}
}

// Every path option on a hung FUSE mount: an answer within -t naming the
// path, and one stuck child for the mount across all the options.
func TestPathOptionsOnHungMount(t *testing.T) {
	fs := fuseMount(t)
	for _, f := range []string{"fstab", "kmsg", "s.json"} {
		os.WriteFile(filepath.Join(fs.Backing, f), nil, 0o644)
	}
	c := newChecker(t)
	mnt := fs.Mountpoint
	fs.Set("all", fusetest.Hang)
	for _, args := range [][]string{
		{"--fstab", mnt + "/fstab"},
		{"--kmsg", mnt + "/kmsg"},
		{"--sysfs", mnt},
		{"--procfs", mnt},
		{"--state-file", mnt + "/s.json"},
	} {
		r := testutil.Run(t, c.bin, append([]string{"-t", "3", "-p", "/", "--fstab", "/dev/null", "--no-kmsg", "--state-file", filepath.Join(t.TempDir(), "s.json")}, args...)...)
		if args[0] == "--kmsg" {
			r = testutil.Run(t, c.bin, "-t", "3", "-p", "/", "--fstab", "/dev/null", "--state-file", filepath.Join(t.TempDir(), "s.json"), "--kmsg", args[1])
		}
		t.Logf("%v -> %d in %s\n%s", args, r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout)
		if r.Elapsed > 3500*time.Millisecond || r.Stderr != "" || r.Code != 3 || !strings.Contains(r.Stdout, args[1]) {
			t.Errorf("%v: exit %d in %s, stderr %q; want UNKNOWN naming %s within -t", args, r.Code, r.Elapsed, r.Stderr, args[1])
		}
	}
	// Idle children of the last run exit as it ends: give them a moment.
	n := stuckProbesOn(t, c.bin, mnt)
	for i := 0; i < 20 && n > 1; i++ {
		time.Sleep(50 * time.Millisecond)
		n = stuckProbesOn(t, c.bin, mnt)
	}
	if n > 1 {
		t.Errorf("%d probe children stuck on the one hung mount, want at most 1", n)
	}
}
