package stuckprocs

import (
	"fmt"
	"sort"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// stuckProc is the verdict on one process with tasks in D.
type stuckProc struct {
	d     *dproc
	tasks []taskVerdict
	worst *taskVerdict  // the longest stuck of its tasks
	dur   time.Duration // how long that one has been stuck
	state plugin.State
}

// taskVerdict is how long one task has been stuck, and on what evidence.
type taskVerdict struct {
	t     *dtask
	since time.Time // first seen in D, from the state file (or now)
	prev  *seen     // the state file's entry, when it still holds
	stuck time.Duration
}

// judgeD sets each task's and process's stuck time and state, longest
// stuck first.
func judgeD(ds []*dproc, prev map[string]seen, now time.Time, warn, crit time.Duration) []*stuckProc {
	out := make([]*stuckProc, 0, len(ds))
	for _, d := range ds {
		s := &stuckProc{d: d}
		for _, t := range d.tasks {
			s.tasks = append(s.tasks, judgeTask(t, prev, now))
		}
		for i := range s.tasks {
			if s.worst == nil || s.tasks[i].stuck > s.dur {
				s.dur, s.worst = s.tasks[i].stuck, &s.tasks[i]
			}
		}
		switch {
		case crit > 0 && s.dur >= crit:
			s.state = plugin.CRITICAL
		case warn > 0 && s.dur >= warn:
			s.state = plugin.WARNING
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].dur > out[j].dur })
	return out
}

// judgeTask weighs the evidence for one task: the scheduler clock, the
// state file's first sighting (unless the task has been busy since), the
// sample.
func judgeTask(t *dtask, prev map[string]seen, now time.Time) taskVerdict {
	v := taskVerdict{t: t, since: now}
	if t.ranKnown {
		v.since = now.Add(-t.lastRan)
	}
	if s, ok := prev[t.key()]; ok && !t.moved && !progressed(t, s, now) {
		v.prev = &s
		v.since = time.Unix(s.Since, 0)
		if ran := now.Add(-t.lastRan); t.ranKnown && ran.Before(v.since) {
			v.since = ran // the scheduler clock knows better than the first run that saw it
		}
	}
	if !t.moved {
		v.stuck = max(now.Sub(v.since), t.lastRan, t.frozen)
	}
	return v
}

// progressed says whether a task switched context more often since it
// was first seen in D than a task blocked in one wait would:
// blk_io_schedule waiters wake once a minute, a process busy with I/O
// hundreds of times a second. Such a task is in D each time we look, but
// not stuck.
func progressed(t *dtask, s seen, now time.Time) bool {
	if !t.progOK || s.At == 0 {
		return false
	}
	elapsed := now.Sub(time.Unix(s.At, 0))
	allowed := uint64(2 + elapsed/(30*time.Second))
	return t.prog.Voluntary+t.prog.Involuntary > s.Switches+allowed
}

// evidence explains a task's stuck time for -v.
func (v taskVerdict) evidence(now time.Time) string {
	t := v.t
	s := fmt.Sprintf("pid %d", t.pid)
	if t.PID != t.pid {
		s += fmt.Sprintf(" thread %d", t.PID)
	}
	switch {
	case t.moved:
		return s + ": ran or left D during the sample: not stuck"
	case t.ranKnown:
		s += ": last ran " + human.Duration(t.lastRan) + " ago (scheduler clock)"
	default:
		s += ": time since it last ran unknown"
	}
	if seenFor := now.Sub(v.since); seenFor > t.lastRan+time.Second {
		s += ", in D since " + v.since.UTC().Format("2006-01-02 15:04:05") + " UTC (state file)"
	}
	if t.frozen > 0 {
		s += ", counters frozen over " + human.Duration(t.frozen)
	}
	if t.progOK {
		s += fmt.Sprintf(", schedstat run %dns, %d+%d context switches", t.prog.RunNs, t.prog.Voluntary, t.prog.Involuntary)
	}
	return s
}
