package files_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// The test binary doubles as the probe child.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func source(t *testing.T, budget time.Duration) *files.Source {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := isolate.NewProberFor(exe, t.TempDir())
	t.Cleanup(p.Close)
	return files.New(p, func() time.Duration { return budget }, "/proc/self/mountinfo")
}

// Every kind of bad input is a clear error naming the path, at once.
func TestReadFaults(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	os.WriteFile(good, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	huge := filepath.Join(dir, "huge")
	if f, err := os.Create(huge); err == nil {
		f.Truncate(1 << 30) // sparse: costs no disk
		f.Close()
	}
	toHuge := filepath.Join(dir, "to-huge")
	os.Symlink(huge, toHuge)
	src := source(t, 2*time.Second)
	for _, tc := range []struct {
		path, want string
		is         error
	}{
		{good, "", nil},
		{fifo, fifo + ": is a FIFO, not a regular file", files.ErrNotRegular},
		{dir, dir + ": is a directory, not a regular file", files.ErrNotRegular},
		{"/dev/zero", "/dev/zero: is a character device, not a regular file", files.ErrNotRegular},
		{"/dev/urandom", "/dev/urandom: is a character device, not a regular file", files.ErrNotRegular},
		{loop, loop + ": too many levels of symbolic links (a symlink loop?)", nil},
		{dangling, dangling + ": no such file or directory", fs.ErrNotExist},
		{huge, huge + ": larger than the 4 MiB limit for certificate files", files.ErrTooLarge},
		{toHuge, toHuge + ": larger than the 4 MiB limit for certificate files", files.ErrTooLarge},
	} {
		start := time.Now()
		data, err := src.Read(context.Background(), files.Certificate, tc.path)
		if el := time.Since(start); el > time.Second {
			t.Errorf("%s: took %v", tc.path, el)
		}
		if tc.want == "" {
			if err != nil || string(data) != "hello" {
				t.Errorf("%s: %q, %v", tc.path, data, err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %q", tc.path, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v does not match %v", tc.path, err, tc.is)
		}
	}
}

func TestLimitBoundary(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "at")
	over := filepath.Join(dir, "over")
	os.WriteFile(at, make([]byte, files.Secret.Max), 0o600)
	os.WriteFile(over, make([]byte, files.Secret.Max+1), 0o600)
	src := source(t, time.Second)
	if data, err := src.Read(context.Background(), files.Secret, at); err != nil || int64(len(data)) != files.Secret.Max {
		t.Errorf("a file at the limit: %d bytes, %v", len(data), err)
	}
	if _, err := src.Read(context.Background(), files.Secret, over); !errors.Is(err, files.ErrTooLarge) {
		t.Errorf("a file one byte over: %v", err)
	}
}

func TestWalkAndGlob(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/x.pem", "a/b/y.pem", "a/b/c/z.crt", "top.pem"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), nil, 0o644)
	}
	src, ctx := source(t, time.Second), context.Background()
	tree, err := src.Walk(ctx, dir, 100, 0)
	if err != nil || len(tree.Entries) != 8 || tree.Truncated {
		t.Errorf("walk: %d entries %v, %v", len(tree.Entries), tree.Truncated, err)
	}
	tree, _ = src.Walk(ctx, dir, 3, 0)
	if len(tree.Entries) != 3 || !tree.Truncated {
		t.Errorf("walk of at most 3: %d entries, truncated %v", len(tree.Entries), tree.Truncated)
	}
	for pattern, want := range map[string]int{
		dir + "/**/*.pem": 3, dir + "/*.pem": 1, dir + "/a/*/*.pem": 1, dir + "/**/*.crt": 1, dir + "/nothing/*": 0,
		// ".." in the base: WalkDir cleans the paths it hands back.
		dir + "/a/b/../*.pem": 1, dir + "/a/../a/**/*.pem": 2,
		dir + "/a/../a/*.pem": 1, // ".." in the fixed part (a test's "../../testdata/...")
	} {
		got, _, _ := src.Glob(ctx, pattern, 100)
		if len(got) != want {
			t.Errorf("glob %s: %v, want %d", pattern, got, want)
		}
	}
	// A relative pattern climbing out of the working directory, as a
	// test's "../../testdata/..." does: the matches keep the given form.
	t.Chdir(filepath.Join(dir, "a", "b"))
	if got, _, _ := src.Glob(ctx, "../../a/*.pem", 100); len(got) != 1 || got[0] != "../../a/x.pem" {
		t.Errorf("glob ../../a/*.pem: %v, want [../../a/x.pem]", got)
	}
	if _, _, err := src.Glob(ctx, dir+"/[", 100); err == nil || !strings.Contains(err.Error(), "bad glob") {
		t.Errorf("bad glob: %v", err)
	}
	if _, err := src.Walk(ctx, filepath.Join(dir, "missing"), 10, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("walk of a missing root: %v", err)
	}
}

