package blockdev

// Integration tests on real faults: XFS shut down, ext4 remounted
// read-only after a real error, a FUSE mount that hangs or fails, a loop
// device on such a mount (a real hung or failing block device), and the
// replay of postmortem 001. They need root, loop devices and the tools in
// .ci/apt-blockdev.txt; they skip (saying why) only when those are absent.

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
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

func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to set up loop devices and mounts")
	}
	for _, tool := range append([]string{"losetup", "mount", "umount"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (see .ci/apt-blockdev.txt)", tool)
		}
	}
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// loopDevice attaches img to a free loop device, detached on cleanup.
func loopDevice(t *testing.T, img string) string {
	t.Helper()
	dev := sh(t, "losetup", "-f", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// mountDev mounts dev on a new directory, unmounted on cleanup (lazily if
// it is busy, so a failed test never leaves a mount behind).
func mountDev(t *testing.T, dev, fstype, opts string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-t", fstype}
	if opts != "" {
		args = append(args, "-o", opts)
	}
	sh(t, "mount", append(args, dev, mnt)...)
	t.Cleanup(func() {
		if err := exec.Command("umount", mnt).Run(); err != nil {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// image makes a sparse file of size bytes.
func image(t *testing.T, dir string, size int64) string {
	t.Helper()
	img := filepath.Join(dir, "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return img
}

// xfsMount makes, mounts and fills an XFS on a loop device: www/index.html.
func xfsMount(t *testing.T) (dev, mnt string) {
	t.Helper()
	needRoot(t, "mkfs.xfs", "xfs_io")
	dev = loopDevice(t, image(t, t.TempDir(), 512<<20)) // XFS 6.1 wants about 300 MB at least
	sh(t, "mkfs.xfs", "-q", "-f", dev)
	mnt = mountDev(t, dev, "xfs", "")
	if err := os.MkdirAll(filepath.Join(mnt, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "www/index.html"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dev, mnt
}

type checker struct {
	bin   string
	state string
}

func newChecker(t *testing.T) checker {
	return checker{bin: testutil.Binary(t, "check_blockdev"), state: filepath.Join(t.TempDir(), "state.json")}
}

func (c checker) run(t *testing.T, args ...string) testutil.Result {
	t.Helper()
	args = append([]string{"--state-file", c.state, "--fstab", "/dev/null"}, args...)
	r := testutil.Run(t, c.bin, args...)
	t.Logf("check_blockdev %s -> %d in %s\n%s", strings.Join(args, " "), r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout)
	return r
}

func wantRun(t *testing.T, r testutil.Result, code int, words ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("exit %d, want %d\n%s%s", r.Code, code, r.Stdout, r.Stderr)
	}
	for _, w := range words {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.Stdout)
		}
	}
}

func TestRealXFSShutdown(t *testing.T) {
	dev, mnt := xfsMount(t)
	c := newChecker(t)
	wantRun(t, c.run(t, "-p", mnt), 0, "BLOCKDEV OK")
	sh(t, "xfs_io", "-x", "-c", "shutdown", mnt)
	name := filepath.Base(dev)
	// statfs still passes and mountinfo still says rw (blockdev-lab 1a):
	// only the stat of the mount point gives it away.
	r := c.run(t, "-p", mnt)
	wantRun(t, r, 2, fmt.Sprintf("BLOCKDEV CRITICAL - %s (%s, xfs): Input/output error on stat (EIO)", mnt, name))
	// As root the kernel log is read: the shutdown lines since the last run.
	wantRun(t, r, 2, "XFS shut down: XFS ("+name+")")
}

func TestRealExt4ErrorsRemountRO(t *testing.T) {
	needRoot(t, "mkfs.ext4", "debugfs")
	img := image(t, t.TempDir(), 64<<20)
	sh(t, "mkfs.ext4", "-q", "-F", img)
	dev := loopDevice(t, img)
	mnt := mountDev(t, dev, "ext4", "errors=remount-ro")
	if err := os.WriteFile(filepath.Join(mnt, "victim"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "umount", mnt)
	sh(t, "debugfs", "-w", "-R", "clri victim", dev) // a real on-disk corruption
	sh(t, "mount", "-t", "ext4", "-o", "errors=remount-ro", dev, mnt)
	if _, err := os.ReadFile(filepath.Join(mnt, "victim")); err == nil {
		t.Fatal("reading the cleared inode worked; no ext4 error was provoked")
	}
	r := newChecker(t).run(t, "-p", mnt)
	wantRun(t, r, 2, "emergency read-only after a filesystem error (emergency_ro)", "1 ext4 error recorded", "run e2fsck")
}

// fuseMount mounts a fault-injecting FUSE filesystem, released and
// unmounted on cleanup.
func fuseMount(t *testing.T) *fusetest.FS {
	t.Helper()
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func TestRealHungFUSE(t *testing.T) {
	for _, op := range []string{fusetest.OpStatfs, "all"} {
		t.Run(op, func(t *testing.T) { testHungFUSE(t, op) })
	}
}

func testHungFUSE(t *testing.T, op string) {
	fs := fuseMount(t)
	c := newChecker(t)
	fs.Set(op, fusetest.Hang)
	stuck := 0
	for i := 0; i < 3; i++ {
		args := []string{"-p", fs.Mountpoint, "-t", "5", "--mount-timeout", "1s"}
		var r testutil.Result
		if i == 0 {
			r = c.hungRun(t, fs.Mountpoint, args...)
		} else {
			r = c.run(t, args...)
		}
		// Measured from the caller's side: stdout closed by every holder.
		if r.Elapsed > 2500*time.Millisecond {
			t.Errorf("run %d: returned after %s, want about the 1s mount budget", i+1, r.Elapsed)
		}
		wantRun(t, r, 2, "BLOCKDEV CRITICAL - "+fs.Mountpoint+" (hindsight-faultfs, fuse.faultfs): ")
		n := stuckProbesOn(t, c.bin, fs.Mountpoint)
		switch {
		case i == 0:
			stuck = n
			wantRun(t, r, 2, "no answer to ")
		case n > stuck:
			t.Errorf("run %d: %d probe children stuck on the hung mount, %d after the first run: they pile up", i+1, n, stuck)
		}
		if i > 0 {
			wantRun(t, r, 2, "still hung since ", "not probed again")
		}
	}
	if stuck > 1 {
		t.Errorf("%d children stuck after one run, want one for the mount", stuck)
	}
}

// stuckProbes counts the probe children of bin still alive (requests go
// over stdin now, so the path is not in their command line: the binary
// is, each test binary being built afresh in its own directory).
// stuckProbesOn counts bin's probe children stuck on mount: those whose
// pid the shared lock registry records for a target under it. Other
// packages' tests hang FUSE mounts of the same type at the same time,
// and check_blockdev probes every FUSE mount by default, so a count of
// all of bin's probes would count theirs too.
func stuckProbesOn(t *testing.T, bin, mount string) int {
	t.Helper()
	locks, _ := filepath.Glob(filepath.Join("/var/tmp", "hindsight-"+strconv.Itoa(os.Getuid()), "probes", "*.lock"))
	pids := map[string]bool{}
	for _, l := range locks {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		var pid, target string
		for _, f := range strings.Fields(string(data)) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "pid":
				pid = v
			case "target":
				target, _ = strconv.Unquote(v)
			}
		}
		if target == mount || strings.HasPrefix(target, mount+"/") {
			pids[pid] = true
		}
	}
	return countProbes(bin, func(pid string) bool { return pids[pid] })
}

// hungRun runs the plugin on a mount whose operations hang until a run
// leaves a probe child stuck there, at most three times. On a loaded
// machine a run can time out before the FUSE server has even read the
// request: the kernel then lets the killed child go and nothing stays
// stuck, which is right but not what these tests are about.
func (c checker) hungRun(t *testing.T, mount string, args ...string) testutil.Result {
	t.Helper()
	for i := 1; ; i++ {
		r := c.run(t, args...)
		if i == 3 || stuckProbesOn(t, c.bin, mount) > 0 {
			return r
		}
		t.Logf("run %d left no child stuck on %s (the FUSE server had not taken the request yet?): running again", i, mount)
	}
}

// countProbes counts the live probe children of bin whose pid passes keep.
func countProbes(bin string, keep func(pid string) bool) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || !keep(e.Name()) {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte("__hindsight_probe__")) {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || exe != bin {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !bytes.Contains(st, []byte(") Z ")) {
			n++
		}
	}
	return n
}

func TestRealFUSEErrors(t *testing.T) {
	fs := fuseMount(t)
	c := newChecker(t)
	fs.Set(fusetest.OpReaddir, fusetest.EIO)
	wantRun(t, c.run(t, "-p", fs.Mountpoint), 2, fs.Mountpoint+" (", "Input/output error on readdir (EIO)")
	fs.Release()
	wantRun(t, c.run(t, "-p", fs.Mountpoint), 0, "BLOCKDEV OK")
}

// faultDisk is a loop device whose backing file lives on a fault-injecting
// FUSE mount: a disk that can be made to hang or fail (blockdev-lab 1c/1d).
func faultDisk(t *testing.T) (*fusetest.FS, string) {
	t.Helper()
	needRoot(t, "dd")
	fs := fuseMount(t)
	f, err := os.Create(filepath.Join(fs.Backing, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	dev := loopDevice(t, filepath.Join(fs.Mountpoint, "disk.img"))
	t.Cleanup(fs.Release) // before the loop device is detached
	return fs, dev
}

func TestRealHungBlockDevice(t *testing.T) {
	fs, dev := faultDisk(t)
	name := filepath.Base(dev)
	c := newChecker(t)
	wantRun(t, c.run(t, "-d", dev), 0, "BLOCKDEV OK")
	fs.Set(fusetest.OpRead, fusetest.Hang)
	dd := exec.Command("dd", "if="+dev, "of=/dev/null", "bs=4096", "count=1", "skip=4000", "iflag=direct")
	if err := dd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Release(); dd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && inflight(name) == 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if inflight(name) == 0 {
		t.Fatalf("no request in flight on %s", name)
	}
	r := c.run(t, "-d", dev, "--sample-interval", "2s", "-t", "8")
	wantRun(t, r, 2, "I/O stalled on "+name+" for ", "request")
}

func inflight(name string) int {
	data, _ := os.ReadFile("/sys/block/" + name + "/inflight")
	var rd, wr int
	fmt.Sscan(string(data), &rd, &wr)
	return rd + wr
}

func TestRealFailingBlockDevice(t *testing.T) {
	fs, dev := faultDisk(t)
	name := filepath.Base(dev)
	c := newChecker(t)
	wantRun(t, c.run(t, "-d", dev), 0, "BLOCKDEV OK") // the kernel log position
	fs.Set(fusetest.OpRead, fusetest.EIO)
	exec.Command("dd", "if="+dev, "of=/dev/null", "bs=4096", "count=1", "skip=5000", "iflag=direct").Run()
	r := c.run(t, "-d", dev, "--read-test", dev)
	wantRun(t, r, 2, "direct read of "+dev+": Input/output error (EIO)", name+" (loop): ", "I/O error line", "I/O error, dev "+name)
}

// The replay of postmortem 001: Apache serving from XFS on a device that
// failed. Apache answered 403 to every request for three hours and
// nothing looked at the storage.
func TestPostmortem001Replay(t *testing.T) {
	if _, err := exec.LookPath("apache2"); err != nil {
		t.Skip("needs apache2 (see .ci/apt-blockdev.txt)")
	}
	_, mnt := xfsMount(t)
	// Apache's workers run as www-data: open the way to the docroot.
	for d := filepath.Dir(mnt); strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	url := startApache(t, filepath.Join(mnt, "www"))
	if code := httpStatus(t, url); code != 200 {
		t.Fatalf("healthy Apache answered %d, want 200", code)
	}
	sh(t, "xfs_io", "-x", "-c", "shutdown", mnt)
	if code := httpStatus(t, url); code != 403 {
		t.Fatalf("Apache on the shut-down XFS answered %d, want 403 as in the postmortem", code)
	}
	// Every check that should have paged: the lead adds check_http_status
	// (-u url -e 200: CRITICAL) here after merging.
	for _, tc := range []struct {
		plugin string
		args   []string
		code   int
		words  []string
	}{
		{"check_blockdev", []string{"-p", mnt, "--state-file", filepath.Join(t.TempDir(), "s.json"), "--fstab", "/dev/null"}, 2,
			[]string{"BLOCKDEV CRITICAL - " + mnt + " (", "xfs): Input/output error on stat (EIO)"}},
	} {
		r := testutil.Run(t, testutil.Binary(t, tc.plugin), tc.args...)
		t.Logf("%s -> %d\n%s", tc.plugin, r.Code, r.Stdout)
		wantRun(t, r, tc.code, tc.words...)
	}
}

// startApache runs Debian's apache2 with a config of its own on a free
// loopback port, serving docroot; stopped (and waited for) on cleanup.
func startApache(t *testing.T, docroot string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := filepath.Join(dir, "httpd.conf")
	pidFile := filepath.Join(dir, "httpd.pid")
	text := fmt.Sprintf(`ServerRoot %[1]s
ServerName 127.0.0.1
Listen %[2]s
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
User www-data
Group www-data
PidFile %[3]s
ErrorLog %[1]s/error.log
StartServers 1
MinSpareServers 1
MaxSpareServers 2
DocumentRoot %[4]s
<Directory %[4]s>
  Require all granted
</Directory>
DirectoryIndex index.html
`, dir, addr, pidFile, docroot)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "apache2", "-f", conf, "-k", "start")
	t.Cleanup(func() {
		data, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		exec.Command("apache2", "-f", conf, "-k", "stop").Run()
		// Wait for Apache to let go of the docroot, so the mount can go.
		for i := 0; i < 100 && pid > 0 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	url := "http://" + addr + "/index.html"
	for i := 0; i < 100; i++ {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// --read-test and --write-test on a mount already hung: the first run
// leaves one stuck child for the mount, whatever probes it; later runs
// start none and say since when it is hung.
func TestRealPathTestsOnHungMount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first []string // the run that finds the mount hung
	}{
		{"found by -p", []string{"-p", "MNT"}},
		{"found by --read-test", []string{"--read-test", "MNT/file"}},
		{"found by --write-test", []string{"--write-test", "MNT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fuseMount(t)
			if err := os.WriteFile(filepath.Join(fs.Backing, "file"), []byte("data\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c := newChecker(t)
			mnt := fs.Mountpoint
			fs.Set("all", fusetest.Hang)
			subst := func(args []string) []string {
				out := []string{"-t", "4", "--mount-timeout", "1s", "--no-kmsg"}
				for _, a := range args {
					out = append(out, strings.ReplaceAll(a, "MNT", mnt))
				}
				return out
			}
			// A longer budget for the run that must leave a child stuck:
			// the FUSE server, starved on a loaded machine, must take the
			// request before the child is killed (see hungRun).
			r := c.hungRun(t, mnt, append(subst(tc.first), "-t", "6", "--mount-timeout", "3s")...)
			wantRun(t, r, 2)
			if n := stuckProbesOn(t, c.bin, mnt); n != 1 {
				t.Fatalf("%d probe children stuck after the first run, want 1", n)
			}
			for i := 0; i < 2; i++ {
				start := time.Now()
				r := c.run(t, subst([]string{"-p", "MNT", "--read-test", "MNT/file", "--write-test", "MNT"})...)
				if d := time.Since(start); d > 1500*time.Millisecond {
					t.Errorf("run %d took %s: the hung mount was waited for again", i+2, d)
				}
				wantRun(t, r, 2, "direct read of "+mnt+"/file: still hung since ", "write test in "+mnt+": still hung since ", "(mount "+mnt+")")
				if n := stuckProbesOn(t, c.bin, mnt); n != 1 {
					t.Errorf("run %d: %d probe children stuck, want still 1", i+2, n)
				}
				if r.Stderr != "" {
					t.Errorf("stderr: %q", r.Stderr)
				}
			}
		})
	}
}

// TestRealFUSEByDefault is issue 14's replay: with no options, a hung
// FUSE mount is CRITICAL naming the mount, a second run says since when
// without a second stuck child, -X leaves the type out, and a healthy one
// is OK. This machine's own mounts may be anything (other tests' FUSE
// mounts among them), so only this test's mount is asserted on.
func TestRealFUSEByDefault(t *testing.T) {
	fs := fuseMount(t)
	c := newChecker(t)
	own := func(r testutil.Result) string { return findingLine(r.Stdout, fs.Mountpoint+" (") }

	r := c.run(t)
	if line := own(r); !strings.HasPrefix(line, "[OK] ") || !strings.Contains(line, "fuse.faultfs): rw, statfs, stat and readdir answered") {
		t.Errorf("healthy FUSE mount: line %q, want OK with the probes answered\n%s", line, r.Stdout)
	}

	fs.Set("all", fusetest.Hang)
	before := stuckProbesOn(t, c.bin, fs.Mountpoint)
	r = c.run(t, "-X", "fuse.faultfs", "-t", "5", "--mount-timeout", "1s")
	if strings.Contains(r.Stdout, fs.Mountpoint) || stuckProbesOn(t, c.bin, fs.Mountpoint) != before {
		t.Errorf("-X fuse.faultfs: the mount was probed\n%s", r.Stdout)
	}

	r = c.hungRun(t, fs.Mountpoint, "-t", "5", "--mount-timeout", "1s")
	wantRun(t, r, 2, "BLOCKDEV CRITICAL - ", fs.Mountpoint+" (hindsight-faultfs, fuse.faultfs): no answer to ")
	first := stuckProbesOn(t, c.bin, fs.Mountpoint)
	if first-before != 1 {
		t.Errorf("%d children stuck on the hung mount after the first run, want 1", first-before)
	}
	r = c.run(t, "-t", "5", "--mount-timeout", "1s")
	if line := own(r); !strings.HasPrefix(line, "[CRITICAL] ") || !strings.Contains(line, "still hung since ") {
		t.Errorf("second run: line %q, want CRITICAL still hung since\n%s", line, r.Stdout)
	}
	wantRun(t, r, 2)
	if n := stuckProbesOn(t, c.bin, fs.Mountpoint); n > first {
		t.Errorf("second run: %d probe children stuck, %d after the first: a second child on the hung mount", n, first)
	}
}

// A FUSE daemon that dies leaves its mount answering ENOTCONN ("Transport
// endpoint is not connected"): aborting the connection in fusectl is the
// kernel's side of exactly that.
func TestRealDeadFUSEDaemon(t *testing.T) {
	fs := fuseMount(t)
	var st syscall.Stat_t
	if err := syscall.Stat(fs.Mountpoint, &st); err != nil {
		t.Fatal(err)
	}
	abort := fmt.Sprintf("/sys/fs/fuse/connections/%d/abort", unixMinor(st.Dev))
	if err := os.WriteFile(abort, []byte("1"), 0o200); err != nil {
		t.Skipf("cannot abort the FUSE connection (no fusectl?): %v", err)
	}
	c := newChecker(t)
	r := c.run(t)
	wantRun(t, r, 2, fs.Mountpoint+" (hindsight-faultfs, fuse.faultfs): Transport endpoint is not connected on statfs (ENOTCONN): its FUSE daemon has gone")
}

func unixMinor(dev uint64) uint64 { return (dev & 0xff) | ((dev >> 12) & 0xfff00) }

// findingLine is the long-output line of the finding that starts with
// prefix, after its state tag.
func findingLine(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "] "); i > 0 && strings.HasPrefix(line[i+2:], prefix) {
			return line
		}
	}
	return ""
}
