package monitoring

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// noLogFile is the note when neither --nagios-log nor log_file names a log.
const noLogFile = "no log_file in the configuration (give --nagios-log)"

// maxListed bounds the late checks and failures named in the long output.
const maxListed = 20

// judge turns what gather read into the result: a pure function of the
// options and the observations.
func judge(o *Options, obs observations) plugin.Result {
	var res plugin.Result
	var oks []string
	if n := obs.Nagios; n != nil {
		oks = append(oks, judgeNagios(o, obs, n, &res)...)
	}
	if ic := obs.Icinga; ic != nil {
		oks = append(oks, judgeIcinga(o, obs, ic, &res)...)
	}
	if res.State() == plugin.OK && len(oks) > 0 {
		res.Summary = strings.Join(oks, ", ")
	}
	return res
}

func stateOf(v float64, warn, crit threshold.Range) plugin.State {
	switch {
	case crit.Alerts(v):
		return plugin.CRITICAL
	case warn.Alerts(v):
		return plugin.WARNING
	}
	return plugin.OK
}

// judgeNagios judges one Nagios 4 or Naemon engine; it returns the parts
// of an all-OK summary.
func judgeNagios(o *Options, obs observations, n *nagiosObs, res *plugin.Result) []string {
	if n.StatusMissing {
		text := "status file " + n.StatusPath + " does not exist: the engine is not running (it removes the file when it stops)"
		if n.Restarted != nil {
			if v := victimOf(n, n.Restarted.PID); v != "" {
				text += "; pid " + strconv.Itoa(n.Restarted.PID) + " of the last run was " + v
			} else if l := oomLikely(n); l != "" {
				text += "; pid " + strconv.Itoa(n.Restarted.PID) + " of the last run " + l
			}
		}
		res.Add(plugin.CRITICAL, text)
		judgeLock(obs, n, true, res)
		judgeLog(o, n.Log, noLogFile, "", res)
		return nil
	}
	prog := n.Status.Program
	name := engineName(n)
	var oks []string
	if s, text := judgeProc(n, name); s != plugin.OK {
		res.Add(s, text)
	} else {
		res.Add(plugin.OK, text)
		oks = append(oks, text)
	}
	if n.Restarted != nil && n.Proc.Found {
		text := name + " restarted since the last run (was pid " + strconv.Itoa(n.Restarted.PID) + ")"
		if v := victimOf(n, n.Restarted.PID); v != "" {
			res.Add(plugin.WARNING, text+": "+v)
		} else if l := oomLikely(n); l != "" {
			res.Add(plugin.WARNING, text+": it "+l)
		} else {
			res.Add(plugin.OK, text) // seen in the long output, not a problem by itself
		}
	}
	if n.OOMBad != "" {
		res.Add(plugin.UNKNOWN, "the kernel log cannot be read: "+n.OOMBad)
	}
	if n.OOMNote != "" {
		res.Note(n.OOMNote)
	}
	if n.OOMCount.Why != "" && obs.Verbose > 0 {
		res.Note(n.OOMCount.Why)
	}
	age := obs.Now.Sub(time.Unix(prog.Created, 0))
	limit := statusLimit(o, n)
	ageText := "status file " + human.Duration(max(age, 0)) + " old"
	switch {
	case age > limit:
		res.Add(plugin.CRITICAL, ageText+" ("+n.StatusPath+", rewritten every "+strconv.Itoa(n.Config.StatusUpdateInterval)+"s): the engine is dead or hung")
	default:
		res.Add(plugin.OK, ageText)
		oks = append(oks, ageText)
	}
	judgeLock(obs, n, age > limit, res)
	if !prog.Notifications {
		res.Add(plugin.CRITICAL, "notifications are disabled globally: no problem reaches anyone")
	}
	if !prog.ActiveService {
		res.Add(plugin.CRITICAL, "active service checks are disabled globally")
	}
	if !prog.ActiveHost {
		res.Add(plugin.WARNING, "active host checks are disabled globally")
	}
	if text := judgeFreshness(o, obs.Now, obs.Verbose, n, res); text != "" {
		oks = append(oks, text)
	}
	if prog.Notifications {
		judgeUnnotified(o, obs.Now, "", res, n.Status.Hosts, n.Status.Services)
	}
	if text := judgeLog(o, n.Log, noLogFile, "", res); text != "" {
		oks = append(oks, text)
	}
	judgeMemory(o, obs, n.Proc, res)
	return oks
}

