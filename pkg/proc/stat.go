// Package proc reads the process table from a procfs root (the host's
// /proc, a container's view of it, or a fixture tree): every process and,
// where it has more than one, every thread, with the few per-task files a
// check needs to say what is stuck and since when. It knows Linux, not
// Nagios.
//
// It does not use prometheus/procfs, on purpose: its ProcStat goes
// through fmt.Sscan (tens of microseconds a process, too much for ten
// thousand of them), its Stat() parses every line of /proc/stat to get
// btime, and importing it compiles some twenty regular expressions at
// init, 0.2-0.4 ms of every run of a plugin whose whole budget is a few
// milliseconds. The files read here are simple enough for a few lines
// each; the stat parser is fuzzed.
package proc

import (
	"bytes"
	"errors"
	"fmt"
)

// Stat is the part of /proc/PID/stat (or task/TID/stat) a check uses.
// Field numbers are those of proc_pid_stat(5).
type Stat struct {
	PID        int    // (1) the task id: a tid when read from task/TID/stat
	Comm       string // (2) at most 15 bytes; may hold spaces and parentheses
	State      byte   // (3) R S D Z T t X I ...
	PPID       int    // (4)
	PGRP       int    // (5)
	Session    int    // (6)
	TPGID      int    // (8) foreground process group of the terminal
	Flags      uint64 // (9) PF_* flags
	UTime      uint64 // (14) ticks
	STime      uint64 // (15) ticks
	Nice       int64  // (19)
	NumThreads int64  // (20)
	StartTime  uint64 // (22) ticks since boot: with PID, what names a process
	VSize      uint64 // (23) bytes
	RSS        int64  // (24) pages
	Processor  int    // (39) the CPU it last ran on; -1 when the line is shorter
}

// pfKthread is PF_KTHREAD in include/linux/sched.h.
const pfKthread = 0x00200000

// IsKernelThread reports whether the task is a kernel thread, by
// PF_KTHREAD. Not by "pid 2 and its children", as check_procs does: in a
// pid namespace (a container), pid 2 is an ordinary process.
func (s Stat) IsKernelThread() bool {
	return s.Flags&pfKthread != 0
}

// ErrMalformed is matched by errors.Is for a stat line that cannot be parsed.
var ErrMalformed = errors.New("malformed stat line")

// minFields is the number of fields after the comm that must be present:
// through rss (24). Fields up to processor (39) are read when present;
// the rest are ignored.
const (
	minFields = 24 - 2
	maxFields = 39 - 2
)

// ParseStat parses one stat line. The comm is delimited by the first "("
// and the last ")", since it may itself hold both.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 1 || closing < open {
		return s, fmt.Errorf("%w: no (comm)", ErrMalformed)
	}
	pid, ok := parseInt(bytes.TrimSpace(b[:open]))
	if !ok || pid < 0 {
		return s, fmt.Errorf("%w: bad pid", ErrMalformed)
	}
	s.PID = int(pid)
	s.Processor = -1
	s.Comm = string(b[open+1 : closing])
	rest := bytes.TrimRight(b[closing+1:], "\n")
	var n int // fields seen after the comm; field number is n+3
	for len(rest) > 0 && n < maxFields {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			break
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		field := rest[:end]
		rest = rest[end:]
		if err := s.set(n+3, field); err != nil {
			return s, err
		}
		n++
	}
	if n < minFields {
		return s, fmt.Errorf("%w: %d fields after comm, want at least %d", ErrMalformed, n, minFields)
	}
	return s, nil
}

// set stores field number f; fields a check has no use for are skipped
// unparsed.
func (s *Stat) set(f int, field []byte) error {
	if f == 3 {
		if len(field) != 1 {
			return fmt.Errorf("%w: bad state %q", ErrMalformed, field)
		}
		s.State = field[0]
		return nil
	}
	switch f {
	case 4, 5, 6, 8, 9, 14, 15, 19, 20, 22, 23, 24, 39:
	default:
		return nil
	}
	v, ok := parseInt(field)
	if !ok {
		return fmt.Errorf("%w: field %d %q is not a number", ErrMalformed, f, field)
	}
	switch f {
	case 4:
		s.PPID = int(v)
	case 5:
		s.PGRP = int(v)
	case 6:
		s.Session = int(v)
	case 8:
		s.TPGID = int(v)
	case 9:
		s.Flags = uint64(v)
	case 14:
		s.UTime = uint64(v)
	case 15:
		s.STime = uint64(v)
	case 19:
		s.Nice = v
	case 20:
		s.NumThreads = v
	case 22:
		s.StartTime = uint64(v)
	case 23:
		s.VSize = uint64(v)
	case 24:
		s.RSS = v
	case 39:
		s.Processor = int(v)
	}
	return nil
}

// parseInt parses a decimal integer with an optional minus sign, without
// allocating. Values beyond int64 are refused.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}
