package monitoring

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// icingaSlack is added to N times a check's interval before it is late:
// Icinga spreads checks within their interval.
const icingaSlack = 5 * time.Second

// judgeIcinga judges one Icinga 2 engine through what its API said; it
// returns the parts of an all-OK summary.
func judgeIcinga(o *Options, obs observations, ic *icingaObs, res *plugin.Result) []string {
	prefix := ""
	if obs.Nagios != nil {
		prefix = "icinga_"
	}
	switch {
	case ic.Down != nil:
		res.Add(plugin.CRITICAL, "Icinga 2 API "+ic.Down.Error())
		judgeLog(o, ic.Log, "", prefix, res)
		return nil
	case ic.Refused != nil:
		res.Add(plugin.UNKNOWN, "Icinga 2 API "+ic.Refused.Error())
		judgeLog(o, ic.Log, "", prefix, res)
		return nil
	}
	app := ic.App
	var oks []string
	text := "icinga2"
	if app.Version != "" {
		text += " " + app.Version
	}
	pid, badPID := apiPID(app.PID)
	if badPID == "" {
		text += " (pid " + strconv.Itoa(pid) + ")"
	}
	text += " answers at " + ic.URL
	if app.ProgramStart > 0 {
		text += ", up " + human.Duration(obs.Now.Sub(floatTime(app.ProgramStart)))
	}
	if badPID != "" {
		text += "; " + badPID
	}
	res.Add(plugin.OK, text)
	oks = append(oks, text)
	if !app.Notifications {
		res.Add(plugin.CRITICAL, "Icinga 2 notifications are disabled globally: no problem reaches anyone")
	}
	if !app.ServiceChecks {
		res.Add(plugin.CRITICAL, "Icinga 2 service checks are disabled globally")
	}
	if !app.HostChecks {
		res.Add(plugin.WARNING, "Icinga 2 host checks are disabled globally")
	}
	if len(ic.NotConn) > 0 {
		text := human.Plural(len(ic.NotConn), "endpoint", "endpoints") + " not connected: " + strings.Join(ic.NotConn, ", ")
		if len(ic.ZonesOff) > 0 {
			text += " (" + human.Plural(len(ic.ZonesOff), "zone", "zones") + " cut off: " + strings.Join(ic.ZonesOff, ", ") + ")"
		}
		res.Add(plugin.CRITICAL, text)
	}
	start := floatTime(app.ProgramStart)
	var lates []late
	var bad []string
	total := 0
	var oldest time.Duration
	for _, list := range [][]icingaCheckable{ic.Hosts, ic.Services} {
		for _, c := range list {
			if !c.Active || c.Interval == 0 {
				continue
			}
			if why := badInterval(c.Interval); why != "" {
				bad = append(bad, c.Name+": check_interval="+intervalText(c.Interval)+" ("+why+")")
				continue
			}
			total++
			limit := lateAfter(float64(o.StaleFactor), c.Interval, icingaSlack)
			if c.Last <= 0 {
				if since := obs.Now.Sub(start); since > limit {
					lates = append(lates, late{c.Name, since, true})
					oldest = max(oldest, since)
				}
				continue
			}
			age := obs.Now.Sub(floatTime(c.Last))
			oldest = max(oldest, age)
			if age > limit {
				lates = append(lates, late{c.Name, age, false})
			}
		}
	}
	addBadIntervals(res, bad, obs.Verbose, prefix)
	if t := addFreshness(o, res, lates, total, oldest, prefix); t != "" {
		oks = append(oks, t)
	}
	if app.Notifications {
		objects := func(list []icingaCheckable) []nagiosstatus.Object {
			out := make([]nagiosstatus.Object, len(list))
			for i, c := range list {
				out[i] = c.object()
			}
			return out
		}
		judgeUnnotified(o, obs.Now, prefix, res, objects(ic.Hosts), objects(ic.Services))
	}
	if t := judgeLog(o, ic.Log, "", prefix, res); t != "" {
		oks = append(oks, t)
	}
	if obs.Nagios == nil {
		// Not on this host, the engine's memory is not measured: its
		// perfdata is U all the same, as when it cannot be.
		p := engineProc{}
		if ic.Proc != nil {
			p = *ic.Proc
		}
		judgeIcingaMemory(o, obs, p, res)
	}
	return oks
}

// judgeIcingaMemory measures the process at the API's pid when it is
// Icinga 2's; when it is not, or not there, or the API gives no valid
// pid, or is on another host (p zero), RSS is U in perfdata, which keeps
// the graph's series.
func judgeIcingaMemory(o *Options, obs observations, p engineProc, res *plugin.Result) {
	switch {
	case p.Alive():
		judgeMemory(o, obs, p, res)
		return
	case p.Err != nil:
		res.Note("the engine's memory is not known: " + p.Err.Error())
	case p.Foreign:
		res.Note("the engine's process is not on this host (the API reached through a tunnel?): the API's " + p.Gone + "; its memory is not known")
	case p.Found:
		res.Note("the engine's memory is not known: its process (the API's pid " + strconv.Itoa(p.PID) + ") is dead (a zombie)")
	case p.Gone == "":
		// Not measured: the API is not on this host.
	case p.PID <= 0:
		res.Note("the engine's memory is not known: " + p.Gone)
	default:
		res.Note("the engine's memory is not known: the API's pid " + strconv.Itoa(p.PID) + " is not a process here (" + p.Gone + ")")
	}
	res.AddPerf(plugin.NewPerf("engine_rss", math.NaN(), "B"), plugin.NewPerf("engine_rss_growth", math.NaN(), "B"))
}
