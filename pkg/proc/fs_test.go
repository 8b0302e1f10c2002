package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// The test binary doubles as the isolated prober's child: trees on a
// FUSE mount are read through it.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// tree opens root as a check would: through a files.Dir.
func tree(t *testing.T, root string, budget time.Duration) (*FS, error) {
	t.Helper()
	src := files.New(isolate.NewProber(t.TempDir()), func() time.Duration { return budget }, "/proc/self/mountinfo")
	return OpenDir(context.Background(), src.Dir(context.Background(), root))
}

func openTree(t *testing.T, root string) *FS {
	t.Helper()
	fs, err := tree(t, root, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
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

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

const statLine = " (worker) S 1 1 1 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 1000 10485760 256" + tail

// A root of the wrong kind is an error naming it, at once.
func TestOpenRootKinds(t *testing.T) {
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
	for _, tt := range []struct{ root, want string }{
		{fifo, "is a FIFO, not a directory"},
		{"/dev/zero", "is a character device, not a directory"},
		{big, "is a regular file, not a directory"},
		{loop, "symbolic links"},
		{dangling, "no such file or directory"},
	} {
		start := time.Now()
		_, err := tree(t, tt.root, 2*time.Second)
		if err == nil || !strings.Contains(err.Error(), tt.root) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want an error naming it and %q", tt.root, err, tt.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Open(%s) took %s", tt.root, d)
		}
	}
}

// Files of the wrong kind or size inside a tree: each a bounded error
// naming the file, never a hang or a read of a gigabyte.
func TestBoundedFiles(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "1", "stat"), "1"+statLine)
	os.MkdirAll(filepath.Join(root, "2"), 0o755)
	sparse(t, filepath.Join(root, "2", "stat"), 1<<30)
	os.MkdirAll(filepath.Join(root, "3"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "3", "stat"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "4"), 0o755)
	os.Symlink("/dev/zero", filepath.Join(root, "4", "stat"))
	os.MkdirAll(filepath.Join(root, "5"), 0o755)
	os.Symlink("stat", filepath.Join(root, "5", "stat"))
	sparse(t, filepath.Join(root, "stat"), 1<<30)

	fs := openTree(t, root)
	start := time.Now()
	var seen []int
	st, err := fs.Scan(func(p *Process) { seen = append(seen, p.PID) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != 1 || st.Unreadable != 4 {
		t.Errorf("scan saw %v, %+v", seen, st)
	}
	all := strings.Join(st.Problems, "\n")
	for _, w := range []string{"2/stat: larger than the 4 MiB limit", "3/stat: is a FIFO", "4/stat: is a character device", "5/stat: too many levels of symbolic links"} {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q:\n%s", w, all)
		}
	}
	if _, err := fs.BootTime(); !errors.Is(err, files.ErrTooLarge) {
		t.Errorf("BootTime of a 1 GiB stat: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// copyTree copies the busy fixture into dir.
func copyTree(t *testing.T, dst string) {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "stuckprocs", "busy")
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// A tree on a FUSE mount is read through the prober and gives what the
// same tree gives in-process; when the mount hangs, the scan ends with
// an error naming it within the budget.
func TestFuseTree(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	os.Mkdir(backing, 0o755)
	os.Mkdir(mnt, 0o755)
	copyTree(t, backing)
	fuse, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	defer fuse.Close()

	scan := func(fs *FS) (map[int]Process, ScanStats, error) {
		out := map[int]Process{}
		st, err := fs.Scan(func(p *Process) { out[p.PID] = *p })
		return out, st, err
	}
	local := openTree(t, filepath.Join(backing, "proc"))
	if local.Isolated() {
		t.Fatal("a local tree is read through the prober")
	}
	want, wantSt, _ := scan(local)
	isolated := openTree(t, filepath.Join(mnt, "proc"))
	if !isolated.Isolated() {
		t.Fatal("a tree on FUSE is read in-process")
	}
	got, gotSt, err := scan(isolated)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || gotSt.Unreadable != wantSt.Unreadable || gotSt.Malformed != wantSt.Malformed {
		t.Errorf("isolated scan %d processes %+v, in-process %d %+v", len(got), gotSt, len(want), wantSt)
	}
	if len(got[400].D) != 1 || got[400].D[0].PID != 402 {
		t.Errorf("thread in D not found through the prober: %+v", got[400])
	}
	if pid, err := isolated.SelfPID(); err != nil || pid != 4000 {
		t.Errorf("SelfPID = %d, %v", pid, err)
	}

	fuse.Set(fusetest.OpRead, fusetest.Hang)
	defer fuse.Release()
	hung, err := tree(t, filepath.Join(mnt, "proc"), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	start := time.Now()
	_, _, err = scan(hung)
	if err == nil || !errors.Is(err, isolate.ErrTimeout) || !strings.Contains(err.Error(), mnt) {
		t.Errorf("scan of a hung tree: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scan of a hung tree took %s", d)
	}
}
