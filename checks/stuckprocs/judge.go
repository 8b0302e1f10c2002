package stuckprocs

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// cmdMax bounds a command line in the long output.
const cmdMax = 160

// summaryItems is how many offenders the first line names per group.
const summaryItems = 3

// part is one group of the first line (all D-stuck critical processes,
// the zombies, ...), with its state for ordering: a head ("2 processes in
// D for >5m") and the offenders it names, as many as the line has room foj.
type part struct {
	state plugin.State
	head  string
	names []string
	total int // offenders in the group, named or not
}

func (p part) render(k int) string {
	if len(p.names) == 0 || k <= 0 {
		return p.head
	}
	k = min(k, len(p.names))
	s := p.head + ": " + strings.Join(p.names[:k], ", ")
	if p.total > k {
		s += fmt.Sprintf(", +%d more", p.total-k)
	}
	return s
}

// judging is one verdict in the making: options, observations, and the
// previous run's state (of this boot).
type judging struct {
	c     *Check
	sel   selection
	obs   *observations
	prev  saved
	stuck []*stuckProc
}

// judge turns the observations into the result, and says what the next
// run needs to know. It is pure: the time is obs.Now.
func judge(c *Check, sel selection, obs *observations, prev saved) (plugin.Result, saved) {
	j := &judging{c: c, sel: sel, obs: obs, prev: history(prev, obs.BootTime)}
	j.stuck = judgeD(obs.DProcs, j.prev.Tasks, obs.Now, time.Duration(c.DWarning), time.Duration(c.DCritical))
	var res plugin.Result
	var parts []part
	parts = append(parts, j.judgeStuck(&res)...)
	parts = append(parts, j.judgeOverdue(&res)...)
	if p, ok := j.judgeZombies(&res); ok {
		parts = append(parts, p)
	}
	if p, ok := j.judgeHung(&res, obs.Hung); ok {
		parts = append(parts, p)
	}
	parts = append(parts, j.judgeMetric(&res)...)
	res.Summary = summary(parts, j.okSummary())
	j.addPerf(&res)
	j.addNotes(&res, prev)
	return res, j.next()
}

// summaryMax is the runtime's bound on the first line's text.
const summaryMax = 240

// trim takes one name off the summary; false when none is left.
func trim(ks []int) bool {
	most := -1
	for i, k := range ks {
		if k > 1 && (most < 0 || k >= ks[most]) {
			most = i
		}
	}
	if most >= 0 {
		ks[most]--
		return true
	}
	for i := len(ks) - 1; i >= 0; i-- {
		if ks[i] > 0 {
			ks[i]--
			return true
		}
	}
	return false
}

// summary joins the non-OK parts worst first, naming fewer offenders
// (least severe groups first) until every group fits on the line; a
// healthy run says what was seen.
func summary(parts []part, ok string) string {
	sort.SliceStable(parts, func(i, j int) bool { return plugin.Worse(parts[i].state, parts[j].state) })
	var bad []part
	for _, p := range parts {
		if p.state != plugin.OK {
			bad = append(bad, p)
		}
	}
	if len(bad) == 0 {
		return ok
	}
	// Name fewer offenders until it fits: first trim the groups naming
	// the most (later ones on a tie) down to one each, so every group
	// keeps a name; then drop names from the least severe groups.
	ks := make([]int, len(bad))
	for i, p := range bad {
		ks[i] = min(summaryItems, len(p.names))
	}
	texts := make([]string, len(bad))
	for {
		n := 0
		for i, p := range bad {
			texts[i] = p.render(ks[i])
			n += len(texts[i]) + 3
		}
		if n <= summaryMax || !trim(ks) {
			break
		}
	}
	return strings.Join(texts, " / ") // not "; ": Nagios 4 turns a semicolon in plugin output into a colon
}

