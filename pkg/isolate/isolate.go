// Package isolate runs filesystem operations that can hang without end
// (statfs on a dead FUSE or NFS mount, reading /proc/PID/cmdline of a task
// in D) in a disposable child process: the plugin binary re-executed in a
// hidden probe mode. Once a FUSE or network filesystem has taken a
// request, the calling thread sleeps uninterruptibly; a goroutine doing it
// keeps the whole process from exiting, so its caller (Nagios, NRPE) stays
// blocked on the pipe. A child in its own process group, with a private
// stdout and /dev/null for stdin and stderr, can simply be abandoned.
package isolate

import (
	"errors"
	"fmt"
	"syscall"
	"time"
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
	Read       Op = "read"        // open Path and read up to Max bytes
	ReadDirect Op = "read-direct" // O_DIRECT read of the first block of Path
	WriteTest  Op = "write-test"  // create, write, fsync and remove a file in Path
)

// Request is one operation on one path, optionally followed by more
// operations on the same path in the same child (Then): one child's
// start-up instead of one per operation. The child reports each result as
// it completes and stops at the first failure, so when it hangs the error
// still names the operation it hung in.
type Request struct {
	Op   Op
	Path string
	Max  int  // names for Readdir, bytes for Read; 0 means a default
	Then []Op // further operations, run in order after Op
}

func (r Request) String() string { return string(r.Op) + " " + r.Path }

// at returns the request as it stood at op, for error messages.
func (r Request) at(op Op) Request {
	return Request{Op: op, Path: r.Path, Max: r.Max}
}

// Reply is what the child found. Only the part for the op is filled in.
type Reply struct {
	Statfs StatfsInfo
	Stat   StatInfo
	Names  []string
	Data   []byte
	// Elapsed is how long the operation took inside the child.
	Elapsed time.Duration
}

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
// "statfs /srv: no answer within 3s".
type TimeoutError struct {
	Req    Request
	Budget time.Duration
	// Pid is the abandoned child, 0 when none was started. A caller that
	// remembers it across runs can see whether the child is still stuck
	// before starting another one on the same hung target.
	Pid int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %s", e.Req, formatBudget(e.Budget))
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

func formatBudget(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
