package mounts

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Prober runs one operation in a disposable child (isolate.Prober).
type Prober interface {
	Do(ctx context.Context, budget time.Duration, req isolate.Request) (isolate.Reply, error)
}

// Probes is what a responsive mount must answer: statfs (what df does),
// stat of the mount point (fails with EIO on a shut-down XFS, whose statfs
// still works) and a readdir (a FUSE mount's root stat is answered from
// cache even when the daemon is hung).
var Probes = []isolate.Op{isolate.Statfs, isolate.Stat, isolate.Readdir}

// ProbeResult is how a mount answered.
type ProbeResult struct {
	Op      isolate.Op    // the operation that failed or did not answer; "" if all passed
	Hung    bool          // Op did not answer within the budget
	Errno   syscall.Errno // Op failed with this errno
	Err     error         // any other failure to probe
	Pid     int           // the abandoned child when Hung
	Statfs  isolate.StatfsInfo
	Elapsed time.Duration // wall time of all the operations
}

// OK reports whether every operation answered without error.
func (r ProbeResult) OK() bool { return r.Op == "" && r.Err == nil }

// Probe runs ops on path one after the other, all within budget, and
// stops at the first that fails or hangs: one stuck child per mount at
// most, never three.
func Probe(ctx context.Context, p Prober, path string, budget time.Duration, ops []isolate.Op) ProbeResult {
	start := time.Now()
	deadline := start.Add(budget)
	var res ProbeResult
	for _, op := range ops {
		left := time.Until(deadline)
		reply, err := p.Do(ctx, left, isolate.Request{Op: op, Path: path})
		if err != nil {
			res.Op = op
			var te *isolate.TimeoutError
			var oe *isolate.OpError
			switch {
			case errors.As(err, &te):
				res.Hung, res.Pid = true, te.Pid
			case errors.As(err, &oe):
				res.Errno = oe.Errno
			default:
				res.Err = err
			}
			break
		}
		if op == isolate.Statfs {
			res.Statfs = reply.Statfs
		}
	}
	res.Elapsed = time.Since(start)
	return res
}
