package stuckprocs

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
)

// hungReport is the kernel hung-task detector's news since the last run.
type hungReport struct {
	count, prev uint64
	grew        bool
	lines       []string // the kernel's "INFO: task df:4121 blocked for more than 120 seconds."
	seq         uint64   // last kernel log record read
	kmsgProblem string   // why the kernel's reports are not quoted, when they are needed
}

// hungTasks compares kernel.hung_task_detect_count with the last run's,
// and reads the kernel log only when it grew.
func (g *gatherer) hungTasks() *hungReport {
	count, err := g.fs.HungTaskCount()
	if err != nil {
		g.verbosef("no hung-task count (kernel without CONFIG_DETECT_HUNG_TASK?): %v", err)
		return nil
	}
	h := &hungReport{count: count}
	// The log is read only when the count grew; a --kmsg that could never
	// be read costs one stat a run to say so now.
	if _, err := kmsgKind(g.ctx, g.env.Files(), g.c.Kmsg); err != nil {
		h.kmsgProblem = err.Error() + " (--kmsg)"
	}
	if g.prev.HungCount == nil {
		return h // the first run sets the baseline
	}
	h.prev = *g.prev.HungCount
	if count <= h.prev {
		return h
	}
	h.grew = true
	done := g.env.Begin("reading the kernel log at " + g.c.Kmsg)
	defer done()
	recs, err := readKmsg(g.ctx, g.env.Files(), g.c.Kmsg, g.prev.KmsgSeq)
	if err != nil {
		h.kmsgProblem = err.Error() + " (--kmsg)"
	}
	for _, rec := range recs {
		h.seq = max(h.seq, rec.Seq)
		if strings.HasPrefix(rec.Message, "INFO: task ") && strings.Contains(rec.Message, " blocked for more than ") {
			h.lines = append(h.lines, strings.TrimSpace(rec.Message))
		}
	}
	if n := int(count - h.prev); len(h.lines) > n {
		h.lines = h.lines[len(h.lines)-n:]
	}
	return h
}

// kmsgDev is /dev/kmsg's device number (1, 11).
var kmsgDev = unix.Mkdev(1, 11)

// readKmsg reads the records after seq from path: the kernel log device,
// read record by record until drained (bounded by the kernel's ring
// buffer), or a file of records (bounded, isolated on a mount that can
// hang). kmsg.Read is only trusted with the real device: on another
// character device (/dev/zero) it would never drain, on a big file it
// would read it all, and on a hung mount its open would never return.
func readKmsg(ctx context.Context, src *files.Source, path string, after uint64) ([]kmsg.Record, error) {
	kind, err := kmsgKind(ctx, src, path)
	switch {
	case err != nil:
		return nil, err
	case kind == kmsgNone:
		return nil, nil
	case kind == kmsgFile:
		data, err := src.Read(ctx, files.Kernel, path)
		if err != nil {
			return nil, err
		}
		var out []kmsg.Record
		for _, r := range kmsg.ParseAll(string(data)) {
			if r.Seq > after {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return kmsg.Read(path, after)
}

// The kinds of --kmsg.
const (
	kmsgDevice = iota // the kernel log device
	kmsgFile          // a file of its records (tests, replays)
	kmsgNone          // /dev/null: no kernel log, as asked
)

// kmsgKind says whether path is a file of records (true) or the kernel
// log device (false), or why it is neither: the stat that tells is
// isolated on a mount that can hang.
func kmsgKind(ctx context.Context, src *files.Source, path string) (int, error) {
	info, err := src.Stat(ctx, path)
	if err != nil {
		return 0, err
	}
	if info.IsRegular() {
		if info.Size > files.Kernel.Max {
			return 0, fmt.Errorf("%s: over the limit for %s", path, files.Kernel)
		}
		return kmsgFile, nil
	}
	if err := src.CheckLocal(ctx, path); err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == kmsgDev:
		return kmsgDevice, nil
	case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == nullDev:
		return kmsgNone, nil
	}
	return 0, fmt.Errorf("%s: is %s, not the kernel log device, a file of its records or /dev/null", path, files.DescribeType(st.Mode))
}

// nullDev is /dev/null's device number (1, 3): the Unix way to say "none".
var nullDev = unix.Mkdev(1, 3)
