package stuckprocs

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// observations is everything judge needs: gather did all the I/O.
type observations struct {
	Now      time.Time
	BootTime uint64
	Root     string // the procfs root, for -v
	Euid     int    // a wchan of "0" is the kernel hiding it from non-root
	Verbose  int

	Scan     proc.ScanStats
	Total    int // processes in scope
	Selected int // selected processes (all in scope without a selection)
	Oldest   time.Duration
	Matched  []matched
	DProcs   []*dproc
	Zombies  []proc.Stat
	Comms    map[int]string // comm of the zombies' parents

	Hung *hungReport // nil without a hung-task count

	// WchanHidden counts other users' sleeping processes whose wait
	// channel the kernel hid (not root, no CAP_SYS_PTRACE): one blocked on
	// a hung mount in S cannot be seen.
	WchanHidden int

	OwnProbes    int      // our own probe children in D, left out
	ProbeKeys    []string // their "pid:starttime", for the next run
	ArgsNotRead  int      // processes in D whose command line was over the per-run cap
	ArgsProbed   int      // command lines read through the prober this run
	Unread       int      // files unreadable after the scan (besides Scan's)
	UnreadText   []string // the first few of them, for -v
	Notes        []string // what the long output says of the run itself
	VerboseNotes []string // the same, for -v only
}

// matched is what is kept of a selected process.
type matched struct {
	pid   int
	comm  string
	age   time.Duration
	value float64 // the -m metric
	inD   bool
	// For a process past --max-age, what the long output shows.
	name, user, cmd string
}

// gatherer is one run's I/O: the scan, then what the processes in D and
// the offenders need.
type gatherer struct {
	ctx  context.Context
	env  *plugin.Env
	c    *Check
	sel  selection
	fs   *proc.FS
	prev saved // of this boot
	obs  *observations
	self struct {
		pid, ppid int
		comm, exe string
	}
	dcands    []*dproc         // processes with a task in D, admitted after the scan
	argv      map[int][]string // by pid; nil: unknown or unreadable
	userNames map[string]string
	// Wait channels of sleeping threads read this run, and those left
	// unread past maxThreadWchans.
	threadWchans, threadsUnread int
}

// gather scans the procfs tree once and reads what judging needs.
func gather(ctx context.Context, env *plugin.Env, c *Check, sel selection, prev saved) (*observations, error) {
	fs, err := proc.OpenDir(ctx, env.Files().Dir(ctx, c.Procfs))
	if err != nil {
		return nil, fmt.Errorf("%w (--procfs)", err)
	}
	defer fs.Close()
	obs := &observations{Now: env.Now(), Root: fs.Root, Euid: os.Geteuid(), Verbose: env.Verbose, Comms: map[int]string{}}
	if obs.BootTime, err = fs.BootTime(); err != nil {
		return nil, fmt.Errorf("%w (--procfs)", err)
	}
	g := &gatherer{ctx: ctx, env: env, c: c, sel: sel, fs: fs, obs: obs, prev: history(prev, obs.BootTime),
		argv: map[int][]string{}, userNames: map[string]string{}}
	g.identifySelf()
	done := env.Begin("scanning " + fs.Root)
	obs.Scan, err = fs.Scan(g.visit)
	done()
	if err != nil {
		return nil, fmt.Errorf("%w (--procfs)", err)
	}
	g.noteThreadWchans()
	g.examineD()
	g.readDArgs()
	g.admitD()
	g.sample()
	g.describe()
	obs.Hung = g.hungTasks()
	return obs, nil
}

// identifySelf finds what must never be counted: this process, its
// parent (NRPE's sh -c) and, by executable, other runs of this plugin.
func (g *gatherer) identifySelf() {
	pid, err := g.fs.SelfPID()
	if err != nil {
		g.notef("cannot tell which process is this plugin: %v", err)
		g.self.pid, g.self.ppid = -1, -1
		return
	}
	g.self.pid = pid
	if st, err := g.fs.ReadStat(pid, pid); err == nil {
		g.self.ppid, g.self.comm = st.PPID, st.Comm
	}
	if exe, err := g.fs.SelfExe(); err == nil {
		g.self.exe = exe
	}
}

// visit is called once per process by the scan: the whole cost of a
// healthy machine is here, so it reads nothing more unless the process
// is in D, a zombie, asleep (the wait channel of each task in S, to see
// one blocked on a filesystem), or has to be matched against a selection. A process
// with a task in D waits for the end of the scan: whether it is one of
// our own probe children, or matches -a, takes its command line, read
// through the prober for at most a few of them.
func (g *gatherer) visit(p *proc.Process) {
	if g.ours(p) {
		return
	}
	if len(p.D) > 0 {
		g.dcands = append(g.dcands, newDproc(p))
		return
	}
	if p.State == 'S' && p.Threads == 1 {
		if w := g.sleepWchan(p); proc.FSWait(w) != "" {
			g.dcands = append(g.dcands, newWaiter(p, w))
			return
		}
	}
	if p.Threads > 1 && len(p.S) > 0 {
		if d := g.threadWaiter(p); d != nil {
			g.dcands = append(g.dcands, d)
			return
		}
	}
	g.admit(p)
}