// A hung FUSE mount is read and walked in the prober: the read is an
// error naming the mount within its budget, the walk keeps the local part
// of the tree and names the hung mount below it, and a second attempt
// says since when it hangs without waiting again.
func TestHungMount(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the hung-mount test: " + why)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "local.pem"), nil, 0o644)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	backing := t.TempDir()
	os.WriteFile(filepath.Join(backing, "remote.pem"), []byte("x"), 0o644)
	ffs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	link := filepath.Join(t.TempDir(), "link.pem")
	os.Symlink(filepath.Join(mnt, "remote.pem"), link)

	src, ctx := source(t, 500*time.Millisecond), context.Background()
	if data, err := src.Read(ctx, files.Certificate, link); err != nil || string(data) != "x" {
		t.Fatalf("a healthy FUSE file through a symlink: %q, %v", data, err)
	}
	ffs.Set(fusetest.OpReaddir, fusetest.Hang)
	ffs.Set(fusetest.OpOpen, fusetest.Hang)
	start := time.Now()
	tree, err := src.Walk(ctx, dir, 100, 0)
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Errorf("walk took %v with a budget of 500ms", el)
	}
	if err != nil || len(tree.Problems) != 1 || !strings.Contains(tree.Problems[0].Error(), "fuse.faultfs mount "+mnt+" hangs") {
		t.Errorf("walk over a hung mount: %v, problems %v", err, tree.Problems)
	}
	local := false
	for _, e := range tree.Entries {
		local = local || e.Path == filepath.Join(dir, "local.pem")
	}
	if !local {
		t.Errorf("the local part of the tree is lost: %+v", tree.Entries)
	}
	start = time.Now()
	_, err = src.Read(ctx, files.Certificate, link)
	if !errors.Is(err, isolate.ErrTimeout) || !strings.HasPrefix(err.Error(), link+": hung since ") || time.Since(start) > 200*time.Millisecond {
		t.Errorf("read under a mount already known hung: %v after %v", err, time.Since(start))
	}
}

// A Dir reads its tree in-process, bounded, and a file mounted over from
// a FUSE filesystem (as lxcfs does with /proc/loadavg) in the prober.
func TestDir(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "1"), 0o755)
	os.WriteFile(filepath.Join(root, "loadavg"), []byte("0.5 0.4 0.3 1/2 3\n"), 0o644)
	os.Symlink("1", filepath.Join(root, "self"))
	syscall.Mkfifo(filepath.Join(root, "1", "stat"), 0o600)
	src := source(t, 500*time.Millisecond)
	d := src.Dir(context.Background(), root)
	if data, err := d.ReadFile("loadavg"); err != nil || !strings.HasPrefix(string(data), "0.5") {
		t.Errorf("loadavg: %q, %v", data, err)
	}
	if _, err := d.ReadFile("1/stat"); !errors.Is(err, files.ErrNotRegular) || !strings.HasPrefix(err.Error(), filepath.Join(root, "1/stat")+": is a FIFO") {
		t.Errorf("a FIFO in the tree: %v", err)
	}
	if link, err := d.Readlink("self"); err != nil || link != "1" {
		t.Errorf("readlink: %q, %v", link, err)
	}
	ents, err := d.ReadDir(".")
	if err != nil || len(ents) != 3 {
		t.Errorf("readdir: %+v, %v", ents, err)
	}
	if why := fusetest.Available(); why != "" {
		t.Log("not testing a FUSE mount inside the tree: " + why)
		return
	}
	backing := t.TempDir()
	os.WriteFile(filepath.Join(backing, "pressure"), []byte("some avg10=0.00"), 0o644)
	mnt := filepath.Join(root, "fuse")
	os.Mkdir(mnt, 0o755)
	ffs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	src = source(t, 500*time.Millisecond) // a source reads the mount table once: a new one sees the new mount
	d = src.Dir(context.Background(), root)
	if data, err := d.ReadFile("fuse/pressure"); err != nil || string(data) != "some avg10=0.00" {
		t.Errorf("a file on a healthy FUSE mount in the tree: %q, %v", data, err)
	}
	ffs.Set(fusetest.OpOpen, fusetest.Hang)
	start := time.Now()
	if _, err := d.ReadFile("fuse/pressure"); !errors.Is(err, isolate.ErrTimeout) || time.Since(start) > 900*time.Millisecond {
		t.Errorf("a file on a hung FUSE mount in the tree: %v after %v", err, time.Since(start))
	}
	if data, err := d.ReadFile("loadavg"); err != nil || len(data) == 0 {
		t.Errorf("the rest of the tree after the hang: %v", err)
	}
}