// judgeStuck makes one finding per stuck process and one summary part
// per state and kind: "2 processes in D for >5m: df (pid 4121, 6d2h, wchan
// request_wait_answer), ..." for tasks in D, "1 process blocked on a
// filesystem for >5m: df (pid 1234) blocked 6m in FUSE
// request_wait_answer on /mnt/gluster" for those asleep in a filesystem's
// wait, which are just as stuck but not in D.
func (j *judging) judgeStuck(res *plugin.Result) []part {
	var parts []part
	for _, st := range []plugin.State{plugin.CRITICAL, plugin.WARNING} {
		limit := time.Duration(j.c.DCritical)
		if st == plugin.WARNING {
			limit = time.Duration(j.c.DWarning)
		}
		for _, waiting := range []bool{false, true} {
			var names []string
			n := 0
			for _, s := range j.stuck {
				if s.state != st || s.d.waiting != waiting {
					continue
				}
				n++
				if len(names) < summaryItems {
					names = append(names, j.shortD(s))
				}
				res.Add(st, j.longD(s))
			}
			if n == 0 {
				continue
			}
			head := fmt.Sprintf("%s in D for >%s", human.Plural(n, "process", "processes"), human.Duration(limit))
			if waiting {
				head = fmt.Sprintf("%s blocked on a filesystem for >%s", human.Plural(n, "process", "processes"), human.Duration(limit))
			}
			parts = append(parts, part{state: st, head: head, names: names, total: n})
		}
	}
	return parts
}

func (j *judging) shortD(s *stuckProc) string {
	if s.d.waiting {
		return fmt.Sprintf("%s (%s) blocked %s in %s", s.d.name, taskID(s.worst.t), human.Duration(s.dur), fsWaitText(s))
	}
	return fmt.Sprintf("%s (%s, %s, %s)", s.d.name, taskID(s.worst.t), human.Duration(s.dur), j.wchanText(s.worst.t))
}

func (j *judging) longD(s *stuckProc) string {
	t := s.worst.t
	if s.d.waiting {
		return fmt.Sprintf("%s (%s, user %s) blocked %s in %s, asleep (S) and stuck all the same", s.d.name, taskID(t), s.d.user,
			human.Duration(s.dur), fsWaitText(s)) + cmdSuffix(s.d.cmd)
	}
	text := fmt.Sprintf("%s (%s, user %s, D for %s, %s", s.d.name, taskID(t), s.d.user, human.Duration(s.dur), j.wchanText(t))
	if s.d.mount != "" {
		text += " on " + s.d.mount
	}
	if len(s.tasks) > 1 {
		text += fmt.Sprintf(", %d threads in D", len(s.tasks))
	}
	return text + ")" + cmdSuffix(s.d.cmd)
}

// fsWaitText is "FUSE request_wait_answer on /mnt/gluster".
func fsWaitText(s *stuckProc) string {
	t := s.worst.t
	text := strings.TrimSpace(t.fs + " " + t.wchan)
	if s.d.mount != "" {
		text += " on " + s.d.mount
	}
	return text
}

func taskID(t *dtask) string {
	if t.PID != t.pid {
		return fmt.Sprintf("pid %d thread %d", t.pid, t.PID)
	}
	return "pid " + strconv.Itoa(t.pid)
}

// wchanText says what a task waits on. The kernel shows "0" for other
// users' tasks unless root: that is said, not printed as 0.
func (j *judging) wchanText(t *dtask) string {
	if t.wchan != "" && t.wchan != "0" {
		return "wchan " + t.wchan
	}
	if j.obs.Euid != 0 {
		return "wchan hidden (not root)"
	}
	return "wchan unknown"
}

// judgeOverdue: selected processes running longer than --max-age.
func (j *judging) judgeOverdue(res *plugin.Result) []part {
	if j.c.MaxAge <= 0 && j.c.MaxAgeWarning <= 0 {
		return nil
	}
	matched := append([]matched(nil), j.obs.Matched...)
	sort.SliceStable(matched, func(a, b int) bool { return matched[a].age > matched[b].age })
	var parts []part
	for _, st := range []plugin.State{plugin.CRITICAL, plugin.WARNING} {
		limit := time.Duration(j.c.MaxAge)
		if st == plugin.WARNING {
			limit = time.Duration(j.c.MaxAgeWarning)
		}
		if limit <= 0 {
			continue
		}
		var names []string
		n := 0
		for _, m := range matched {
			if m.age <= limit || (st == plugin.WARNING && j.c.MaxAge > 0 && m.age > time.Duration(j.c.MaxAge)) {
				continue
			}
			n++
			if len(names) < summaryItems {
				names = append(names, fmt.Sprintf("%s (pid %d, %s)", m.name, m.pid, human.Duration(m.age)))
			}
			res.Add(st, fmt.Sprintf("%s (pid %d, user %s, running for %s, over %s)%s", m.name, m.pid, m.user,
				human.Duration(m.age), human.Duration(limit), cmdSuffix(m.cmd)))
		}
		if n == 0 {
			continue
		}
		parts = append(parts, part{state: st, head: fmt.Sprintf("%s running for >%s", human.Plural(n, "process", "processes"), human.Duration(limit)), names: names, total: n})
	}
	return parts
}