// sleepWchan is the wait channel of a sleeping single-threaded process,
// "" when unknown: one read per sleeping process, the price of seeing a
// task blocked on a hung FUSE or NFS mount before anyone kills it. The
// kernel shows "0" for other users' tasks without CAP_SYS_PTRACE: those
// are counted, for the output to say what could not be seen.
func (g *gatherer) sleepWchan(p *proc.Process) string {
	w, err := g.fs.Wchan(p.PID, p.PID)
	if err != nil {
		return ""
	}
	if w == "0" && g.obs.Euid != 0 {
		g.obs.WchanHidden++
	}
	return w
}

// admit counts p when it is in scope; false when it is not.
func (g *gatherer) admit(p *proc.Process) bool {
	if g.excluded(p) {
		return false
	}
	selected := !g.sel.any() || g.selected(p)
	if g.c.OnlySelected && !selected {
		return false
	}
	g.obs.Total++
	if p.Zombie {
		g.obs.Zombies = append(g.obs.Zombies, p.Stat)
	}
	if !selected {
		return true
	}
	age := g.age(p.StartTime)
	g.obs.Selected++
	g.obs.Oldest = max(g.obs.Oldest, age)
	if g.sel.any() || g.c.Metric != "PROCS" { // kept only for --max-age and -m
		g.obs.Matched = append(g.obs.Matched, matched{pid: p.PID, comm: p.Comm, age: age, value: g.metric(p), inD: len(p.D) > 0})
	}
	return true
}

// age is how long a process has been running, from its start time in
// ticks since boot.
func (g *gatherer) age(startTicks uint64) time.Duration {
	start := time.Unix(int64(g.obs.BootTime), 0).Add(time.Duration(startTicks) * time.Second / proc.UserHZ)
	if d := g.obs.Now.Sub(start); d > 0 {
		return d
	}
	return 0
}

// metric is the -m value of one process, in check_procs' units.
func (g *gatherer) metric(p *proc.Process) float64 { return g.value(p, g.c.Metric) }

// value is one of check_procs' per-process metrics: ELAPSED (s), RSS and
// VSZ (KiB), CPU (percent of one CPU over the process's lifetime).
func (g *gatherer) value(p *proc.Process, metric string) float64 {
	switch metric {
	case "ELAPSED":
		return g.age(p.StartTime).Truncate(time.Second).Seconds()
	case "RSS":
		return float64(p.RSS) * float64(os.Getpagesize()) / 1024
	case "VSZ":
		return float64(p.VSize) / 1024
	case "CPU":
		age := g.age(p.StartTime).Seconds()
		if age <= 0 {
			return 0
		}
		return float64(p.UTime+p.STime) / proc.UserHZ / age * 100
	}
	return 0
}

func (g *gatherer) unreadable(err error) {
	if proc.IsVanished(err) {
		return // exited while we looked: nothing to count or say
	}
	g.obs.Unread++
	if len(g.obs.UnreadText) < 5 {
		g.obs.UnreadText = append(g.obs.UnreadText, err.Error())
	}
}

func (g *gatherer) notef(format string, a ...any) {
	g.obs.Notes = append(g.obs.Notes, fmt.Sprintf(format, a...))
}

func (g *gatherer) verbosef(format string, a ...any) {
	g.obs.VerboseNotes = append(g.obs.VerboseNotes, fmt.Sprintf(format, a...))
}

// describe reads what the long output shows of the processes it may
// name: those in D, those past --max-age, the zombies' parents.
func (g *gatherer) describe() {
	for _, d := range g.obs.DProcs {
		p := d.asProcess()
		d.name = g.displayName(p)
		d.user = g.userOf(d.proc.PID)
		d.cmd = g.cmdText(p)
		d.args = g.argv[d.proc.PID]
		d.mount = g.blockedOn(d)
	}
	if limit := g.overdueFrom(); limit > 0 {
		for i := range g.obs.Matched {
			m := &g.obs.Matched[i]
			if m.age <= limit {
				continue
			}
			p := &proc.Process{Stat: proc.Stat{PID: m.pid, Comm: m.comm}}
			if m.inD {
				p.D = []proc.Stat{p.Stat}
			}
			m.name, m.user, m.cmd = g.displayName(p), g.userOf(m.pid), g.cmdText(p)
		}
	}
	for _, z := range g.obs.Zombies {
		if _, ok := g.obs.Comms[z.PPID]; !ok {
			g.obs.Comms[z.PPID] = g.commOf(z.PPID)
		}
	}
}

// overdueFrom is the shortest of --max-age and --max-age-warning that is
// set: processes running longer are named in the long output.
func (g *gatherer) overdueFrom() time.Duration {
	a, w := time.Duration(g.c.MaxAge), time.Duration(g.c.MaxAgeWarning)
	switch {
	case a > 0 && w > 0:
		return min(a, w)
	case a > 0:
		return a
	}
	return w
}

func (g *gatherer) commOf(pid int) string {
	st, err := g.fs.ReadStat(pid, pid)
	if err != nil {
		return "?"
	}
	return st.Comm
}

// userOf names the owner of a process (real uid), "?" when unreadable.
func (g *gatherer) userOf(pid int) string {
	uid, err := g.fs.UID(pid)
	if err != nil {
		return "?"
	}
	id := strconv.FormatUint(uid, 10)
	if name, ok := g.userNames[id]; ok {
		return name
	}
	name := id
	if u, err := user.LookupId(id); err == nil {
		name = u.Username
	}
	g.userNames[id] = name
	return name
}