// engineName is the process's name, or "the engine".
func engineName(n *nagiosObs) string {
	if n.Proc.Comm != "" && n.Proc.Found {
		return n.Proc.Comm
	}
	return "the engine"
}

// statusLimit is the age past which status.dat says the engine stopped
// writing it: --stale-factor rewrites missed, plus 5 s for a busy loop.
func statusLimit(o *Options, n *nagiosObs) time.Duration {
	return lateAfter(float64(o.StaleFactor), float64(n.Config.StatusUpdateInterval), 5*time.Second)
}

func judgeProc(n *nagiosObs, name string) (plugin.State, string) {
	p := n.Proc
	pid := strconv.Itoa(p.PID)
	switch {
	case p.Err != nil:
		return plugin.UNKNOWN, "the engine's process cannot be read: " + p.Err.Error()
	case !p.Found && p.PID <= 0:
		return plugin.CRITICAL, "the engine is not running: the status file " + n.StatusPath + " " + p.Gone
	case !p.Found:
		text := "the engine (pid " + pid + " in " + n.StatusPath + ") is not running: " + p.Gone
		if v := victimOf(n, p.PID); v != "" {
			text += "; " + v
		} else if l := oomLikely(n); l != "" {
			text += "; it " + l
		}
		return plugin.CRITICAL, text
	case p.State == 'Z' || p.State == 'X':
		text := name + " (pid " + pid + ") is dead (a zombie)"
		if v := victimOf(n, p.PID); v != "" {
			text += ": " + v
		} else if l := oomLikely(n); l != "" {
			text += ": it " + l
		}
		return plugin.CRITICAL, text
	case p.State == 'T' || p.State == 't':
		return plugin.CRITICAL, name + " (pid " + pid + ") is stopped (SIGSTOP or a debugger): it checks nothing"
	}
	text := name + " (pid " + pid + ") running"
	if v := n.Status.Program.Version; v != "" {
		text = name + " " + v + " (pid " + pid + ") running"
	}
	return plugin.OK, text
}

// judgeLock says which process the lock file names when status.dat
// does not name it. A stopped or zombie one is CRITICAL. With status.dat
// missing or stale, a running one is the engine that no longer writes
// it (CRITICAL); with status.dat fresh, it is a WARNING (a second
// engine, or status.dat's pid is wrong). One that is gone is a lock
// file left behind (a note).
func judgeLock(obs observations, n *nagiosObs, stale bool, res *plugin.Result) {
	l := n.Lock
	if l.Note != "" {
		if obs.Verbose > 0 {
			res.Note(l.Note)
		}
		return
	}
	if l.Proc == nil {
		return
	}
	text := "the lock file " + l.Path + " names pid " + strconv.Itoa(l.PID)
	if !n.StatusMissing {
		text += ", not status.dat's " + strconv.Itoa(n.Status.Program.PID)
	}
	p := *l.Proc
	switch {
	case p.Err != nil:
		res.Note(text + ": its process cannot be read: " + p.Err.Error())
	case !p.Found:
		res.Note(text + ": " + p.Gone + " (a lock file left behind)")
	case p.State == 'Z' || p.State == 'X':
		res.Add(plugin.CRITICAL, text+": "+p.Comm+" (pid "+strconv.Itoa(p.PID)+") is dead (a zombie)")
	case p.State == 'T' || p.State == 't':
		res.Add(plugin.CRITICAL, text+": "+p.Comm+" (pid "+strconv.Itoa(p.PID)+") is stopped (SIGSTOP or a debugger): it checks nothing")
	case stale:
		res.Add(plugin.CRITICAL, text+": "+p.Comm+" (pid "+strconv.Itoa(p.PID)+") runs but does not write "+n.StatusPath)
	case n.Proc.Alive():
		res.Add(plugin.WARNING, text+": "+p.Comm+" (pid "+strconv.Itoa(p.PID)+") runs too (a second engine on the same files?)")
	default:
		res.Add(plugin.WARNING, text+": "+p.Comm+" (pid "+strconv.Itoa(p.PID)+") runs")
	}
}

// victimOf says how the kernel log saw pid die, "" when it did not.
func victimOf(n *nagiosObs, pid int) string {
	for _, v := range n.OOM {
		if v.PID == pid {
			return "killed by the OOM killer: " + v.String()
		}
	}
	return ""
}