// cmdSuffix is ": the command line", bounded, or nothing when unknown.
func cmdSuffix(line string) string {
	if line == "" {
		return ""
	}
	line = strings.ReplaceAll(line, "|", " ")
	if len(line) > cmdMax {
		line = human.Truncate(line, cmdMax)
	}
	return ": " + line
}

// judgeZombies counts zombies and names the parents that do not reap them.
func (j *judging) judgeZombies(res *plugin.Result) (part, bool) {
	n := len(j.obs.Zombies)
	st := plugin.OK
	switch {
	case j.c.ZombieCritical.IsSet() && j.c.ZombieCritical.Alerts(float64(n)):
		st = plugin.CRITICAL
	case j.c.ZombieWarning.IsSet() && j.c.ZombieWarning.Alerts(float64(n)):
		st = plugin.WARNING
	}
	if n == 0 && st == plugin.OK {
		return part{}, false
	}
	byParent := map[int]int{}
	for _, z := range j.obs.Zombies {
		byParent[z.PPID]++
	}
	parents := make([]int, 0, len(byParent))
	for p := range byParent {
		parents = append(parents, p)
	}
	sort.Slice(parents, func(i, j int) bool {
		if byParent[parents[i]] != byParent[parents[j]] {
			return byParent[parents[i]] > byParent[parents[j]]
		}
		return parents[i] < parents[j]
	})
	var who []string
	for _, pp := range parents[:min(len(parents), summaryItems)] {
		who = append(who, fmt.Sprintf("%d of %s (pid %d)", byParent[pp], j.commOf(pp), pp))
	}
	for _, pp := range parents {
		c := float64(byParent[pp])
		pst := plugin.OK
		switch {
		case j.c.ZombieParentCritical.Alerts(c):
			pst = plugin.CRITICAL
		case j.c.ZombieParentWarning.Alerts(c):
			pst = plugin.WARNING
		}
		if pst != plugin.OK {
			res.Add(pst, fmt.Sprintf("%s (pid %d) has not reaped %s", j.commOf(pp), pp, human.Plural(byParent[pp], "zombie child", "zombie children")))
			st = plugin.Worst(st, pst)
		}
	}
	p := part{state: st, head: human.Plural(n, "zombie", "zombies"), names: who, total: len(parents)}
	if st != plugin.OK {
		res.Add(st, p.render(summaryItems))
	} else if j.obs.Verbose > 0 {
		res.Note(p.render(summaryItems))
	}
	return p, true
}

func (j *judging) commOf(pid int) string {
	if c, ok := j.obs.Comms[pid]; ok {
		return c
	}
	return "?"
}

// judgeHung reports growth of the kernel's hung-task count.
func (j *judging) judgeHung(res *plugin.Result, h *hungReport) (part, bool) {
	if h != nil && !h.grew && h.kmsgProblem != "" {
		// Said at every run, not first on the day a task hangs.
		text := "the kernel's hung-task reports could not be quoted: " + h.kmsgProblem
		res.Add(plugin.UNKNOWN, text)
		return part{state: plugin.UNKNOWN, head: text}, true
	}
	if h == nil || !h.grew {
		return part{}, false
	}
	n := int(h.count - h.prev)
	text := fmt.Sprintf("kernel reported %s since the last run", human.Plural(n, "hung task", "hung tasks"))
	if len(h.lines) > 0 {
		text += ": " + strings.Join(h.lines, " / ")
	}
	res.Add(plugin.WARNING, text)
	if h.kmsgProblem != "" {
		res.Add(plugin.UNKNOWN, "the kernel's hung-task reports are not quoted: "+h.kmsgProblem)
	}
	return part{state: plugin.WARNING, head: text}, true
}

