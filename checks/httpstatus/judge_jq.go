package httpstatus

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"time"

	"github.com/itchyny/gojq"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// jqBudget is the share of -t by whose end every jq expression of the
// run must be done: the rest is left for the result, so a slow
// expression is a finding about it, never a run the watchdog ends.
const jqBudget = 0.9

// jqMaxHeap bounds the memory an expression may take (heap growth while
// it runs): more than any filter of a --max-body document needs, far
// less than what "[range(1e9)]" would take before its deadline.
const jqMaxHeap = 128 << 20

// jqMaxValues bounds the values taken from one expression.
const jqMaxValues = 1000

// Why runJQ stopped an expression.
var (
	errJQMemory     = fmt.Errorf("used more than %d MiB", jqMaxHeap>>20)
	errJQUnfinished = errors.New("did not finish")
)

// jqStopped reports an expression runJQ stopped, as opposed to one that
// failed on its own.
func jqStopped(err error) bool {
	return errors.Is(err, errJQMemory) || errors.Is(err, errJQUnfinished)
}

// runJQ evaluates code on doc under ctx and returns its values, up to
// jqMaxValues, stopping after the first for which stop is true. It
// returns by ctx's end even if gojq does not (a builtin that loops in Go
// without looking at the context is abandoned, its goroutine ending with
// the process), and stops an expression whose heap grows past jqMaxHeap:
// gojq has no memory bound of its own.
func runJQ(ctx context.Context, code *gojq.Code, doc any, stop func(any) bool) ([]any, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	go watchHeap(ctx, cancel)
	done := make(chan []any, 1)
	go func() {
		var vals []any
		iter := code.RunWithContext(ctx, doc)
		for len(vals) < jqMaxValues && ctx.Err() == nil {
			v, ok := iter.Next()
			if !ok {
				break
			}
			vals = append(vals, v)
			if stop != nil && stop(v) {
				break
			}
		}
		done <- vals
	}()
	var vals []any
	select {
	case vals = <-done:
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		return vals, nil
	}
	if cause := context.Cause(ctx); errors.Is(cause, errJQMemory) {
		return nil, cause
	}
	return nil, fmt.Errorf("%w within %s", errJQUnfinished, human.Duration(time.Since(start)))
}

// watchHeap cancels ctx with errJQMemory once the heap has grown by
// jqMaxHeap since the start, until ctx ends.
func watchHeap(ctx context.Context, cancel context.CancelCauseFunc) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	base := heap()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if heap() > base+jqMaxHeap {
				cancel(errJQMemory)
				return
			}
		}
	}
}
