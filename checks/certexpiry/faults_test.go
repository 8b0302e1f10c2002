package certexpiry

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// pathOptions are the check's path options, each as the arguments that
// put the path p where the option reads it; good is a valid certificate,
// tls an endpoint for --compare-file, dir a scratch directory.
var pathOptions = []struct {
	name string
	args func(p, good, tls, dir string) []string
	dir  bool // the option takes a directory: a directory is no fault
}{
	{"-f", func(p, _, _, _ string) []string { return []string{"-f", p} }, false},
	{"-d", func(p, _, _, _ string) []string { return []string{"-d", p} }, true},
	{"--kubeconfig", func(p, _, _, _ string) []string { return []string{"--kubeconfig", p} }, false},
	{"file named in a kubeconfig", func(p, _, _, dir string) []string {
		kc := filepath.Join(dir, "kubeconfig")
		os.WriteFile(kc, []byte("users:\n- name: u\n  user:\n    client-certificate: "+p+"\n"), 0o644)
		return []string{"--kubeconfig", kc}
	}, false},
	{"--ca", func(p, good, _, _ string) []string { return []string{"-f", good, "--ca", p} }, false},
	{"--ca-file", func(p, good, _, _ string) []string { return []string{"-f", good, "--ca-file", p} }, false},
	{"--compare-file", func(p, _, tls, _ string) []string { return []string{"-H", tls, "--insecure", "--compare-file", p} }, false},
	{"--password-file", func(p, good, _, _ string) []string { return []string{"-f", good, "--password-file", p} }, false},
	{"--kubernetes-dir", func(p, _, _, dir string) []string {
		return []string{"--kubeadm", "--kubernetes-dir", p, "--kubelet-dir", dir}
	}, true},
	{"--kubelet-dir", func(p, _, _, dir string) []string {
		return []string{"--kubeadm", "--kubernetes-dir", dir, "--kubelet-dir", p}
	}, true},
}

// TestPathFaults runs the binary with every path option pointing at
// every kind of bad input: each run is UNKNOWN naming the path, within
// -t, with one status line and nothing on stderr.
func TestPathFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	c := certtest.New(t, certtest.Spec{CN: "good", NotAfter: time.Now().Add(certtest.Days(100))})
	good := write(t, filepath.Join(dir, "good.pem"), c.PEM())
	tls := certtest.ServeTLS(t, c.TLS())
	faults := map[string]string{
		"fifo":     filepath.Join(dir, "fifo"),
		"zero":     "/dev/zero",
		"huge":     filepath.Join(dir, "huge.pem"),
		"dir":      filepath.Join(dir, "adir"),
		"loop":     filepath.Join(dir, "loop"),
		"dangling": filepath.Join(dir, "dangling"),
	}
	if err := syscall.Mkfifo(faults["fifo"], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(faults["huge"])
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30) // sparse: no disk
	f.Close()
	os.Mkdir(faults["dir"], 0o755)
	os.Symlink(faults["loop"], faults["loop"])
	os.Symlink(filepath.Join(dir, "nowhere"), faults["dangling"])

	for _, opt := range pathOptions {
		for kind, p := range faults {
			if kind == "dir" && opt.dir {
				continue
			}
			scratch := t.TempDir()
			args := append(opt.args(p, good, tls, scratch), "-t", "3")
			r := testutil.Run(t, bin, args...)
			name := opt.name + " " + kind
			switch {
			case r.Elapsed > 3500*time.Millisecond:
				t.Errorf("%s: took %s with -t 3", name, r.Elapsed)
			case r.Code != 3 || !strings.HasPrefix(r.Stdout, "CERT UNKNOWN - "):
				t.Errorf("%s: exit %d, want UNKNOWN\n%s", name, r.Code, r.Stdout)
			case !strings.Contains(r.Stdout, p):
				t.Errorf("%s: the output does not name %s\n%s", name, p, r.Stdout)
			case r.Stderr != "":
				t.Errorf("%s: stderr %q", name, r.Stderr)
			}
			if first, _, _ := strings.Cut(r.Stdout, "\n"); strings.Count(r.Stdout, "CERT ") != 1 && !strings.Contains(first, "CERT") {
				t.Errorf("%s: not one status line\n%s", name, r.Stdout)
			}
		}
	}
}