// judgeMetric is check_procs' -w/-c: the count of matching processes,
// or with -m each process's value.
func (j *judging) judgeMetric(res *plugin.Result) []part {
	w, c := j.c.Warning, j.c.Critical
	if !w.IsSet() && !c.IsSet() {
		return nil
	}
	if j.c.Metric == "PROCS" {
		st := judgeValue(float64(j.obs.Selected), w, c)
		text := j.countText()
		res.Add(st, text)
		return []part{{state: st, head: text}}
	}
	var nw, nc int
	for _, m := range j.obs.Matched {
		switch judgeValue(m.value, w, c) {
		case plugin.CRITICAL:
			nc++
			res.Add(plugin.CRITICAL, fmt.Sprintf("%s (pid %d): %s %s", m.comm, m.pid, j.c.Metric, threshold.FormatNumber(m.value)))
		case plugin.WARNING:
			nw++
			res.Add(plugin.WARNING, fmt.Sprintf("%s (pid %d): %s %s", m.comm, m.pid, j.c.Metric, threshold.FormatNumber(m.value)))
		}
	}
	st := plugin.OK
	if nc > 0 {
		st = plugin.CRITICAL
	} else if nw > 0 {
		st = plugin.WARNING
	}
	text := fmt.Sprintf("%s: %d crit, %d warn out of %s", j.c.Metric, nc, nw, j.countText())
	return []part{{state: st, head: text}}
}

func judgeValue(v float64, w, c threshold.Range) plugin.State {
	switch {
	case c.IsSet() && c.Alerts(v):
		return plugin.CRITICAL
	case w.IsSet() && w.Alerts(v):
		return plugin.WARNING
	}
	return plugin.OK
}

// countText is check_procs' "3 processes with command name 'sshd'".
func (j *judging) countText() string {
	s := &j.sel
	var with []string
	if s.command != "" {
		with = append(with, fmt.Sprintf("command name '%s'", s.command))
	}
	if s.argument != "" {
		with = append(with, fmt.Sprintf("args '%s'", s.argument))
	}
	if s.ereg != nil {
		with = append(with, fmt.Sprintf("regex args '%s'", s.ereg))
	}
	if s.uid >= 0 {
		if s.userName != "" {
			with = append(with, fmt.Sprintf("UID %d (%s)", s.uid, s.userName))
		} else {
			with = append(with, fmt.Sprintf("UID %d", s.uid))
		}
	}
	if s.ppid >= 0 {
		with = append(with, fmt.Sprintf("PPID %d", s.ppid))
	}
	if s.flags != "" {
		with = append(with, fmt.Sprintf("status '%s'", s.flags))
	}
	if s.cgroup != "" {
		with = append(with, fmt.Sprintf("cgroup '%s'", s.cgroup))
	}
	if s.rss > 0 {
		with = append(with, "RSS >= "+threshold.FormatNumber(s.rss))
	}
	if s.vsz > 0 {
		with = append(with, "VSZ >= "+threshold.FormatNumber(s.vsz))
	}
	if s.pcpu > 0 {
		with = append(with, "PCPU >= "+threshold.FormatNumber(s.pcpu))
	}
	text := human.Plural(j.obs.Selected, "process", "processes")
	if len(with) > 0 {
		text += " with " + strings.Join(with, ", ")
	}
	return text
}

func (j *judging) okSummary() string {
	var s string
	if j.sel.any() || j.c.Warning.IsSet() || j.c.Critical.IsSet() {
		s = j.countText() + " / "
	} else {
		s = human.Plural(j.obs.Total, "process", "processes") + ", "
	}
	switch n := j.inD(); {
	case n == 0:
		s += "none in D"
	default:
		s += fmt.Sprintf("%d in D, none stuck", n)
	}
	return s + ", " + human.Plural(len(j.obs.Zombies), "zombie", "zombies")
}

// inD counts the processes with a task in D (not those asleep in a
// filesystem wait, judged alongside them).
func (j *judging) inD() int {
	n := 0
	for _, s := range j.stuck {
		if !s.d.waiting {
			n++
		}
	}
	return n
}

