package isolate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A lock file per target, in a per-user directory shared by every plugin
// and run: DIR/<hash of the target>.lock. The child holds an exclusive
// flock on it while it works on the target and writes a record saying
// who it is, since when, and until when it expected to be done. A child
// stuck in the kernel keeps the lock for as long as it is stuck; the
// record then says since when the target is hung. A child that finished
// removes the file (while still holding the lock), so only hung targets
// leave files behind.

// record is the text a lock holder writes into its lock file.
type record struct {
	Pid      int
	Since    time.Time
	Deadline time.Time
	Target   string
}

func (r record) String() string {
	return "pid=" + strconv.Itoa(r.Pid) +
		" since=" + strconv.FormatInt(r.Since.UnixNano(), 10) +
		" deadline=" + strconv.FormatInt(r.Deadline.UnixNano(), 10) +
		" target=" + strconv.Quote(r.Target) + "\n"
}

func parseRecord(s string) (record, bool) {
	var r record
	line, _, _ := strings.Cut(s, "\n")
	fields := strings.SplitN(line, " ", 4)
	if len(fields) != 4 {
		return r, false
	}
	var okPid, okSince, okDeadline, okTarget bool
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pid":
			n, err := strconv.Atoi(v)
			r.Pid, okPid = n, err == nil && n > 0
		case "since":
			n, err := strconv.ParseInt(v, 10, 64)
			r.Since, okSince = time.Unix(0, n), err == nil
		case "deadline":
			n, err := strconv.ParseInt(v, 10, 64)
			r.Deadline, okDeadline = time.Unix(0, n), err == nil
		case "target":
			t, err := strconv.Unquote(v)
			r.Target, okTarget = t, err == nil
		}
	}
	return r, okPid && okSince && okDeadline && okTarget
}

// lockPath names the lock file of target in dir. The target is hashed:
// paths may be long or hold any byte.
func lockPath(dir, target string) string {
	sum := sha256.Sum256([]byte(target))
	return filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock")
}

// stuckHolder reports the holder of target's lock when it is past its
// deadline and still alive: a child stuck on the target. A lock held by a
// child still within its deadline is work in progress, not a hang: the
// caller's own child then waits for the lock.
func stuckHolder(dir, target string, now time.Time) (record, bool) {
	fd, err := unix.Open(lockPath(dir, target), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return record{}, false
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); err == nil {
		return record{}, false // nobody holds it
	}
	buf := make([]byte, 4096)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || n <= 0 {
		return record{}, false
	}
	rec, ok := parseRecord(string(buf[:n]))
	if !ok || rec.Target != target || now.Before(rec.Deadline) {
		return record{}, false
	}
	if err := unix.Kill(rec.Pid, 0); err != nil && !errors.Is(err, unix.EPERM) {
		return record{}, false
	}
	return rec, true
}

// lockTarget takes target's lock in dir, waiting for a holder still at
// work (the parent's deadline ends the wait: flock sleeps interruptibly,
// so the child is killable there), and writes the record. The returned
// release removes the file when the work finished, then unlocks.
func lockTarget(dir, target string, deadline time.Time) (release func(finished bool), err error) {
	path := lockPath(dir, target)
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
			unix.Close(fd)
			return nil, err
		}
		// The holder before us may have removed the file after we opened
		// it: a lock on a removed file guards nothing, so start over.
		var held, named unix.Stat_t
		if unix.Fstat(fd, &held) != nil || unix.Stat(path, &named) != nil || held.Ino != named.Ino || held.Dev != named.Dev {
			unix.Close(fd)
			continue
		}
		now := time.Now()
		rec := record{Pid: unix.Getpid(), Since: now, Deadline: deadline, Target: target}
		unix.Ftruncate(fd, 0)
		unix.Pwrite(fd, []byte(rec.String()), 0)
		return func(finished bool) {
			if finished {
				unix.Unlink(path)
			}
			unix.Close(fd) // closing the last descriptor drops the lock
		}, nil
	}
}
