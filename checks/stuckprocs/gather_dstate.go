package stuckprocs

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// probeBudget caps one isolated cmdline read: a hung one is a note, not
// a reason to spend the run.
const probeBudget = 2 * time.Second

// maxProbes bounds the command lines read through the prober in one run:
// each costs a child process and, when the task's memory lock is held, a
// budget. The others are named by comm, and their command lines read by
// later runs (the state file remembers those already read).
const maxProbes = 8

// cmdlineMax bounds a command line read through the prober.
const cmdlineMax = 4096

// dproc is a process with at least one task in D, as observed.
type dproc struct {
	proc  proc.Process // the scan's view: leader stat, tasks in D
	tasks []*dtask
	// What the long output shows, read by describe.
	name, user, cmd string
	args            []string // nil: not read (yet)
	// waiting: no task in D, but one asleep (S) in a filesystem's wait,
	// as a FUSE or NFS caller waits until a fatal signal.
	waiting bool
	mount   string // the mount it is blocked on, when it can be told
}

// dtask is one task in D and the evidence of how long it has been there.
type dtask struct {
	proc.Stat
	pid      int           // thread group id
	lastRan  time.Duration // scheduler clock: since it last went on a CPU
	ranKnown bool
	prog     proc.Progress
	progOK   bool
	frozen   time.Duration // counters unchanged over the sample interval
	moved    bool          // it ran during the sample: not stuck
	wchan    string
	fs       string // the filesystem family of wchan (proc.FSWait), "" for others
}

func newDproc(p *proc.Process) *dproc {
	d := &dproc{proc: *p}
	d.proc.D = append([]proc.Stat(nil), p.D...) // the scan reuses p
	for _, t := range d.proc.D {
		d.tasks = append(d.tasks, &dtask{Stat: t, pid: p.PID})
	}
	return d
}

// newWaiter is a process whose leader sleeps (S) in a filesystem wait:
// judged like a task in D, without being counted in D by -s D.
func newWaiter(p *proc.Process, wchan string) *dproc {
	d := &dproc{proc: *p, waiting: true}
	d.proc.D = nil
	d.tasks = []*dtask{{Stat: p.Stat, pid: p.PID, wchan: wchan, fs: proc.FSWait(wchan)}}
	return d
}

// asProcess is the process as the selection and naming code take it.
func (d *dproc) asProcess() *proc.Process { return &d.proc }

// key names a task across runs: a tid reused by a new task has another
// start time.
func (t *dtask) key() string {
	return strconv.Itoa(t.PID) + ":" + strconv.FormatUint(t.StartTime, 10)
}

// procKey names a process across runs.
func procKey(s proc.Stat) string {
	return strconv.Itoa(s.PID) + ":" + strconv.FormatUint(s.StartTime, 10)
}

// examineD gathers the evidence for the tasks in D: the only extra reads
// a run makes when nothing is selected.
func (g *gatherer) examineD() {
	if len(g.dcands) == 0 {
		return
	}
	done := g.env.Begin("reading the scheduler state of tasks in D")
	defer done()
	clocks := map[int]float64{} // our scheduler clock per CPU
	for _, d := range g.dcands {
		for _, t := range d.tasks {
			self, ok := clocks[t.Processor]
			if !ok {
				var skewed bool
				var err error
				self, skewed, err = g.fs.SelfExecStartOn(t.Processor)
				if err != nil {
					g.notef("no scheduler clock (%v): time since a task last ran is unknown", err)
					self = -1
				} else if skewed {
					g.verbosef("could not run on CPU %d to read its scheduler clock: times since tasks last ran there may be off by a fraction of a second", t.Processor)
				}
				clocks[t.Processor] = self
			}
			if self >= 0 {
				// Our own clock lags by up to a tick while we run, so a task
				// that ran a moment ago can look newer than us: it just ran.
				if at, err := g.fs.ExecStart(t.pid, t.PID); err == nil {
					t.lastRan = time.Duration(max(self-at, 0) * float64(time.Millisecond))
					t.ranKnown = true
				}
			}
			if p, err := g.fs.Progress(t.pid, t.PID); err == nil {
				t.prog, t.progOK = p, true
			} else {
				g.unreadable(err)
			}
			if w, err := g.fs.Wchan(t.pid, t.PID); err == nil {
				t.wchan, t.fs = w, proc.FSWait(w)
			} else {
				g.unreadable(err)
			}
		}
	}
}

