package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

var windows = [3]string{"1", "5", "15"}

// judge turns what gather read into the result: a pure function of the
// options and the observations.
func judge(o *Options, obs observations) plugin.Result {
	var res plugin.Result
	warn, crit, perCPU := o.thresholds()
	load, scaled := obs.Load, obs.Load
	if perCPU {
		for i := range scaled {
			scaled[i] = load[i] / obs.CPUs.Count
		}
	}
	for i, v := range scaled {
		res.Add(stateOf(v, warn[i], crit[i]), windowText(i, v, load[i], perCPU, warn[i], crit[i]))
	}
	res.Summary = summary(load, scaled, perCPU, obs.CPUs)
	addLoadPerf(&res, load, scaled, perCPU, warn, crit, obs.CPUs)
	judgePSI(o, &res, obs.PSI, obs.PSIWhy, obs.Verbose)
	for _, err := range obs.PSIBad {
		res.Add(plugin.UNKNOWN, err.Error())
		res.Summary += " / " + err.Error()
	}
	judgeOOM(o, &res, obs.OOM, obs.Verbose)
	if obs.Verbose > 0 && perCPU {
		res.Note("judged per CPU: " + obs.CPUs.String())
	}
	addTop(&res, obs.Top)
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

func windowText(i int, v, total float64, perCPU bool, warn, crit threshold.Range) string {
	s := windows[i] + "-minute load " + num(v)
	if perCPU {
		s += " per CPU (" + num(total) + " in all)"
	}
	switch {
	case crit.Alerts(v):
		s += " outside critical " + crit.String()
	case warn.Alerts(v):
		s += " outside warning " + warn.String()
	}
	return s
}

func summary(load, scaled [3]float64, perCPU bool, cpus CPUs) string {
	// The C check_load's words, which users grep for.
	if !perCPU {
		return "total load average: " + join(load)
	}
	return "scaled load average: " + join(scaled) + " - total load average: " + join(load) + " (" + fmtCPU(cpus.Count) + " CPUs)"
}

func addLoadPerf(res *plugin.Result, load, scaled [3]float64, perCPU bool, warn, crit threshold.Triplet, cpus CPUs) {
	for i, v := range load {
		p := plugin.NewPerf("load"+windows[i], v, "").WithBounds(0, math.NaN())
		if !perCPU {
			p = p.WithThresholds(warn[i], crit[i])
		}
		res.AddPerf(p)
	}
	if !perCPU {
		return
	}
	for i, v := range scaled {
		res.AddPerf(plugin.NewPerf("scaled_load"+windows[i], v, "").WithThresholds(warn[i], crit[i]).WithBounds(0, math.NaN()))
	}
	res.AddPerf(plugin.NewPerf("cpus", cpus.Count, "").WithBounds(0, math.NaN()))
}

// judgePSI adds PSI perfdata, and findings for the PSI thresholds given.
func judgePSI(o *Options, res *plugin.Result, p psi, why string, verbose int) {
	if why != "" && (verbose > 0 || len(p) == 0 && len(o.PSIWarning)+len(o.PSICritical) > 0) {
		res.Note(why)
	}
	var hot []string // PSI problems, for the summary
	warn, crit := map[string]threshold.Range{}, map[string]threshold.Range{}
	for _, t := range o.PSIWarning {
		warn[t.key()] = t.Range
	}
	for _, t := range o.PSICritical {
		crit[t.key()] = t.Range
	}
	for _, r := range psiResources {
		for _, line := range []string{"some", "full"} {
			if r == "cpu" && line == "full" {
				continue // always zero system-wide: noise in every graph
			}
			for _, w := range []string{"avg10", "avg60", "avg300"} {
				v, ok := p.value(r, line, w)
				key := r + " " + line + " " + w
				wr, cr := warn[key], crit[key]
				if !ok {
					if wr.IsSet() || cr.IsSet() {
						text := "PSI " + key + " has a threshold but the kernel does not report it"
						res.Add(plugin.UNKNOWN, text)
						hot = append(hot, text)
					}
					continue
				}
				res.AddPerf(plugin.NewPerf("psi_"+r+"_"+line+"_"+w, v, "%").WithThresholds(wr, cr).WithBounds(0, 100))
				if wr.IsSet() || cr.IsSet() {
					st := stateOf(v, wr, cr)
					text := r + " pressure (" + line + ", " + w + ") " + num(v) + "%"
					switch st {
					case plugin.CRITICAL:
						text += " outside critical " + cr.String()
					case plugin.WARNING:
						text += " outside warning " + wr.String()
					}
					res.Add(st, text)
					if st != plugin.OK {
						hot = append(hot, text)
					}
				}
			}
		}
	}
	if len(hot) > 0 {
		res.Summary += " / " + strings.Join(hot, " / ")
	}
}

// addTop adds the -n listing as notes; a deadline that cut it short is
// not worth a note (the listing is a courtesy).
func addTop(res *plugin.Result, t top) {
	switch {
	case t.Err != nil:
		if !isDeadline(t.Err) {
			res.Note("top CPU consumers not available: " + t.Err.Error())
		}
	case len(t.List) > 0:
		res.Note(fmt.Sprintf("top %d CPU consumers:", len(t.List)))
		for _, c := range t.List {
			res.Note("  " + c.String())
		}
	}
}

func (c consumer) String() string {
	s := "pid " + strconv.Itoa(c.PID)
	if c.User != "" {
		s += " " + c.User
	}
	s += " " + c.State + " " + strconv.FormatFloat(c.Percent, 'f', 1, 64) + "% CPU: "
	cmd := c.Cmdline
	if cmd == "" {
		cmd = "[" + c.Comm + "]"
	}
	return s + human.Truncate(cmd, 120)
}

func isDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

func num(v float64) string { return fmt.Sprintf("%.2f", v) }

func join(v [3]float64) string { return num(v[0]) + ", " + num(v[1]) + ", " + num(v[2]) }
