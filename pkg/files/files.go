// Package files is the one way a hindsight check reads a file or walks a
// tree. Every read is bounded (a size limit per kind of file), takes only
// what is expected (a regular file where a file is expected: a FIFO, a
// device, a directory or a socket is a clear error naming the path), and
// runs in the isolated prober whenever the path is on a filesystem that
// can hang (network or FUSE, or any path through one): a dead mount is an
// error naming the mount, never a plugin that cannot exit.
package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Limit is a kind of file and the most of it a check reads. The limits
// are far above any real file of the kind and far below what would hurt
// a monitoring host: a check never holds more than a few of them at once.
type Limit struct {
	Kind string
	Max  int64
}

// The kinds of file hindsight reads, each with its limit.
var (
	// Certificates, bundles, kubeconfigs and keystores: Debian's whole CA
	// bundle is about 220 KiB, a kubeconfig with embedded certificates a
	// few KiB to a few hundred.
	Certificate = Limit{"certificate", 4 << 20}
	// Keys, passwords and credentials: a 16 kbit RSA key in PEM is 13 KiB.
	Secret = Limit{"key or password", 64 << 10}
	// State files of our own: a few KiB on a healthy host.
	State = Limit{"state", 1 << 20}
	// Files of /proc and /sys: mountinfo of a host with thousands of
	// mounts is the largest, at a few hundred KiB.
	Kernel = Limit{"/proc or /sys", 4 << 20}
	// Request bodies sent by check_http_status.
	Body = Limit{"request body", 8 << 20}
	// Configuration: fstab and the like.
	Config = Limit{"configuration", 1 << 20}
	// Cookie jars (check_http_status --cookie-jar): pkg/cookies keeps at
	// most 256 cookies of 4 KiB, about 1.1 MiB in the file.
	Cookies = Limit{"cookie jar", 2 << 20}
	// Status files an engine rewrites (Nagios' status.dat): about 2 KiB
	// per service, so 64 MiB holds some 30,000 services.
	Status = Limit{"status", 64 << 20}
	// Logs, read from their end with ReadTail: the newest lines matter.
	Log = Limit{"log", 8 << 20}
)

func (l Limit) String() string { return l.Kind + " files (" + formatSize(l.Max) + ")" }

// Error is a file that could not be read, with the path and, in words,
// why. It unwraps to the errno or the prober's error, so errors.Is(err,
// fs.ErrNotExist) and errors.Is(err, isolate.ErrTimeout) work.
type Error struct {
	Path    string
	Problem string
	Err     error
}

func (e *Error) Error() string { return e.Path + ": " + e.Problem }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge is matched by a file over its kind's limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is matched by a FIFO, device, socket or directory where a
// regular file is expected.
var ErrNotRegular = errors.New("not a regular file")

// Source reads files for one run. Its zero value is not usable: New.
type Source struct {
	prober *isolate.Prober
	budget func() time.Duration
	mounts *table
}

// New returns a source that isolates risky reads in prober, each within
// budget() (and the context's deadline), and reads the mount table from
// mountinfo (the real one of this process: what can hang is decided by
// the mounts we see, whatever --procfs says).
func New(prober *isolate.Prober, budget func() time.Duration, mountinfo string) *Source {
	return &Source{prober: prober, budget: budget, mounts: newTable(mountinfo)}
}

// Read returns the content of the regular file at path, which must not
// exceed lim. Symlinks are followed.
func (s *Source) Read(ctx context.Context, lim Limit, path string) ([]byte, error) {
	return s.read(ctx, lim, path)
}

// ReadKernel reads a file of /proc or /sys (or of a tree standing in for
// them): these are regular files, and on a real procfs or sysfs they are
// read in-process; under a --procfs or --sysfs on a FUSE or network
// mount, in the prober.
func (s *Source) ReadKernel(ctx context.Context, path string) ([]byte, error) {
	return s.read(ctx, Kernel, path)
}

func (s *Source) read(ctx context.Context, lim Limit, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Path: path, Problem: "not read: " + err.Error(), Err: err}
	}
	where := s.mounts.classify(path)
	if where.risky {
		return s.readIsolated(ctx, lim, path, where)
	}
	// The path the walk resolved, not the one given: the kernel must not
	// resolve it again differently (a symlink swapped in meanwhile).
	data, err := ReadLocal(lim, where.path)
	return data, renamed(err, path)
}

