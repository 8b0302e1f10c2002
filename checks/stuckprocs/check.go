package stuckprocs

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// probeBudget caps one isolated cmdline read: a hung one is a note, not
// a reason to spend the run.
const probeBudget = 2 * time.Second

// maxProbes bounds the command lines read through the prober in one run.
const maxProbes = 10

// run is one invocation's working state.
type run struct {
	c     *Check
	env   *plugin.Env
	ctx   context.Context
	fs    *proc.FS
	now   time.Time
	btime uint64
	self  struct {
		pid, ppid int
		comm      string
		exe       proc.FileID
		exeOK     bool
	}

	total    int // processes in scope
	nMatched int // selected processes (all in scope without a selection)
	oldest   time.Duration
	matched  []matched
	dprocs   []*dproc
	zombies  []proc.Stat

	argsCache  map[int][]string
	userNames  map[string]string
	probeHung  bool
	unreadN    int
	unreadText []string
	notes      []string
}

// matched is what is kept of a selected process.
type matched struct {
	pid   int
	comm  string
	age   time.Duration
	value float64 // the -m metric
}

// Run scans /proc once and judges.
func (c *Check) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	if c.sel.exclude == nil { // driven without Validate (tests)
		if err := c.Validate(); err != nil {
			return plugin.Result{}, err
		}
	}
	fs, err := proc.Open(c.Procfs)
	if err != nil {
		return plugin.Result{}, err
	}
	defer fs.Close()
	r := &run{c: c, env: env, ctx: ctx, fs: fs, now: env.Now(), argsCache: map[int][]string{}, userNames: map[string]string{}}
	if c.Now > 0 {
		r.now = time.Unix(c.Now, 0)
	}
	if !c.euidSet {
		c.euid = os.Geteuid()
	}
	if r.btime, err = fs.BootTime(); err != nil {
		return plugin.Result{}, err
	}
	r.identifySelf()
	done := env.Begin("scanning " + fs.Root)
	stats, err := fs.Scan(r.visit)
	done()
	if err != nil {
		return plugin.Result{}, err
	}
	prev := r.loadState()
	r.examineD()
	r.judgeD(prev.Tasks)
	r.prefetchStuck()
	hung := r.hungTasks(prev)
	r.saveState(prev, hung)
	return r.judge(stats, hung), nil
}

// identifySelf finds what must never be counted: this process, its
// parent (NRPE's sh -c) and, by executable, other runs of this plugin.
func (r *run) identifySelf() {
	pid, err := r.fs.SelfPID()
	if err != nil {
		r.notef("cannot tell which process is this plugin: %v", err)
		r.self.pid, r.self.ppid = -1, -1
		return
	}
	r.self.pid = pid
	if st, err := r.fs.ReadStat(pid, pid); err == nil {
		r.self.ppid, r.self.comm = st.PPID, st.Comm
	}
	if id, err := r.fs.SelfExeID(); err == nil {
		r.self.exe, r.self.exeOK = id, true
	}
}

// visit is called once per process by the scan: the whole cost of a
// healthy machine is here, so it reads nothing more unless the process
// is in D, a zombie, or has to be matched against a selection.
func (r *run) visit(p *proc.Process) {
	if r.excluded(p) {
		return
	}
	selected := !r.c.sel.any() || r.selected(p)
	if r.c.OnlySelected && !selected {
		return
	}
	r.total++
	if p.Zombie {
		r.zombies = append(r.zombies, p.Stat)
	}
	if len(p.D) > 0 {
		r.dprocs = append(r.dprocs, newDproc(p))
	}
	if !selected {
		return
	}
	age := r.age(p.StartTime)
	r.nMatched++
	r.oldest = max(r.oldest, age)
	if r.c.sel.any() || r.c.Metric != "PROCS" { // kept only for --max-age and -m
		r.matched = append(r.matched, matched{pid: p.PID, comm: p.Comm, age: age, value: r.metric(p)})
	}
}

// age is how long a process has been running, from its start time in
// ticks since boot.
func (r *run) age(startTicks uint64) time.Duration {
	start := time.Unix(int64(r.btime), 0).Add(time.Duration(startTicks) * time.Second / proc.UserHZ)
	if d := r.now.Sub(start); d > 0 {
		return d
	}
	return 0
}

// metric is the -m value of one process, in check_procs' units.
func (r *run) metric(p *proc.Process) float64 { return r.value(p, r.c.Metric) }

// value is one of check_procs' per-process metrics: ELAPSED (s), RSS and
// VSZ (KiB), CPU (percent of one CPU over the process's lifetime).
func (r *run) value(p *proc.Process, metric string) float64 {
	switch metric {
	case "ELAPSED":
		return r.age(p.StartTime).Truncate(time.Second).Seconds()
	case "RSS":
		return float64(p.RSS) * float64(os.Getpagesize()) / 1024
	case "VSZ":
		return float64(p.VSize) / 1024
	case "CPU":
		age := r.age(p.StartTime).Seconds()
		if age <= 0 {
			return 0
		}
		return float64(p.UTime+p.STime) / proc.UserHZ / age * 100
	}
	return 0
}

func (r *run) unreadable(err error) {
	if proc.IsVanished(err) {
		return // exited while we looked: nothing to count or say
	}
	r.unreadN++
	if len(r.unreadText) < 5 {
		r.unreadText = append(r.unreadText, err.Error())
	}
}

func (r *run) notef(format string, a ...any) { r.notes = append(r.notes, fmt.Sprintf(format, a...)) }

// prefetchStuck reads the command lines of the stuck processes the long
// output will show, in parallel.
func (r *run) prefetchStuck() {
	var ps []*proc.Process
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			if t.prev != nil && len(t.prev.Cmd) > 0 {
				r.argsCache[d.leader.PID] = t.prev.Cmd // the state file remembers: no probe child
			}
		}
		if d.state != plugin.OK {
			ps = append(ps, &proc.Process{Stat: d.leader, D: []proc.Stat{d.worst.Stat}})
		}
	}
	r.prefetchArgs(ps)
}