// oomLikely says that the OOM killer likely took the engine, "" when
// nothing says so: the kernel counted OOM kills since the last run and
// its log, which would name the process, could not be read. A log that
// was read and does not name the engine means the kills were of others.
func oomLikely(n *nagiosObs) string {
	c := n.OOMCount
	if !c.Compared || c.Since == 0 || (n.OOMNote == "" && n.OOMBad == "") {
		return ""
	}
	return "was likely killed by the OOM killer: the kernel counted " + human.Plural(int(c.Since), "OOM kill", "OOM kills") +
		" since the last run (its log, which names the process, is not readable)"
}

// late is one active check whose last run is too old.
type late struct {
	name  string
	age   time.Duration // since its last run, or since start for never run
	never bool
}

// judgeFreshness counts the active checks whose last run is older than
// --stale-factor times their interval. It returns the OK summary part.
func judgeFreshness(o *Options, now time.Time, verbose int, n *nagiosObs, res *plugin.Result) string {
	unit := float64(n.Config.IntervalLength)
	slack := time.Duration(n.Config.StatusUpdateInterval) * time.Second
	start := time.Unix(n.Status.Program.Start, 0)
	var lates []late
	var bad []string
	total := 0
	var oldest time.Duration
	for _, list := range [][]nagiosstatus.Object{n.Status.Hosts, n.Status.Services} {
		for _, obj := range list {
			if !obj.Active || !obj.Scheduled || obj.Interval == 0 {
				continue
			}
			if why := badInterval(obj.Interval * unit); why != "" {
				bad = append(bad, obj.Name()+": check_interval="+intervalText(obj.Interval)+" ("+why+")")
				continue
			}
			total++
			limit := lateAfter(float64(o.StaleFactor), obj.Interval*unit, slack)
			if !obj.Checked {
				if since := now.Sub(start); since > limit {
					lates = append(lates, late{obj.Name(), since, true})
					oldest = max(oldest, since)
				}
				continue
			}
			age := now.Sub(time.Unix(obj.LastCheck, 0))
			oldest = max(oldest, age)
			if age > limit {
				lates = append(lates, late{obj.Name(), age, false})
			}
		}
	}
	addBadIntervals(res, bad, verbose, "")
	return addFreshness(o, res, lates, total, oldest, "")
}

// maxInterval is the longest check interval taken as one: a check run
// less often than yearly is no check of a running engine, and a bigger
// one (1e300) would overflow the time arithmetic.
const maxInterval = 366 * 24 * time.Hour

// badInterval says why an interval of seconds (not 0: a check not run on
// a schedule) is none, "" when it is one: status.dat and the API can
// hold anything, and inf or NaN made every check late.
func badInterval(seconds float64) string {
	switch {
	case math.IsNaN(seconds):
		return "not a number"
	case math.IsInf(seconds, 0):
		return "infinite"
	case seconds < 0:
		return "negative"
	case seconds > maxInterval.Seconds():
		return "over a year"
	}
	return ""
}

