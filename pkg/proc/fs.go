package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// UserHZ is the unit of the tick fields of stat (USER_HZ, 100 on every
// Linux architecture; procfs assumes the same).
const UserHZ = 100

// FS is a procfs root. Every file is read bounded (files.Kernel) and only
// when it is a regular file; a root on a network or FUSE mount (or with
// one mounted below it, as lxcfs does in containers) is read through the
// files.Dir, which isolates what can hang in the prober. A root that
// cannot hang is read by a fast path with the same guarantees: files
// opened relative to a directory descriptor (no path walk per file),
// O_NONBLOCK (a FIFO cannot block the open), fstat'ed, read into a
// bounded buffer. Anything unusual on the fast path is read again through
// the Dir, whose error is the one returned.
type FS struct {
	Root string // absolute, for messages and for the prober
	dir  *files.Dir
	ctx  context.Context
	fd   int // the root's descriptor on the fast path, -1 otherwise
	// procfs is set when the root is a real procfs: its files are made by
	// the kernel and are all regular, so the fast path spares the fstat
	// (an eighth of a scan); O_NONBLOCK and the bounded buffer stay.
	procfs bool
}

// OpenDir opens the procfs tree dir. Close releases it. The error names
// the root and what is wrong with it.
func OpenDir(ctx context.Context, dir *files.Dir) (*FS, error) {
	root := dir.Root
	if abs, err := filepath.Abs(root); err == nil {
		root = abs // the isolated prober runs in /
	}
	info, err := dir.Stat(".")
	if err != nil {
		return nil, fmt.Errorf("open procfs %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("open procfs %s: is %s, not a directory", root, files.DescribeType(info.Mode))
	}
	fs := &FS{Root: root, dir: dir, ctx: ctx, fd: -1}
	if dir.Local(".") {
		fd, procfs, err := openRoot(root)
		if err != nil {
			return nil, fmt.Errorf("open procfs %s: %w", root, err)
		}
		fs.fd, fs.procfs = fd, procfs
	}
	return fs, nil
}

// Close releases the root's descriptor.
func (fs *FS) Close() error {
	if fs.fd < 0 {
		return nil
	}
	return unix.Close(fs.fd)
}

// Isolated reports whether reads go through the prober (or at least the
// Dir's slower checks): the root, or something below it, can hang.
func (fs *FS) Isolated() bool { return fs.fd < 0 }

// Path is the full path of rel under the root, for messages and for the
// isolated prober.
func (fs *FS) Path(rel string) string { return fs.Root + "/" + rel }

// read reads the file rel into buf (growing it as needed, up to the
// files.Kernel limit) and returns the bytes read. A proc file is produced
// whole by the first read(2) when the buffer is large enough, so a short
// first read is the whole file: open, fstat, read, close, the least a
// file costs with its type checked.
func (fs *FS) read(rel string, buf []byte) ([]byte, error) {
	if fs.fd < 0 {
		return fs.dir.ReadFile(rel)
	}
	data, ok := fs.readFast(rel, buf)
	if ok {
		return data, nil
	}
	// Vanished, denied, not regular, over the limit: the Dir says it in
	// the words every check uses (and reads it, if it changed meanwhile).
	if fs.dir == nil {
		return files.ReadLocal(files.Kernel, fs.Path(rel))
	}
	return fs.dir.ReadFile(rel)
}

// readFast is the fast path of read; false for anything but a regular
// file within the limit read without error.
func (fs *FS) readFast(rel string, buf []byte) ([]byte, bool) {
	fd, err := openat(fs.fd, rel)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	if !fs.procfs {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > files.Kernel.Max {
			return nil, false
		}
	}
	n := 0
	for {
		if n == len(buf) {
			if int64(n) > files.Kernel.Max {
				return nil, false
			}
			buf = append(buf, make([]byte, len(buf)+512)...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		n += m
		if m == 0 || n < len(buf) {
			if int64(n) > files.Kernel.Max {
				return nil, false
			}
			return buf[:n], true
		}
	}
}

func openat(dirfd int, rel string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readlink returns the target of the symlink rel. readlink(2) of a proc
// link (exe, self) does not touch the filesystem it points into.
func (fs *FS) readlink(rel string) (string, error) {
	if fs.fd < 0 {
		return fs.dir.Readlink(rel)
	}
	target, err := readlinkat(fs.fd, rel)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: fs.Path(rel), Err: err}
	}
	return target, nil
}

// Fatal reports whether err ends a scan rather than one process: the
// tree stopped answering (a hung mount) or the run's time is up.
func Fatal(err error) bool {
	return errors.Is(err, isolate.ErrTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// IsVanished reports whether err means the task exited between listing
// and reading: a normal event on a busy machine, not a problem.
func IsVanished(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH)
}

// SelfPID is the pid "self" points to under the root: our own on the
// real procfs, the fixture's choice in a fixture tree.
func (fs *FS) SelfPID() (int, error) {
	target, err := fs.readlink("self")
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(target)
	if err != nil {
		return 0, fmt.Errorf("readlink %s: %q is not a pid", fs.Path("self"), target)
	}
	return pid, nil
}

// BootTime is the boot time in seconds since the epoch, from the btime
// line of /proc/stat. Read it once per run: procfs' ProcStat.StartTime
// re-reads it per call, and its Stat() parses every cpu and interrupt
// line to get there, a tenth of a healthy run.
func (fs *FS) BootTime() (uint64, error) {
	data, err := fs.read("stat", make([]byte, 8192))
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			n, ok := parseInt(bytes.TrimSpace(v))
			if !ok || n <= 0 {
				break
			}
			return uint64(n), nil
		}
	}
	return 0, fmt.Errorf("%s: no btime line: %w", fs.Path("stat"), ErrMalformed)
}

// HungTaskCount is the kernel hung-task detector's count of reports since
// boot (kernel.hung_task_detect_count, readable without root; absent
// without CONFIG_DETECT_HUNG_TASK).
func (fs *FS) HungTaskCount() (uint64, error) {
	const rel = "sys/kernel/hung_task_detect_count"
	data, err := fs.read(rel, make([]byte, 32))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %.40q: %w", fs.Path(rel), bytes.TrimSpace(data), ErrMalformed)
	}
	return n, nil
}

func readlinkat(dirfd int, rel string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirfd, rel, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 64<<10 { // PATH_MAX is 4 KiB: not a proc link
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, len(buf)*2)
	}
}