// readDArgs gets the command lines of the processes in D that need one:
// from the state file when an earlier run read them, else through the
// prober (reading one takes the process's memory lock, which a task in D
// may hold), at most maxProbes a run, in parallel, the longest stuck
// first. A process in D needs its command line when the long output may
// show it (stuck past --d-warning or --d-critical), when the selection
// matches on it, or when its name may be one of our plugins' (a probe
// child takes the plugin's name): that is also how our own probe
// children are told apart, by argv[1].
func (g *gatherer) readDArgs() {
	probes := map[string]bool{}
	for _, k := range g.prev.Probes {
		probes[k] = true
	}
	var todo []*dproc
	for _, d := range g.dcands {
		if probes[procKey(d.proc.Stat)] {
			continue
		}
		for _, t := range d.tasks {
			if s, ok := g.prev.Tasks[t.key()]; ok && len(s.Cmd) > 0 {
				g.argv[d.proc.PID] = s.Cmd // the state file remembers: no probe child
			}
		}
		if _, ok := g.argv[d.proc.PID]; !ok && g.needsArgs(d) {
			todo = append(todo, d)
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return g.estimate(todo[i]) > g.estimate(todo[j]) })
	if len(todo) > maxProbes {
		g.obs.ArgsNotRead = len(todo) - maxProbes
		todo = todo[:maxProbes]
	}
	g.probeArgs(todo)
}

// needsArgs says whether the command line of d is worth a probe.
func (g *gatherer) needsArgs(d *dproc) bool {
	longName := len(d.proc.Comm) == commLen && (g.sel.command != "" || len(g.sel.exclude) > 0) // -C, -X past 15 bytes
	if g.sel.argument != "" || g.sel.ereg != nil || longName || strings.HasPrefix(d.proc.Comm, "check_") {
		return true
	}
	from := time.Duration(g.c.DWarning)
	if c := time.Duration(g.c.DCritical); c > 0 && (from <= 0 || c < from) {
		from = c
	}
	return from > 0 && g.estimate(d) >= from
}

// estimate is how long d looks stuck before the sample, to choose whose
// command lines are worth a probe.
func (g *gatherer) estimate(d *dproc) time.Duration {
	var worst time.Duration
	for _, t := range d.tasks {
		worst = max(worst, judgeTask(t, g.prev.Tasks, g.obs.Now).stuck)
	}
	return worst
}

// probeArgs reads the command lines of ds through the prober, each read
// locked on its own pid's file (or on the mount a --procfs tree is on):
// a read stuck behind a task's memory lock is not tried again by the
// next run while its child is still stuck.
func (g *gatherer) probeArgs(ds []*dproc) {
	if len(ds) == 0 {
		return
	}
	done := g.env.Begin(fmt.Sprintf("reading the command lines of %d processes in D (isolated)", len(ds)))
	defer done()
	g.obs.ArgsProbed = len(ds)
	budget := min(g.env.Budget(0.2), probeBudget)
	raws := make([][]byte, len(ds))
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raws[i], errs[i] = g.probeCmdline(d.proc.PID, budget)
		}()
	}
	wg.Wait()
	for i, d := range ds {
		switch err := errs[i]; {
		case err == nil:
			g.argv[d.proc.PID] = argsOf(raws[i], d.proc.Comm)
		case errors.Is(err, isolate.ErrTimeout):
			g.notef("command line of %s (pid %d) not read: %v", d.proc.Comm, d.proc.PID, err)
			g.argv[d.proc.PID] = nil
		default:
			g.unreadable(err)
			g.argv[d.proc.PID] = nil
		}
	}
}

