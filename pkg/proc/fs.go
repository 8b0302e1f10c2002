package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// UserHZ is the unit of the tick fields of stat (USER_HZ, 100 on every
// Linux architecture; procfs assumes the same).
const UserHZ = 100

// FS is a procfs root. Files are opened relative to a directory
// descriptor, which saves the kernel a path walk per read on the hot path.
type FS struct {
	Root string
	fd   int
}

// Open opens the procfs root at root. Close releases it.
func Open(root string) (*FS, error) {
	if root == "" {
		return nil, errors.New("procfs root is empty")
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs // the isolated prober runs in /
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open procfs %s: %w", root, err)
	}
	return &FS{Root: root, fd: fd}, nil
}

// Close releases the root's descriptor.
func (fs *FS) Close() error { return unix.Close(fs.fd) }

// Path is the full path of rel under the root, for messages and for the
// isolated prober.
func (fs *FS) Path(rel string) string { return fs.Root + "/" + rel }

// read reads the file rel into buf (growing it as needed) and returns the
// bytes read. A proc file is produced whole by the first read(2) when the
// buffer is large enough, so a short first read is the whole file: open,
// read, close, the least a file costs.
func (fs *FS) read(rel string, buf []byte) ([]byte, error) {
	fd, err := openat(fs.fd, rel)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: fs.Path(rel), Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf)+512)...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: fs.Path(rel), Err: err}
		}
		n += m
		if m == 0 || n < len(buf) {
			return buf[:n], nil
		}
	}
}

func openat(dirfd int, rel string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, rel, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// IsVanished reports whether err means the task exited between listing
// and reading: a normal event on a busy machine, not a problem.
func IsVanished(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH)
}

// IsDenied reports whether err means this user may not read the file.
func IsDenied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// SelfPID is the pid "self" points to under the root: our own on the
// real procfs, the fixture's choice in a fixture tree.
func (fs *FS) SelfPID() (int, error) {
	target, err := readlinkat(fs.fd, "self")
	if err != nil {
		return 0, &os.PathError{Op: "readlink", Path: fs.Path("self"), Err: err}
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
		return 0, fmt.Errorf("%s: %q: %w", fs.Path(rel), bytes.TrimSpace(data), ErrMalformed)
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
		buf = make([]byte, len(buf)*2)
	}
}