func intervalText(v float64) string {
	if math.IsNaN(v) {
		return "(not a number)"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// lateAfter is how old a check's last run may be: factor times its
// interval of seconds, plus slack, at most the longest time.Duration.
func lateAfter(factor, seconds float64, slack time.Duration) time.Duration {
	d := factor*seconds*float64(time.Second) + float64(slack)
	if !(d < math.MaxInt64) {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// addBadIntervals counts the checks not judged for a check_interval that
// is none, as status.dat's other odd values are taken: leniently, with a
// word in the long output; -v names them.
func addBadIntervals(res *plugin.Result, bad []string, verbose int, engine string) {
	if len(bad) == 0 {
		return
	}
	text := engineLabel(engine) + human.Plural(len(bad), "active check", "active checks") +
		" not judged for lateness: check_interval not a number, infinite, negative or over a year"
	if verbose == 0 {
		res.Note(text + " (-v names them)")
		return
	}
	res.Note(text)
	for i, b := range bad {
		if i == maxListed {
			res.Note("bad interval: " + strconv.Itoa(len(bad)-maxListed) + " more")
			break
		}
		res.Note("bad interval: " + b)
	}
}

// addFreshness adds the finding and perfdata of late checks; engine
// prefixes the text when more than one engine is watched.
func addFreshness(o *Options, res *plugin.Result, lates []late, total int, oldest time.Duration, engine string) string {
	share := 0.0
	if total > 0 {
		share = 100 * float64(len(lates)) / float64(total)
	}
	st := stateOf(share, o.StaleWarning, o.StaleCritical)
	if len(lates) == 0 {
		st = plugin.OK
	}
	res.AddPerf(enginePerf(engine, "late_checks", float64(len(lates)), "").WithThresholds(countRange(o.StaleWarning, total), countRange(o.StaleCritical, total)).WithBounds(0, float64(total)).WithState(st),
		enginePerf(engine, "oldest_check_age", math.Round(oldest.Seconds()), "s").WithBounds(0, math.NaN()))
	if len(lates) == 0 {
		text := strconv.Itoa(total) + " active checks on time"
		res.Add(plugin.OK, text)
		return text
	}
	sort.SliceStable(lates, func(i, j int) bool { return lates[i].age > lates[j].age })
	text := strconv.Itoa(len(lates)) + " of " + strconv.Itoa(total) + " active checks (" + strconv.FormatFloat(share, 'f', 1, 64) +
		"%) late by over " + threshold.FormatNumber(float64(o.StaleFactor)) + "x their interval, oldest " + lateText(lates[0])
	res.Add(st, engineLabel(engine)+text)
	for i, l := range lates {
		if i == maxListed {
			res.Note("late: " + strconv.Itoa(len(lates)-maxListed) + " more")
			break
		}
		res.Note("late: " + lateText(l))
	}
	return ""
}

// enginePerf is an item of one engine, its label prefixed with the
// engine's when more than one is watched; the metric is the same for all.
func enginePerf(engine, metric string, v float64, uom string) plugin.Perf {
	p := plugin.NewPerf(engine+metric, v, uom)
	p.Metric = metric
	return p
}

func engineLabel(engine string) string {
	if engine == "" {
		return ""
	}
	return strings.TrimSuffix(engine, "_") + ": "
}

func lateText(l late) string {
	if l.never {
		return l.name + " never checked in " + human.Duration(l.age) + " since start"
	}
	return l.name + " last checked " + human.Duration(l.age) + " ago"
}

// countRange turns a percent threshold into the count it means, for
// perfdata: a graph of late_checks then shows where the states change.
func countRange(r threshold.Range, total int) threshold.Range {
	if !r.IsSet() || r.Inverted() || r.Start() != 0 || math.IsInf(r.End(), 1) {
		return threshold.Range{}
	}
	c, err := threshold.ParseRange(threshold.FormatNumber(math.Floor(r.End() * float64(total) / 100)))
	if err != nil {
		return threshold.Range{}
	}
	return c
}

// judgeUnnotified warns of problems older than --unnotified that no
// notification was sent for since they began.
func judgeUnnotified(o *Options, now time.Time, engine string, res *plugin.Result, lists ...[]nagiosstatus.Object) {
	limit := time.Duration(o.Unnotified)
	if limit <= 0 {
		return
	}
	var silent []late
	for _, list := range lists {
		for _, obj := range list {
			if !obj.Problem() || obj.LastNotification >= obj.LastHardChange || obj.LastHardChange == 0 {
				continue
			}
			if age := now.Sub(time.Unix(obj.LastHardChange, 0)); age > limit {
				silent = append(silent, late{name: obj.Name(), age: age})
			}
		}
	}
	if len(silent) == 0 {
		return
	}
	sort.SliceStable(silent, func(i, j int) bool { return silent[i].age > silent[j].age })
	res.Add(plugin.WARNING, engineLabel(engine)+human.Plural(len(silent), "problem", "problems")+" older than "+human.Duration(limit)+
		" with no notification sent, oldest "+silent[0].name+" for "+human.Duration(silent[0].age))
	for i, s := range silent {
		if i == maxListed {
			break
		}
		res.Note("not notified: " + s.name + " for " + human.Duration(s.age))
	}
}

// judgeLog judges the notifications the log shows since the last run;
// engine names it when more than one engine is watched.
func judgeLog(o *Options, nl notifLog, missing, engine string, res *plugin.Result) string {
	switch {
	case nl.Err != nil:
		res.Add(plugin.UNKNOWN, engineLabel(engine)+"failed notifications not checked: "+nl.Err.Error())
		return ""
	case nl.Missing != "":
		res.Note("failed notifications not checked: " + nl.Missing)
		return ""
	case nl.Log == nil:
		if missing != "" {
			res.Note("failed notifications not checked: " + missing)
		}
		return ""
	}
	l := nl.Log
	failed := float64(len(l.Failures))
	st := stateOf(failed, o.NotifyFailWarning, o.NotifyFailCritical)
	res.AddPerf(enginePerf(engine, "notifications_sent", float64(l.Sent), "").WithBounds(0, math.NaN()),
		enginePerf(engine, "notifications_failed", failed, "").WithThresholds(o.NotifyFailWarning, o.NotifyFailCritical).WithBounds(0, math.NaN()).WithState(st))
	if nl.Rotated != "" {
		res.Note(nl.Rotated)
	}
	if nl.Cut {
		res.Note(nl.Path + " is over " + strconv.FormatInt(files.Log.Max>>20, 10) + " MiB: only its end was read")
	}
	if len(l.Failures) == 0 {
		text := human.Plural(l.Sent, "notification", "notifications") + " sent, none failed"
		res.Add(plugin.OK, engineLabel(engine)+text)
		return text
	}
	byCommand := map[string]int{}
	var order []string
	for _, f := range l.Failures {
		c := f.Command
		if c == "" {
			c = "(command not logged)"
		}
		if byCommand[c] == 0 {
			order = append(order, c)
		}
		byCommand[c]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = c
		if byCommand[c] > 1 {
			parts[i] += " x" + strconv.Itoa(byCommand[c])
		}
	}
	res.Add(st, engineLabel(engine)+human.Plural(len(l.Failures), "notification command", "notification commands")+" failed: "+strings.Join(parts, ", "))
	for i, f := range l.Failures {
		if i == maxListed {
			res.Note("failed notification: " + strconv.Itoa(len(l.Failures)-maxListed) + " more")
			break
		}
		res.Note(failureText(f))
	}
	return ""
}

// stampText shows a log's stamp (Unix seconds) in UTC.
func stampText(ts int64) string { return time.Unix(ts, 0).UTC().Format("2006-01-02 15:04:05Z") }

func failureText(f nagiosstatus.Failure) string {
	obj := f.Host
	if f.Service != "" {
		obj += "/" + f.Service
	}
	cmd := f.Command
	if cmd == "" {
		cmd = "a notification command"
	}
	text := "failed notification: " + cmd + " " + f.Reason + " at " + stampText(f.Time) + " for " + obj
	if f.Contact != "" {
		text += " to " + f.Contact
	}
	return text
}

// judgeMemory reports the engine's resident memory and its growth since
// the last run of the same process. No process, no measure: U, which
// keeps the graph's series.
func judgeMemory(o *Options, obs observations, p engineProc, res *plugin.Result) {
	if !p.Alive() {
		res.AddPerf(plugin.NewPerf("engine_rss", math.NaN(), "B"), plugin.NewPerf("engine_rss_growth", math.NaN(), "B"))
		return
	}
	mib := float64(p.RSS) / (1 << 20)
	st := stateOf(mib, o.RSSWarning, o.RSSCritical)
	text := "engine memory " + strconv.FormatFloat(mib, 'f', 1, 64) + " MiB"
	prev := obs.Prev
	res.AddPerf(plugin.NewPerf("engine_rss", float64(p.RSS), "B").WithThresholds(mibToBytes(o.RSSWarning), mibToBytes(o.RSSCritical)).WithBounds(0, math.NaN()).WithState(st))
	if prev != nil && prev.PID == p.PID && prev.Started == p.Started && obs.Now.Unix() > prev.At {
		grown := p.RSS - prev.RSS
		hours := float64(obs.Now.Unix()-prev.At) / 3600
		rate := float64(grown) / (1 << 20) / hours
		gst := stateOf(rate, o.GrowthWarning, o.GrowthCritical)
		text += " (" + signed(float64(grown)/(1<<20)) + " MiB since the last run " + human.Duration(obs.Now.Sub(time.Unix(prev.At, 0))) + " ago, " + signed(rate) + " MiB/h)"
		res.AddPerf(plugin.NewPerf("engine_rss_growth", float64(grown), "B").WithState(gst))
		st = plugin.Worst(st, gst)
	} else {
		// U on a first run (or a new engine process) keeps the series
		// in graphers from the first run on.
		res.AddPerf(plugin.NewPerf("engine_rss_growth", math.NaN(), "B"))
	}
	res.Add(st, text)
}

func signed(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// mibToBytes turns a threshold in MiB into one in bytes, for perfdata in B.
func mibToBytes(r threshold.Range) threshold.Range {
	if !r.IsSet() {
		return r
	}
	conv := func(v float64) string {
		switch {
		case math.IsInf(v, -1):
			return "~"
		case math.IsInf(v, 1):
			return ""
		}
		return threshold.FormatNumber(v * (1 << 20))
	}
	s := conv(r.Start()) + ":" + conv(r.End())
	if r.Inverted() {
		s = "@" + s
	}
	b, err := threshold.ParseRange(s)
	if err != nil {
		return threshold.Range{}
	}
	return b
}