// ReadTail returns the end of the regular file at path: all of it when
// it is within lim, else its last lim.Max bytes from the first line that
// starts in them, with cut set. On a mount that can hang the file is
// read whole in the prober, and one over lim is an error.
func (s *Source) ReadTail(ctx context.Context, lim Limit, path string) (data []byte, cut bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, &Error{Path: path, Problem: "not read: " + err.Error(), Err: err}
	}
	where := s.mounts.classify(path)
	if where.risky {
		data, err := s.readIsolated(ctx, lim, path, where)
		return data, false, err
	}
	fd, err := unix.Open(where.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false, errnoError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, false, errnoError(path, err)
	}
	if err := wantRegular(path, uint32(st.Mode)); err != nil {
		return nil, false, err
	}
	if st.Size > lim.Max {
		if _, err := f.Seek(st.Size-lim.Max, io.SeekStart); err != nil {
			return nil, false, errnoError(path, err)
		}
		cut = true
	}
	data, err = io.ReadAll(io.LimitReader(f, lim.Max))
	if err != nil {
		return nil, false, errnoError(path, err)
	}
	if cut {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return data, cut, nil
}

// Open returns a reader of the regular file at path that fails, naming
// lim, past lim.Max bytes: a big file is parsed as it is read instead of
// held whole. On a mount that can hang the file is read whole in the
// prober first; a file whose size is over lim is refused at once.
func (s *Source) Open(ctx context.Context, lim Limit, path string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Path: path, Problem: "not read: " + err.Error(), Err: err}
	}
	where := s.mounts.classify(path)
	if where.risky {
		data, err := s.readIsolated(ctx, lim, path, where)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	fd, err := unix.Open(where.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errnoError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, errnoError(path, err)
	}
	if err := wantRegular(path, uint32(st.Mode)); err != nil {
		f.Close()
		return nil, err
	}
	if st.Size > lim.Max {
		f.Close()
		return nil, tooLarge(lim, path)
	}
	return &bounded{f: f, left: lim.Max, lim: lim, path: path}, nil
}

// bounded reads a file up to its limit, then fails naming it.
type bounded struct {
	f    *os.File
	left int64
	lim  Limit
	path string
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.f.Read(one[:]); n > 0 {
			return 0, tooLarge(b.lim, b.path)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.f.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		err = errnoError(b.path, err)
	}
	return n, err
}

func (b *bounded) Close() error { return b.f.Close() }

// ReadLocal reads a file on a filesystem that cannot hang, in-process:
// bounded by lim, regular files only. O_NONBLOCK: a
// FIFO without a writer would otherwise block in open.
func ReadLocal(lim Limit, path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errnoError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, errnoError(path, err)
	}
	if err := wantRegular(path, uint32(st.Mode)); err != nil {
		return nil, err
	}
	// A file whose size is over the limit is refused before any read (a
	// 1 GB status file costs nothing); the buffer is sized from the
	// file, so a big file within the limit is not copied as it grows.
	// Files of /proc say 0 and are read to their end.
	if st.Size > lim.Max {
		return nil, tooLarge(lim, path)
	}
	var buf bytes.Buffer
	if st.Size > 0 {
		buf.Grow(int(st.Size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, lim.Max+1)); err != nil {
		return nil, errnoError(path, err)
	}
	return checkSize(lim, path, buf.Bytes())
}

func (s *Source) readIsolated(ctx context.Context, lim Limit, path string, where place) ([]byte, error) {
	req := isolate.Request{Op: isolate.ReadFile, Path: where.path, Max: int(lim.Max), Target: where.mount}
	reply, err := s.prober.Do(ctx, s.budget(), req)
	if err != nil {
		return nil, proberError(path, where, err)
	}
	if err := wantRegular(path, uint32(reply.Stat.Mode)); err != nil {
		return nil, err
	}
	return checkSize(lim, path, reply.Data)
}

func checkSize(lim Limit, path string, data []byte) ([]byte, error) {
	if int64(len(data)) > lim.Max {
		return nil, tooLarge(lim, path)
	}
	return data, nil
}

