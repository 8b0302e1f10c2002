package stuckprocs

import (
	"fmt"
	"math"
	"os/user"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// cmdMax bounds a command line in the long output.
const cmdMax = 160

// summaryItems is how many offenders the first line names per group.
const summaryItems = 3

// part is one group of the first line (all D-stuck critical processes,
// the zombies, ...), with its state for ordering: a head ("2 processes in
// D for >5m") and the offenders it names, as many as the line has room for.
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

func (r *run) judge(stats proc.ScanStats, hung *hungReport) plugin.Result {
	var res plugin.Result
	var parts []part
	parts = append(parts, r.judgeStuck(&res)...)
	parts = append(parts, r.judgeOverdue(&res)...)
	if p, ok := r.judgeZombies(&res); ok {
		parts = append(parts, p)
	}
	if p, ok := r.judgeHung(&res, hung); ok {
		parts = append(parts, p)
	}
	parts = append(parts, r.judgeMetric(&res)...)
	res.Summary = summary(parts, r.okSummary())
	r.addPerf(&res)
	r.addNotes(&res, stats)
	return res
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

// judgeStuck makes one finding per process stuck in D and one summary
// part per state: "2 processes in D for >5m: df (pid 4121, 6d2h, wchan
// request_wait_answer), ...".
func (r *run) judgeStuck(res *plugin.Result) []part {
	var parts []part
	for _, st := range []plugin.State{plugin.CRITICAL, plugin.WARNING} {
		limit := time.Duration(r.c.DCritical)
		if st == plugin.WARNING {
			limit = time.Duration(r.c.DWarning)
		}
		var names []string
		n := 0
		for _, d := range r.dprocs {
			if d.state != st {
				continue
			}
			n++
			if len(names) < summaryItems {
				names = append(names, r.shortD(d))
			}
			res.Add(st, r.longD(d))
		}
		if n == 0 {
			continue
		}
		parts = append(parts, part{state: st, head: fmt.Sprintf("%s in D for >%s", plural(n, "process", "processes"), threshold.FormatDuration(limit)), names: names, total: n})
	}
	return parts
}

func (r *run) shortD(d *dproc) string {
	return fmt.Sprintf("%s (%s, %s, %s)", r.displayName(r.dprocAsProcess(d)), taskID(d.worst), threshold.FormatDuration(d.stuck), r.wchanText(d.worst))
}

func (r *run) longD(d *dproc) string {
	t := d.worst
	s := fmt.Sprintf("%s (%s, user %s, D for %s, %s", r.displayName(r.dprocAsProcess(d)), taskID(t), r.userOf(d.leader.PID), threshold.FormatDuration(d.stuck), r.wchanText(t))
	if len(d.tasks) > 1 {
		s += fmt.Sprintf(", %d threads in D", len(d.tasks))
	}
	return s + ")" + r.cmdSuffix(r.dprocAsProcess(d))
}

func (r *run) dprocAsProcess(d *dproc) *proc.Process {
	return &proc.Process{Stat: d.leader, D: []proc.Stat{d.worst.Stat}}
}

// displayName is the process's name for a pager: comm, or where the
// kernel cut it to 15 bytes, the full name from the executable or the
// script the arguments name ("ansible-playbook", not "ansible-playboo").
func (r *run) displayName(p *proc.Process) string {
	if len(p.Comm) != commLen {
		return p.Comm
	}
	if exe, err := r.fs.ExeName(p.PID); err == nil && len(exe) > commLen && strings.HasPrefix(exe, p.Comm) {
		return exe
	}
	if args, ok := r.args(p); ok {
		for i := 0; i < len(args) && i < 2; i++ {
			if b := path.Base(args[i]); len(b) > commLen && strings.HasPrefix(b, p.Comm) {
				return b
			}
		}
	}
	return p.Comm
}

func taskID(t *dtask) string {
	if t.PID != t.pid {
		return fmt.Sprintf("pid %d thread %d", t.pid, t.PID)
	}
	return "pid " + strconv.Itoa(t.pid)
}

// wchanText says what a task waits on. The kernel shows "0" for other
// users' tasks unless root: that is said, not printed as 0.
func (r *run) wchanText(t *dtask) string {
	if t.wchan != "" && t.wchan != "0" {
		return "wchan " + t.wchan
	}
	if r.c.euid != 0 {
		return "wchan hidden (not root)"
	}
	return "wchan unknown"
}

// judgeOverdue: selected processes running longer than --max-age.
func (r *run) judgeOverdue(res *plugin.Result) []part {
	if r.c.MaxAge <= 0 && r.c.MaxAgeWarning <= 0 {
		return nil
	}
	sort.SliceStable(r.matched, func(i, j int) bool { return r.matched[i].age > r.matched[j].age })
	var parts []part
	for _, st := range []plugin.State{plugin.CRITICAL, plugin.WARNING} {
		limit := time.Duration(r.c.MaxAge)
		if st == plugin.WARNING {
			limit = time.Duration(r.c.MaxAgeWarning)
		}
		if limit <= 0 {
			continue
		}
		var names []string
		n := 0
		for _, m := range r.matched {
			if m.age <= limit || (st == plugin.WARNING && r.c.MaxAge > 0 && m.age > time.Duration(r.c.MaxAge)) {
				continue
			}
			n++
			if len(names) < summaryItems {
				names = append(names, fmt.Sprintf("%s (pid %d, %s)", r.displayName(r.processByPID(m)), m.pid, threshold.FormatDuration(m.age)))
			}
			res.Add(st, fmt.Sprintf("%s (pid %d, user %s, running for %s, over %s)%s", r.displayName(r.processByPID(m)), m.pid, r.userOf(m.pid),
				threshold.FormatDuration(m.age), threshold.FormatDuration(limit), r.cmdSuffix(r.processByPID(m))))
		}
		if n == 0 {
			continue
		}
		parts = append(parts, part{state: st, head: fmt.Sprintf("%s running for >%s", plural(n, "process", "processes"), threshold.FormatDuration(limit)), names: names, total: n})
	}
	return parts
}

// processByPID rebuilds enough of a matched process to read its command
// line, through the prober when it has a task in D.
func (r *run) processByPID(m matched) *proc.Process {
	p := &proc.Process{Stat: proc.Stat{PID: m.pid, Comm: m.comm}}
	for _, d := range r.dprocs {
		if d.leader.PID == m.pid {
			p.D = []proc.Stat{d.leader}
		}
	}
	return p
}

// cmdSuffix is ": the command line", bounded, or nothing when unreadable.
func (r *run) cmdSuffix(p *proc.Process) string {
	line, ok := r.cmdline(p)
	if !ok || line == "" {
		return ""
	}
	line = strings.ReplaceAll(line, "|", " ")
	if len(line) > cmdMax {
		line = line[:cmdMax-3] + "..."
	}
	return ": " + line
}

// judgeZombies counts zombies and names the parents that do not reap them.
func (r *run) judgeZombies(res *plugin.Result) (part, bool) {
	n := len(r.zombies)
	st := plugin.OK
	switch {
	case r.c.ZombieCritical.IsSet() && r.c.ZombieCritical.Alerts(float64(n)):
		st = plugin.CRITICAL
	case r.c.ZombieWarning.IsSet() && r.c.ZombieWarning.Alerts(float64(n)):
		st = plugin.WARNING
	}
	if n == 0 && st == plugin.OK {
		return part{}, false
	}
	byParent := map[int]int{}
	for _, z := range r.zombies {
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
		who = append(who, fmt.Sprintf("%d of %s (pid %d)", byParent[pp], r.commOf(pp), pp))
	}
	for _, pp := range parents {
		c := float64(byParent[pp])
		pst := plugin.OK
		switch {
		case r.c.ZombieParentCritical.Alerts(c):
			pst = plugin.CRITICAL
		case r.c.ZombieParentWarning.Alerts(c):
			pst = plugin.WARNING
		}
		if pst != plugin.OK {
			res.Add(pst, fmt.Sprintf("%s (pid %d) has not reaped %s", r.commOf(pp), pp, plural(byParent[pp], "zombie child", "zombie children")))
			st = plugin.Worst(st, pst)
		}
	}
	p := part{state: st, head: plural(n, "zombie", "zombies"), names: who, total: len(parents)}
	if st != plugin.OK {
		res.Add(st, p.render(summaryItems))
	} else if r.env.Verbose > 0 {
		res.Note(p.render(summaryItems))
	}
	return p, true
}

func (r *run) commOf(pid int) string {
	st, err := r.fs.ReadStat(pid, pid)
	if err != nil {
		return "?"
	}
	return st.Comm
}

// judgeHung reports growth of the kernel's hung-task count.
func (r *run) judgeHung(res *plugin.Result, h *hungReport) (part, bool) {
	if h == nil || !h.grew {
		return part{}, false
	}
	n := int(h.count - h.prev)
	text := fmt.Sprintf("kernel reported %s since the last run", plural(n, "hung task", "hung tasks"))
	if len(h.lines) > 0 {
		text += ": " + strings.Join(h.lines, " / ")
	}
	res.Add(plugin.WARNING, text)
	return part{state: plugin.WARNING, head: text}, true
}

// judgeMetric is check_procs' -w/-c: the count of matching processes,
// or with -m each process's value.
func (r *run) judgeMetric(res *plugin.Result) []part {
	w, c := r.c.Warning, r.c.Critical
	if !w.IsSet() && !c.IsSet() {
		return nil
	}
	if r.c.Metric == "PROCS" {
		st := judgeValue(float64(r.nMatched), w, c)
		text := r.countText()
		res.Add(st, text)
		return []part{{state: st, head: text}}
	}
	var nw, nc int
	for _, m := range r.matched {
		switch judgeValue(m.value, w, c) {
		case plugin.CRITICAL:
			nc++
			res.Add(plugin.CRITICAL, fmt.Sprintf("%s (pid %d): %s %s", m.comm, m.pid, r.c.Metric, threshold.FormatNumber(m.value)))
		case plugin.WARNING:
			nw++
			res.Add(plugin.WARNING, fmt.Sprintf("%s (pid %d): %s %s", m.comm, m.pid, r.c.Metric, threshold.FormatNumber(m.value)))
		}
	}
	st := plugin.OK
	if nc > 0 {
		st = plugin.CRITICAL
	} else if nw > 0 {
		st = plugin.WARNING
	}
	text := fmt.Sprintf("%s: %d crit, %d warn out of %s", r.c.Metric, nc, nw, r.countText())
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
func (r *run) countText() string {
	s := &r.c.sel
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
	text := plural(r.nMatched, "process", "processes")
	if len(with) > 0 {
		text += " with " + strings.Join(with, ", ")
	}
	return text
}

func (r *run) okSummary() string {
	var s string
	if r.c.sel.any() || r.c.Warning.IsSet() || r.c.Critical.IsSet() {
		s = r.countText() + " / "
	} else {
		s = plural(r.total, "process", "processes") + ", "
	}
	if len(r.dprocs) == 0 {
		s += "none in D"
	} else {
		s += fmt.Sprintf("%d in D, none stuck", len(r.dprocs))
	}
	return s + ", " + plural(len(r.zombies), "zombie", "zombies")
}

func (r *run) addPerf(res *plugin.Result) {
	nan := math.NaN()
	procs := plugin.NewPerf("procs", float64(r.nMatched), "").WithBounds(0, nan)
	if r.c.Metric == "PROCS" {
		procs = procs.WithThresholds(r.c.Warning, r.c.Critical)
	}
	stuck := 0
	for _, d := range r.dprocs {
		if d.state != plugin.OK {
			stuck++
		}
	}
	res.AddPerf(procs,
		plugin.NewPerf("procs_d", float64(len(r.dprocs)), "").WithBounds(0, nan),
		plugin.NewPerf("procs_stuck", float64(stuck), "").WithBounds(0, nan),
		plugin.NewPerf("zombies", float64(len(r.zombies)), "").WithThresholds(r.c.ZombieWarning, r.c.ZombieCritical).WithBounds(0, nan))
	res.AddPerf(plugin.NewPerf("oldest_match_age", math.Floor(r.oldest.Seconds()), "s").WithBounds(0, nan))
	if r.c.Metric != "PROCS" {
		var nw, nc int
		for _, m := range r.matched {
			switch judgeValue(m.value, r.c.Warning, r.c.Critical) {
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

func (r *run) addNotes(res *plugin.Result, st proc.ScanStats) {
	for _, n := range r.notes {
		res.Note(n)
	}
	if r.env.Verbose == 0 {
		return
	}
	for _, d := range r.dprocs {
		for _, t := range d.tasks {
			res.Note(fmt.Sprintf("%s in D: %s", d.leader.Comm, t.evidence(r.now)))
		}
	}
	res.Note(fmt.Sprintf("scanned %d processes (%d tasks) under %s; %d vanished mid-scan, %d unreadable, %d malformed",
		st.Processes, st.Tasks, r.fs.Root, st.Vanished, st.Unreadable+r.unreadN, st.Malformed))
	for _, p := range append(st.Problems, r.unreadText...) {
		res.Note("unreadable: " + p)
	}
}

// userOf names the owner of a process (real uid), "?" when unreadable.
func (r *run) userOf(pid int) string {
	uid, err := r.fs.UID(pid)
	if err != nil {
		return "?"
	}
	id := strconv.FormatUint(uid, 10)
	if name, ok := r.userNames[id]; ok {
		return name
	}
	name := id
	if u, err := user.LookupId(id); err == nil {
		name = u.Username
	}
	r.userNames[id] = name
	return name
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
