package load

import (
	"math"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// judgeOOM judges the OOM kills since the last run against --oom-warning
// (default 0: any kill) and --oom-critical, and adds their perfdata.
func judgeOOM(o *Options, res *plugin.Result, r oomReport, verbose int) {
	if r.Bad != nil {
		res.Add(plugin.UNKNOWN, r.Bad.Error())
		res.Summary += " / " + r.Bad.Error()
		return
	}
	if !r.Known {
		if verbose > 0 && r.Why != "" {
			res.Note(r.Why)
		}
		return
	}
	if r.LogBad != "" {
		text := "OOM-killed processes cannot be named: " + r.LogBad
		res.Add(plugin.UNKNOWN, text)
		res.Summary += " / " + text
	}
	switch {
	case r.NoState:
		if verbose > 0 {
			res.Note("OOM kills not judged without a state file: " + human.Plural(int(r.Total), "OOM kill", "OOM kills") + " since boot")
		}
	case !r.Compared:
		res.Add(plugin.OK, "OOM kills: first run, "+human.Plural(int(r.Total), "kill", "kills")+" since boot kept to compare with")
		// U keeps the series in graphers from the first run on.
		res.AddPerf(plugin.NewPerf("oom_kills", math.NaN(), "").WithThresholds(o.OOMWarning, o.OOMCritical).WithBounds(0, math.NaN()))
	default:
		judgeOOMKills(o, res, r)
	}
	res.AddPerf(plugin.NewPerf("oom_kills_total", float64(r.Total), "c"))
}

func judgeOOMKills(o *Options, res *plugin.Result, r oomReport) {
	n := float64(r.Since)
	st := stateOf(n, o.OOMWarning, o.OOMCritical)
	text := "no OOM kill since the last run"
	if r.Since > 0 {
		text = oomText(o, r, st)
	}
	res.Add(st, text)
	if st != plugin.OK {
		res.Summary += " / " + text
	}
	if r.LogNote != "" {
		res.Note("OOM-killed processes not named: " + r.LogNote)
	}
	res.AddPerf(plugin.NewPerf("oom_kills", n, "").WithThresholds(o.OOMWarning, o.OOMCritical).WithBounds(0, math.NaN()))
}

// oomText is "2 OOM kills since the last run (warning 0): nagios (pid
// 1234) in /system.slice/nagios.service, python3 (pid 99)".
func oomText(o *Options, r oomReport, st plugin.State) string {
	text := human.Plural(int(r.Since), "OOM kill", "OOM kills") + " since the last run"
	var why []string
	if r.Rebooted {
		why = append(why, "rebooted since")
	}
	switch st {
	case plugin.CRITICAL:
		why = append(why, "critical "+o.OOMCritical.String())
	case plugin.WARNING:
		why = append(why, "warning "+o.OOMWarning.String())
	}
	if len(why) > 0 {
		text += " (" + strings.Join(why, "; ") + ")"
	}
	if len(r.Victims) == 0 {
		if r.LogNote == "" && r.LogBad == "" {
			text += ", not found in the kernel log"
		}
		return text
	}
	names := make([]string, len(r.Victims))
	for i, v := range r.Victims {
		names[i] = v.String()
	}
	text += ": " + strings.Join(names, ", ")
	if missing := int(r.Since) - len(r.Victims); missing > 0 {
		text += " and " + human.Plural(missing, "other", "others") + " no longer in the kernel log"
	}
	return text
}