func (j *judging) addPerf(res *plugin.Result) {
	nan := math.NaN()
	procs := plugin.NewPerf("procs", float64(j.obs.Selected), "").WithBounds(0, nan)
	if j.c.Metric == "PROCS" {
		procs = procs.WithThresholds(j.c.Warning, j.c.Critical)
	}
	stuck := 0
	for _, s := range j.stuck {
		if s.state != plugin.OK {
			stuck++
		}
	}
	res.AddPerf(procs,
		plugin.NewPerf("procs_d", float64(j.inD()), "").WithBounds(0, nan),
		plugin.NewPerf("procs_stuck", float64(stuck), "").WithBounds(0, nan),
		plugin.NewPerf("zombies", float64(len(j.obs.Zombies)), "").WithThresholds(j.c.ZombieWarning, j.c.ZombieCritical).WithBounds(0, nan))
	res.AddPerf(plugin.NewPerf("oldest_match_age", math.Floor(j.obs.Oldest.Seconds()), "s").WithBounds(0, nan))
	if j.c.Metric != "PROCS" {
		var nw, nc int
		for _, m := range j.obs.Matched {
			switch judgeValue(m.value, j.c.Warning, j.c.Critical) {
			case plugin.CRITICAL:
				nc++
			case plugin.WARNING:
				nw++
			}
		}
		res.AddPerf(plugin.NewPerf("procs_warn", float64(nw), "").WithBounds(0, nan),
			plugin.NewPerf("procs_crit", float64(nc), "").WithBounds(0, nan))
	}
}

func (j *judging) addNotes(res *plugin.Result, prev saved) {
	o := j.obs
	for _, n := range o.Notes {
		res.Note(n)
	}
	if o.WchanHidden > 0 {
		res.Note(fmt.Sprintf("wait channels of %s of other users not readable as uid %d: tasks blocked in S on a hung mount are not seen (see README: CAP_SYS_PTRACE or sudo)",
			human.Plural(o.WchanHidden, "process", "processes"), o.Euid))
	}
	if o.Verbose == 0 {
		return
	}
	if prev.BootTime != 0 && prev.BootTime != o.BootTime {
		res.Note("state file is from before the last boot: starting afresh")
	}
	for _, n := range o.VerboseNotes {
		res.Note(n)
	}
	for _, s := range j.stuck {
		for _, v := range s.tasks {
			res.Note(fmt.Sprintf("%s in D: %s", s.d.proc.Comm, v.evidence(o.Now)))
		}
	}
	if o.OwnProbes > 0 {
		res.Note(fmt.Sprintf("left out: %s of hindsight in D (stuck on what they probed)", human.Plural(o.OwnProbes, "probe child", "probe children")))
	}
	if o.ArgsProbed > 0 || o.ArgsNotRead > 0 {
		text := fmt.Sprintf("command lines of processes in D: %d read through the prober", o.ArgsProbed)
		if o.ArgsNotRead > 0 {
			text += fmt.Sprintf(", %d not (at most %d a run): named by comm, read by later runs", o.ArgsNotRead, maxProbes)
		}
		res.Note(text)
	}
	st := o.Scan
	res.Note(fmt.Sprintf("scanned %d processes (%d tasks) under %s; %d vanished mid-scan, %d unreadable, %d malformed",
		st.Processes, st.Tasks, o.Root, st.Vanished, st.Unreadable+o.Unread, st.Malformed))
	for _, p := range append(st.Problems, o.UnreadText...) {
		res.Note("unreadable: " + p)
	}
}

// next is what the next run needs: since when each task still in D has
// been there (an entry kept as is while the task stays stuck, so an
// unchanged run writes nothing), the command lines already read, our
// probe children, and the hung-task baseline.
func (j *judging) next() saved {
	next := saved{BootTime: j.obs.BootTime, Tasks: map[string]seen{}, Probes: j.obs.ProbeKeys}
	for _, s := range j.stuck {
		for _, v := range s.tasks {
			if v.t.moved {
				continue
			}
			e := seen{Since: v.since.Unix(), At: j.obs.Now.Unix(), Switches: v.t.prog.Voluntary + v.t.prog.Involuntary}
			if v.prev != nil && v.prev.Since == v.since.Unix() {
				e = *v.prev
			}
			if len(e.Cmd) == 0 {
				e.Cmd = s.d.args
			}
			next.Tasks[v.t.key()] = e
		}
	}
	if h := j.obs.Hung; h != nil {
		next.HungCount = &h.count
		next.KmsgSeq = max(j.prev.KmsgSeq, h.seq)
	}
	if len(next.Tasks) == 0 {
		next.Tasks = nil
	}
	return next
}
