package mounts

import (
	"context"
	"errors"
	"sync"
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
	Op      isolate.Op    // the first operation that failed or did not answer; "" if all passed
	Hung    bool          // Op did not answer within the budget
	Errno   syscall.Errno // Op failed with this errno
	Err     error         // any other failure to probe
	Pids    []int         // the children abandoned because they did not answer
	Statfs  isolate.StatfsInfo
	Elapsed time.Duration // wall time of all the operations
}

// OK reports whether every operation answered without error.
func (r ProbeResult) OK() bool { return r.Op == "" && r.Err == nil }

// Probe runs ops on path one after the other, all within budget, and
// stops at the first that fails or hangs: one stuck child at most. Use it
// for a mount known to hang.
func Probe(ctx context.Context, p Prober, path string, budget time.Duration, ops []isolate.Op) ProbeResult {
	start := time.Now()
	deadline := start.Add(budget)
	var res ProbeResult
	for _, op := range ops {
		reply, err := p.Do(ctx, time.Until(deadline), isolate.Request{Op: op, Path: path})
		if err != nil {
			res.fail(op, err)
			break
		}
		if op == isolate.Statfs {
			res.Statfs = reply.Statfs
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// ProbeParallel runs ops on path at once, each with the whole budget: one
// child's start-up time instead of one per operation, for mounts not
// known to hang. A mount that hangs can leave up to len(ops) children.
func ProbeParallel(ctx context.Context, p Prober, path string, budget time.Duration, ops []isolate.Op) ProbeResult {
	start := time.Now()
	type answer struct {
		reply isolate.Reply
		err   error
	}
	answers := make([]answer, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := p.Do(ctx, budget, isolate.Request{Op: op, Path: path})
			answers[i] = answer{reply, err}
		}()
	}
	wg.Wait()
	var res ProbeResult
	for i, op := range ops {
		a := answers[i]
		if a.err == nil {
			if op == isolate.Statfs {
				res.Statfs = a.reply.Statfs
			}
			continue
		}
		var te *isolate.TimeoutError
		if errors.As(a.err, &te) && res.Op != "" {
			res.Pids = append(res.Pids, te.Pid) // a later op hung too
			continue
		}
		if res.Op == "" {
			res.fail(op, a.err)
		}
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
		r.Hung = true
		r.Pids = append(r.Pids, te.Pid)
	case errors.As(err, &oe):
		r.Errno = oe.Errno
	default:
		r.Err = err
	}
}
