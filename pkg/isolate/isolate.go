// Package isolate runs filesystem operations that can hang without end
// (statfs on a dead FUSE or NFS mount, reading /proc/PID/cmdline of a task
// in D) in a disposable child process: the plugin binary re-executed in a
// hidden probe mode. Once a FUSE or network filesystem has taken a
// request, the calling thread sleeps uninterruptibly; a goroutine doing it
// keeps the whole process from exiting, so its caller (Nagios, NRPE) stays
// blocked on the pipe. A child in its own process group, with private
// pipes and /dev/null for stderr, can simply be abandoned.
//
// A child that hangs is never joined by another one on the same target:
// the child holds a lock per target (a mount point, a file) while it works
// on it, in a per-user directory shared by every plugin and every run. A
// later request for a target whose lock is held past its deadline fails at
// once, saying since when the target is hung, instead of starting another
// child that would hang too. So a dead NFS server costs one stuck child per
// target, not one per run.
package isolate

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// childArg, as argv[1], puts the binary in probe mode. It is not an option
// a user would type and never shows in --help.
const childArg = "__hindsight_probe__"

// Op names an operation the child performs.
type Op string

// The operations a probe can run.
const (
	Statfs     Op = "statfs"      // statfs(2) of Path
	Stat       Op = "stat"        // stat(2) of Path
	Readdir    Op = "readdir"     // open Path and read up to Max names
	Read       Op = "read"        // open Path and read up to Max bytes, whatever it is
	ReadFile   Op = "read-file"   // read a regular file: up to Max+1 bytes, with its stat; other types only stat
	Walk       Op = "walk"        // list the tree under Path, up to Max entries, without following symlinks
	Readlink   Op = "readlink"    // readlink(2) of Path
	ReadDirect Op = "read-direct" // O_DIRECT read of the first block of Path
	WriteTest  Op = "write-test"  // create, write, fsync and remove a file in Path
)

// Request is one operation on one path, optionally followed by more
// operations on the same path in the same child (Then). The child reports
// each result as it completes and stops at the first failure, so when it
// hangs the error still names the operation it hung in.
type Request struct {
	Op   Op
	Path string
	Max  int  // names for Readdir, bytes for Read, entries for Walk; 0 means a default
	Then []Op // further operations, run in order after Op
	// Depth bounds Walk: 1 lists Path's entries only; 0 means no bound.
	Depth int
	// Target is what a hang makes unusable, and so what the lock is taken
	// on: the mount point when Path is on a network or FUSE filesystem.
	// Empty means Path itself.
	Target string
}

func (r Request) String() string { return string(r.Op) + " " + r.Path }

// at returns the request as it stood at op, for error messages.
func (r Request) at(op Op) Request {
	return Request{Op: op, Path: r.Path, Max: r.Max, Depth: r.Depth, Target: r.Target}
}

// Reply is what the child found. Only the part for the op is filled in.
type Reply struct {
	Statfs  StatfsInfo
	Stat    StatInfo
	Names   []string
	Data    []byte
	Link    string // Readlink's answer
	Entries []Entry
	// Truncated is set when Walk stopped at Max entries.
	Truncated bool
	// Elapsed is how long the operations took inside the child.
	Elapsed time.Duration
}

// Entry is one file found by Walk: its path, its type bits (S_IFMT of
// lstat) and its size.
type Entry struct {
	Path  string
	Mode  uint32
	Size  int64
	Errno syscall.Errno // a directory that could not be read (EACCES), else 0
}

// IsRegular reports whether e is a regular file.
func (e Entry) IsRegular() bool { return e.Mode&syscall.S_IFMT == syscall.S_IFREG }

// IsDir reports whether e is a directory.
func (e Entry) IsDir() bool { return e.Mode&syscall.S_IFMT == syscall.S_IFDIR }

// IsSymlink reports whether e is a symbolic link.
func (e Entry) IsSymlink() bool { return e.Mode&syscall.S_IFMT == syscall.S_IFLNK }

// StatfsInfo is the part of statfs(2) the checks use.
type StatfsInfo struct {
	Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree, Flags uint64
}

// StatInfo is the part of stat(2) the checks use.
type StatInfo struct {
	Mode, Dev, Ino, Size uint64
	Mtime                time.Time
}

// ErrTimeout is matched (errors.Is) by a probe that did not answer.
var ErrTimeout = errors.New("no answer")

// TimeoutError says which operation did not answer within which budget:
// "statfs /srv: no answer within 3s". When Since is set, no child was
// started: an earlier one, from this run or another, is still stuck on the
// same target.
type TimeoutError struct {
	Req    Request
	Budget time.Duration
	// Pid is the abandoned (or still stuck) child, 0 when none is known.
	Pid int
	// Since is when the stuck child started on the target, for a target
	// not probed again; zero for a child abandoned by this request.
	Since time.Time
}

func (e *TimeoutError) Error() string {
	if !e.Since.IsZero() {
		return fmt.Sprintf("%s: hung since %s (probe pid %d still waiting, not probed again)",
			e.Req, e.Since.Local().Format("2006-01-02 15:04:05"), e.Pid)
	}
	return fmt.Sprintf("%s: no answer within %s", e.Req, human.Duration(e.Budget))
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// OpError is an operation that answered with an error; Errno allows
// errors.Is(err, syscall.EIO) and friends.
type OpError struct {
	Req   Request
	Errno syscall.Errno
}

func (e *OpError) Error() string { return fmt.Sprintf("%s: %s", e.Req, e.Errno.Error()) }

// Unwrap returns the errno.
func (e *OpError) Unwrap() error { return e.Errno }