// "LINK/.." is the parent of LINK's target, not LINK's directory: a path
// that leads onto a hung mount that way must still go to the prober, never
// be read in-process (where the open would hang the plugin for good).
func TestDotDotAfterSymlink(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the dot-dot test: " + why)
	}
	dir := t.TempDir()
	backing := t.TempDir()
	os.Mkdir(filepath.Join(backing, "sub"), 0o755)
	os.WriteFile(filepath.Join(backing, "remote.pem"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "remote.pem"), []byte("local decoy"), 0o644)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	ffs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer ffs.Close()
	link := filepath.Join(dir, "ln")
	os.Symlink(filepath.Join(mnt, "sub"), link)
	p := link + "/../remote.pem" // the kernel reads mnt/remote.pem
	src := source(t, 500*time.Millisecond)
	if data, err := src.Read(context.Background(), files.Certificate, p); err != nil || string(data) != "x" {
		t.Fatalf("through the mount: %q, %v (not the decoy beside the link)", data, err)
	}
	ffs.Set(fusetest.OpOpen, fusetest.Hang)
	ffs.Set(fusetest.OpRead, fusetest.Hang)
	done := make(chan error, 1)
	go func() {
		_, err := src.Read(context.Background(), files.Certificate, p)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, isolate.ErrTimeout) {
			t.Errorf("a hung mount reached through LINK/..: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("Read(%s) hung in-process", p)
	}
}

// ReadTail keeps the last lines of a file over the limit, whole lines
// only, and refuses what Read refuses.
func TestReadTail(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.log")
	os.WriteFile(small, []byte("a\nb\n"), 0o644)
	big := filepath.Join(dir, "big.log")
	var b strings.Builder
	for i := 0; b.Len() < int(files.Log.Max)+100; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	os.WriteFile(big, []byte(b.String()), 0o644)
	src := source(t, time.Second)
	if data, cut, err := src.ReadTail(context.Background(), files.Log, small); err != nil || cut || string(data) != "a\nb\n" {
		t.Errorf("small: %q, %v, %v", data, cut, err)
	}
	data, cut, err := src.ReadTail(context.Background(), files.Log, big)
	if err != nil || !cut || int64(len(data)) > files.Log.Max || !strings.HasPrefix(string(data), "line ") ||
		!strings.HasSuffix(b.String(), string(data)) {
		t.Errorf("big: %d bytes starting %.20q, cut %v, %v", len(data), data, cut, err)
	}
	if _, _, err := src.ReadTail(context.Background(), files.Log, "/dev/zero"); !errors.Is(err, files.ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
}

// Open streams a file within its limit and fails past it, naming it.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "at")
	os.WriteFile(at, make([]byte, files.Secret.Max), 0o600)
	src := source(t, time.Second)
	r, err := src.Open(context.Background(), files.Secret, at)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := io.ReadAll(r); err != nil || int64(len(data)) != files.Secret.Max {
		t.Errorf("a file at the limit: %d bytes, %v", len(data), err)
	}
	r.Close()
	if _, err := src.Open(context.Background(), files.Secret, "/dev/zero"); !errors.Is(err, files.ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
	over := filepath.Join(dir, "over")
	os.WriteFile(over, make([]byte, files.Secret.Max+1), 0o600)
	if _, err := src.Open(context.Background(), files.Secret, over); !errors.Is(err, files.ErrTooLarge) {
		t.Errorf("a file one byte over: %v", err)
	}
}