// TestHungMountBelow: a glob and a walk over a tree with a hung FUSE
// mount below it end within -t, judge the local certificates and name
// the mount; later runs say since when it hangs and start no new child
// to join the stuck one.
func TestHungMountBelow(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	c := certtest.New(t, certtest.Spec{CN: "local", NotAfter: time.Now().Add(certtest.Days(100))})
	write(t, filepath.Join(dir, "tree", "a", "local.pem"), c.PEM())
	write(t, filepath.Join(dir, "backing", "remote.pem"), c.PEM())
	mnt := filepath.Join(dir, "tree", "a", "mnt")
	os.MkdirAll(mnt, 0o755)
	fsys, err := fusetest.Mount(filepath.Join(dir, "backing"), mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	fsys.Set("all", fusetest.Hang)
	tree := filepath.Join(dir, "tree")
	runs := [][]string{{"-f", tree + "/**/*.pem"}, {"-d", tree}, {"-f", tree + "/**/*.pem"}, {"-d", tree}}
	var children int
	for i, args := range runs {
		r := testutil.Run(t, bin, append(args, "-t", "3")...)
		name := joinArgs(args)
		if r.Elapsed > 3500*time.Millisecond {
			t.Errorf("run %d %s: took %s with -t 3", i, name, r.Elapsed)
		}
		want := []string{"[OK] " + tree + "/a/local.pem (local)", "fuse.faultfs mount " + mnt + " hangs)"}
		if i > 0 {
			want = append(want, mnt+": hung since ")
		}
		expect(t, name, r.Code, r.Stdout, 3, want...)
		if r.Stderr != "" {
			t.Errorf("run %d: stderr %q", i, r.Stderr)
		}
		n := probeChildren(t)
		if i == 0 {
			children = n
			continue
		}
		if n > children {
			t.Errorf("run %d started another probe child on the hung mount: %d, was %d", i, n, children)
		}
	}
}

// probeChildren counts the probe children of check_cert_expiry alive
// (stuck ones among them), by their arguments.
func probeChildren(t *testing.T) int {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let killed children go
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n, stuck := 0, 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) < 2 || args[0] != "check_cert_expiry" || args[1] != "__hindsight_probe__" {
			continue
		}
		n++
		if st, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat")); err == nil {
			if _, rest, ok := strings.Cut(string(st), ") "); ok && strings.HasPrefix(rest, "D") {
				stuck++
			}
		}
	}
	t.Logf("probe children of check_cert_expiry: %d, %d of them in D", n, stuck)
	return n
}

// TestKubeconfigOnHungMount: a kubeconfig that names a file on a hung
// mount is judged for the rest, and the file is named.
func TestKubeconfigOnHungMount(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	ca := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotAfter: time.Now().Add(certtest.Days(3000))})
	write(t, filepath.Join(dir, "backing", "user.crt"), ca.PEM())
	mnt := filepath.Join(dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	fsys, err := fusetest.Mount(filepath.Join(dir, "backing"), mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	fsys.Set("all", fusetest.Hang)
	kc := write(t, filepath.Join(dir, "config"), []byte("clusters:\n- name: prod\n  cluster:\n    certificate-authority-data: "+
		base64.StdEncoding.EncodeToString(ca.PEM())+"\nusers:\n- name: jane\n  user:\n    client-certificate: "+mnt+"/user.crt\n"))
	r := testutil.Run(t, bin, "--kubeconfig", kc, "-t", "3")
	if r.Elapsed > 3500*time.Millisecond {
		t.Errorf("took %s with -t 3", r.Elapsed)
	}
	expect(t, "kubeconfig", r.Code, r.Stdout, 3, "[OK] "+kc+" cluster prod (kubernetes)", kc+" user jane -> "+mnt+"/user.crt: ", "fuse.faultfs mount "+mnt+" hangs)")
}
