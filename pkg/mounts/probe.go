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
	Op    isolate.Op    // the first operation that failed or did not answer; "" if all passed
	Hung  bool          // Op did not answer within the budget, or the target is known hung
	Since time.Time     // set when the target was already hung: since when; nothing was started
	Pid   int           // the child abandoned (or, with Since, still stuck) on the target
	Errno syscall.Errno // Op failed with this errno
	Err   error         // any other failure to probe
	// Pids are the children abandoned because they did not answer
	// (Pid, when set, as a list).
	Pids    []int
	Statfs  isolate.StatfsInfo
	Stat    isolate.StatInfo
	Elapsed time.Duration // wall time of all the operations
}

// OK reports whether every operation answered without error.
func (r ProbeResult) OK() bool { return r.Op == "" && r.Err == nil }

// Probe runs ops on path in order in one disposable child, all within
// budget, and stops at the first that fails or hangs: one child's
// start-up per mount, and one stuck child at most when the mount hangs.
// target is what the probe locks (isolate.Request.Target): the mount
// point path is on, so every probe of one mount, from any run or plugin,
// shares one lock and a hung mount is not probed again. The child reports
// each answer as it comes, so a hang names its op.
func Probe(ctx context.Context, p Prober, path, target string, budget time.Duration, ops []isolate.Op) ProbeResult {
	start := time.Now()
	var res ProbeResult
	if len(ops) == 0 {
		return res
	}
	reply, err := p.Do(ctx, budget, isolate.Request{Op: ops[0], Path: path, Then: ops[1:], Target: target})
	res.Statfs, res.Stat = reply.Statfs, reply.Stat
	if err != nil {
		var te *isolate.TimeoutError
		var oe *isolate.OpError
		op := ops[0]
		switch {
		case errors.As(err, &te):
			op = te.Req.Op
		case errors.As(err, &oe):
			op = oe.Req.Op
		}
		res.fail(op, err)
	}
	res.Elapsed = time.Since(start)
	return res
}

func (r *ProbeResult) fail(op isolate.Op, err error) {
	r.Op = op
	var te *isolate.TimeoutError
	var oe *isolate.OpError
	switch {
	case errors.As(err, &te):
		r.Hung, r.Since, r.Pid = true, te.Since, te.Pid
		if te.Pid > 0 && te.Since.IsZero() {
			r.Pids = append(r.Pids, te.Pid)
		}
	case errors.As(err, &oe):
		r.Errno = oe.Errno
	default:
		r.Err = err
	}
}