func tooLarge(lim Limit, path string) error {
	return &Error{Path: path, Problem: "larger than the " + formatSize(lim.Max) + " limit for " + lim.Kind + " files", Err: ErrTooLarge}
}

func wantRegular(path string, mode uint32) error {
	if mode&unix.S_IFMT == unix.S_IFREG {
		return nil
	}
	return &Error{Path: path, Problem: "is " + DescribeType(mode) + ", not a regular file", Err: ErrNotRegular}
}

// DescribeType names the file type of a stat mode in words, with its
// article: "a FIFO", "a character device".
func DescribeType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return "of unknown type"
}

// errnoError words an error of open, stat or read.
func errnoError(path string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ELOOP:
			return &Error{Path: path, Problem: "too many levels of symbolic links (a symlink loop?)", Err: err}
		case syscall.EACCES, syscall.EPERM:
			return &Error{Path: path, Problem: "permission denied for uid " + strconv.Itoa(os.Geteuid()), Err: err}
		}
		return &Error{Path: path, Problem: errno.Error(), Err: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errnoError(path, pe.Err)
	}
	return &Error{Path: path, Problem: err.Error(), Err: err}
}

// proberError words what the prober said about path.
func proberError(path string, where place, err error) error {
	var te *isolate.TimeoutError
	var oe *isolate.OpError
	switch {
	case errors.As(err, &te):
		problem := "no answer within " + human.Duration(te.Budget)
		if !te.Since.IsZero() {
			problem = "hung since " + te.Since.Local().Format("2006-01-02 15:04:05") + ", not tried again"
		}
		return &Error{Path: path, Problem: problem + " (" + where.fstype + " mount " + where.mount + " hangs)", Err: err}
	case errors.As(err, &oe):
		return errnoError(path, oe.Errno)
	}
	return &Error{Path: path, Problem: err.Error(), Err: err}
}

// formatSize says a byte count in the largest binary unit it fills.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Info is what Stat tells of a path: its type bits and size.
type Info struct {
	Mode uint32
	Size int64
}

// IsDir reports whether the path is a directory.
func (i Info) IsDir() bool { return i.Mode&unix.S_IFMT == unix.S_IFDIR }

// IsRegular reports whether the path is a regular file.
func (i Info) IsRegular() bool { return i.Mode&unix.S_IFMT == unix.S_IFREG }

// Stat follows symlinks and says what path is, in the prober when the
// path is on a filesystem that can hang.
func (s *Source) Stat(ctx context.Context, path string) (Info, error) {
	where := s.mounts.classify(path)
	if where.risky {
		req := isolate.Request{Op: isolate.Stat, Path: where.path, Target: where.mount}
		reply, err := s.prober.Do(ctx, s.budget(), req)
		if err != nil {
			return Info{}, proberError(path, where, err)
		}
		return Info{Mode: uint32(reply.Stat.Mode), Size: int64(reply.Stat.Size)}, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(where.path, &st); err != nil {
		return Info{}, errnoError(path, err)
	}
	return Info{Mode: uint32(st.Mode), Size: st.Size}, nil
}

// CheckLocal returns an error when path is on a filesystem that can hang:
// state is written in-process, so it must live on a local filesystem.
func (s *Source) CheckLocal(ctx context.Context, path string) error {
	_, err := s.Local(ctx, path)
	return err
}

// Local returns path with its symlinks and ".." resolved, or an error when
// it leads onto a filesystem that can hang. Write to what it returns: the
// path as given may be resolved differently by the kernel later.
func (s *Source) Local(_ context.Context, path string) (string, error) {
	where := s.mounts.classify(path)
	if where.risky {
		return "", &Error{Path: path, Problem: "is on " + where.fstype + " mount " + where.mount + ", which can hang: keep state on a local filesystem"}
	}
	return where.path, nil
}

// Target is what a hang of path makes unusable, for isolate.Request's
// Target: the network or FUSE mount point path is on, else path itself.
// Probes of paths under one mount share its lock, so a dead mount costs
// one stuck child whatever is probed on it.
func (s *Source) Target(path string) string {
	if where := s.mounts.classify(path); where.risky {
		return where.mount
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
