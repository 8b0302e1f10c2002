package stuckprocs

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// dproc is a process with at least one task in D.
type dproc struct {
	leader proc.Stat
	tasks  []*dtask
	stuck  time.Duration // the longest of its tasks
	worst  *dtask
	state  plugin.State
}

// dtask is one task in D and the evidence of how long it has been there.
type dtask struct {
	proc.Stat
	pid      int           // thread group id
	lastRan  time.Duration // scheduler clock: since it last went on a CPU
	ranKnown bool
	since    time.Time // first seen in D, from the state file (or now)
	prev     *seen     // the state file's entry, when it still holds
	prog     proc.Progress
	progOK   bool
	frozen   time.Duration // counters unchanged over the sample interval
	moved    bool          // it ran during the sample: not stuck
	wchan    string
	stuck    time.Duration
}

func newDproc(p *proc.Process) *dproc {
	d := &dproc{leader: p.Stat}
	for _, t := range p.D {
		d.tasks = append(d.tasks, &dtask{Stat: t, pid: p.PID})
	}
	return d
}

// key names a task across runs: a tid reused by a new task has another
// start time.
func (t *dtask) key() string {
	return strconv.Itoa(t.PID) + ":" + strconv.FormatUint(t.StartTime, 10)
}

// examineD gathers the evidence for the tasks in D: the only extra reads
// a run makes when nothing is selected.
func (r *run) examineD() {
	if len(r.dprocs) == 0 {
		return
	}
	done := r.env.Begin("reading the scheduler state of tasks in D")
	defer done()
	clocks := map[int]float64{} // our scheduler clock per CPU
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			self, ok := clocks[t.Processor]
			if !ok {
				var skewed bool
				var err error
				self, skewed, err = r.fs.SelfExecStartOn(t.Processor)
				if err != nil {
					r.notef("no scheduler clock (%v): time since a task last ran is unknown", err)
					self = -1
				} else if skewed && r.env.Verbose > 0 {
					r.notef("could not run on CPU %d to read its scheduler clock: times since tasks last ran there may be off by a fraction of a second", t.Processor)
				}
				clocks[t.Processor] = self
			}
			if self >= 0 {
				// Our own clock lags by up to a tick while we run, so a task
				// that ran a moment ago can look newer than us: it just ran.
				if at, err := r.fs.ExecStart(t.pid, t.PID); err == nil {
					t.lastRan = time.Duration(max(self-at, 0) * float64(time.Millisecond))
					t.ranKnown = true
				}
			}
			if p, err := r.fs.Progress(t.pid, t.PID); err == nil {
				t.prog, t.progOK = p, true
			} else {
				r.unreadable(err)
			}
			if w, err := r.fs.Wchan(t.pid, t.PID); err == nil {
				t.wchan = w
			} else {
				r.unreadable(err)
			}
		}
	}
	r.sample()
}

// sample looks at the tasks in D again after --sample-interval: counters
// that did not move are evidence of being stuck for at least that long;
// a task that ran (or left D, or exited) is cleared.
func (r *run) sample() {
	iv := time.Duration(r.c.SampleInterval)
	if iv <= 0 {
		return
	}
	if left := r.env.Remaining() - r.env.Timeout/4; iv > left {
		iv = max(left, 0)
		r.notef("sample interval cut to %s to stay within -t", threshold.FormatDuration(iv))
	}
	done := r.env.Begin("sampling tasks in D over " + threshold.FormatDuration(iv))
	defer done()
	select {
	case <-time.After(iv):
	case <-r.ctx.Done():
		return
	}
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			again, err := r.fs.ReadStat(t.pid, t.PID)
			if err != nil || again.StartTime != t.StartTime || again.State != 'D' {
				t.moved = true
				continue
			}
			p, err := r.fs.Progress(t.pid, t.PID)
			if err != nil || !t.progOK {
				continue
			}
			if p != t.prog {
				t.moved = true
				continue
			}
			t.frozen = iv
		}
	}
}

// judge sets each task's and process's stuck time and state.
func (r *run) judgeD(prev map[string]seen) {
	warn, crit := time.Duration(r.c.DWarning), time.Duration(r.c.DCritical)
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			t.since = r.now
			if t.ranKnown {
				t.since = r.now.Add(-t.lastRan)
			}
			if s, ok := prev[t.key()]; ok && !t.moved && !r.progressed(t, s) {
				t.prev = &s
				t.since = time.Unix(s.Since, 0)
				if ran := r.now.Add(-t.lastRan); t.ranKnown && ran.Before(t.since) {
					t.since = ran // the scheduler clock knows better than the first run that saw it
				}
			}
			switch {
			case t.moved:
				t.stuck = 0
			default:
				t.stuck = max(r.now.Sub(t.since), t.lastRan, t.frozen)
			}
			if d.worst == nil || t.stuck > d.stuck {
				d.stuck, d.worst = t.stuck, t
			}
		}
		switch {
		case crit > 0 && d.stuck >= crit:
			d.state = plugin.CRITICAL
		case warn > 0 && d.stuck >= warn:
			d.state = plugin.WARNING
		}
	}
	sort.SliceStable(r.dprocs, func(i, j int) bool { return r.dprocs[i].stuck > r.dprocs[j].stuck })
}

// progressed says whether a task switched context more often since it
// was first seen in D than a task blocked in one wait would:
// blk_io_schedule waiters wake once a minute, a process busy with I/O
// hundreds of times a second. Such a task is in D each time we look, but
// not stuck.
func (r *run) progressed(t *dtask, s seen) bool {
	if !t.progOK || s.At == 0 {
		return false
	}
	elapsed := r.now.Sub(time.Unix(s.At, 0))
	allowed := uint64(2 + elapsed/(30*time.Second))
	return t.prog.Voluntary+t.prog.Involuntary > s.Switches+allowed
}

// evidence explains a task's stuck time for -v.
func (t *dtask) evidence(now time.Time) string {
	s := fmt.Sprintf("pid %d", t.pid)
	if t.PID != t.pid {
		s += fmt.Sprintf(" thread %d", t.PID)
	}
	switch {
	case t.moved:
		return s + ": ran or left D during the sample: not stuck"
	case t.ranKnown:
		s += ": last ran " + threshold.FormatDuration(t.lastRan) + " ago (scheduler clock)"
	default:
		s += ": time since it last ran unknown"
	}
	if seenFor := now.Sub(t.since); seenFor > t.lastRan+time.Second {
		s += ", in D since " + t.since.UTC().Format("2006-01-02 15:04:05") + " UTC (state file)"
	}
	if t.frozen > 0 {
		s += ", counters frozen over " + threshold.FormatDuration(t.frozen)
	}
	if t.progOK {
		s += fmt.Sprintf(", schedstat run %dns, %d+%d context switches", t.prog.RunNs, t.prog.Voluntary, t.prog.Involuntary)
	}
	return s
}