func (g *gatherer) probeCmdline(pid int, budget time.Duration) ([]byte, error) {
	p := g.fs.CmdlinePath(pid)
	req := isolate.Request{Op: isolate.ReadFile, Path: p, Max: cmdlineMax, Target: g.env.Files().Target(p)}
	reply, err := g.env.Prober().Do(g.ctx, budget, req)
	if err != nil {
		return nil, err
	}
	if reply.Stat.Mode&0o170000 != 0o100000 {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	return reply.Data[:min(len(reply.Data), cmdlineMax)], nil
}

// admitD leaves out our own probe children (of any hindsight plugin:
// argv[1] says so), then counts the other processes in D like any other.
func (g *gatherer) admitD() {
	probes := map[string]bool{}
	for _, k := range g.prev.Probes {
		probes[k] = true
	}
	for _, d := range g.dcands {
		key := procKey(d.proc.Stat)
		if a := g.argv[d.proc.PID]; probes[key] || isolate.IsChild(a) {
			g.obs.OwnProbes++
			g.obs.ProbeKeys = append(g.obs.ProbeKeys, key)
			continue
		}
		if g.admit(d.asProcess()) {
			g.obs.DProcs = append(g.obs.DProcs, d)
		}
	}
	sort.Strings(g.obs.ProbeKeys)
	g.dcands = nil
}

// sample looks at the tasks in D again after --sample-interval: counters
// that did not move are evidence of being stuck for at least that long;
// a task that ran (or left D, or exited) is cleared.
func (g *gatherer) sample() {
	iv := time.Duration(g.c.SampleInterval)
	if iv <= 0 || len(g.obs.DProcs) == 0 {
		return
	}
	if left := g.env.Remaining() - g.env.Timeout/4; iv > left {
		iv = max(left, 0)
		g.notef("sample interval cut to %s to stay within -t", human.Duration(iv))
	}
	done := g.env.Begin("sampling tasks in D over " + human.Duration(iv))
	defer done()
	select {
	case <-time.After(iv):
	case <-g.ctx.Done():
		return
	}
	for _, d := range g.obs.DProcs {
		for _, t := range d.tasks {
			again, err := g.fs.ReadStat(t.pid, t.PID)
			if err != nil || again.StartTime != t.StartTime || !stillBlocked(t, again.State) {
				t.moved = true
				continue
			}
			p, err := g.fs.Progress(t.pid, t.PID)
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

// stillBlocked says whether a task seen blocked is still in the wait it
// was judged for: D, or for a filesystem wait also S (FUSE moves it from S
// to D on a fatal signal).
func stillBlocked(t *dtask, state byte) bool {
	return state == 'D' || (t.fs != "" && state == 'S')
}

// displayName is the process's name for a pager: comm, or where the
// kernel cut it to 15 bytes, the full name from the executable or the
// script the arguments name ("ansible-playbook", not "ansible-playboo").
func (g *gatherer) displayName(p *proc.Process) string {
	if len(p.Comm) != commLen {
		return p.Comm
	}
	if exe, err := g.fs.ExeName(p.PID); err == nil && len(exe) > commLen && strings.HasPrefix(exe, p.Comm) {
		return exe
	}
	if args, ok := g.args(p); ok {
		for i := 0; i < len(args) && i < 2; i++ {
			if b := path.Base(args[i]); len(b) > commLen && strings.HasPrefix(b, p.Comm) {
				return b
			}
		}
	}
	return p.Comm
}

// cmdText is the command line for the long output, "" when unknown.
func (g *gatherer) cmdText(p *proc.Process) string {
	line, _ := g.cmdline(p)
	return line
}
