package stuckprocs

import (
	"errors"
	"reflect"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

const (
	stateKind    = "check_stuck_procs"
	stateVersion = 1
)

// saved is what one run leaves for the next.
type saved struct {
	BootTime  uint64          `json:"boot_time"`
	Tasks     map[string]seen `json:"tasks,omitempty"` // by "tid:starttime"
	HungCount *uint64         `json:"hung_task_detect_count,omitempty"`
	KmsgSeq   uint64          `json:"kmsg_seq,omitempty"`
}

// seen is one task in D: since when, and its context switches when first
// seen, to tell a stuck task from one merely busy with I/O. An entry is
// written once and kept as is while the task stays stuck, so a run with
// the same tasks in D as the last one writes nothing.
type seen struct {
	Since    int64    `json:"since"` // unix seconds
	At       int64    `json:"at"`
	Switches uint64   `json:"switches"`
	Cmd      []string `json:"cmd,omitempty"` // read once through the prober, then remembered
}

// loadState reads the previous run's state; history from another boot is
// no history.
func (r *run) loadState() saved {
	var prev saved
	if r.c.NoStateFile {
		return prev
	}
	found, why, err := state.Load(r.c.StateFile, stateKind, stateVersion, &prev)
	switch {
	case err != nil:
		r.notef("state file: %v", err)
		return saved{}
	case !found:
		if r.env.Verbose > 0 {
			r.notef("%s", why)
		}
		return saved{}
	case prev.BootTime != r.btime:
		if r.env.Verbose > 0 {
			r.notef("state file is from before the last boot: starting afresh")
		}
		return saved{}
	}
	return prev
}

// saveState writes what the next run needs, only when it changed: a
// healthy machine's run writes nothing.
func (r *run) saveState(prev saved, hung *hungReport) {
	if r.c.NoStateFile {
		return
	}
	next := saved{BootTime: r.btime, Tasks: map[string]seen{}}
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			if t.moved {
				continue
			}
			e := seen{Since: t.since.Unix(), At: r.now.Unix(), Switches: t.prog.Voluntary + t.prog.Involuntary}
			if t.prev != nil && t.prev.Since == t.since.Unix() {
				e = *t.prev
			}
			if len(e.Cmd) == 0 {
				e.Cmd = r.argsCache[t.pid]
			}
			next.Tasks[t.key()] = e
		}
	}
	if hung != nil {
		next.HungCount = &hung.count
		next.KmsgSeq = max(prev.KmsgSeq, hung.seq)
	}
	if len(next.Tasks) == 0 {
		next.Tasks = nil
	}
	if reflect.DeepEqual(prev, next) {
		return
	}
	if err := state.Save(r.c.StateFile, stateKind, stateVersion, next); err != nil {
		r.notef("durations in D will not carry over to the next run: %v", err)
	}
}

// hungReport is the kernel hung-task detector's news since the last run.
type hungReport struct {
	count, prev uint64
	grew        bool
	lines       []string // the kernel's "INFO: task df:4121 blocked for more than 120 seconds."
	seq         uint64   // last kernel log record read
}

// hungTasks compares kernel.hung_task_detect_count with the last run's.
func (r *run) hungTasks(prev saved) *hungReport {
	count, err := r.fs.HungTaskCount()
	if err != nil {
		if r.env.Verbose > 0 {
			r.notef("no hung-task count (kernel without CONFIG_DETECT_HUNG_TASK?): %v", err)
		}
		return nil
	}
	h := &hungReport{count: count}
	if prev.HungCount == nil {
		return h // the first run sets the baseline
	}
	h.prev = *prev.HungCount
	if count <= h.prev {
		return h
	}
	h.grew = true
	done := r.env.Begin("reading the kernel log at " + r.c.Kmsg)
	defer done()
	recs, err := kmsg.Read(r.c.Kmsg, prev.KmsgSeq)
	if err != nil {
		if errors.Is(err, kmsg.ErrNotPermitted) {
			r.notef("the kernel's hung-task reports are not quoted: %v", err)
		} else if r.env.Verbose > 0 {
			r.notef("kernel log: %v", err)
		}
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
