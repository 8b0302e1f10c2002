// Package load is check_load: the load average, absolute or per CPU
// (affinity- and cgroup-quota-aware), and pressure stall information.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

var errEOPNOTSUPP = syscall.EOPNOTSUPP

// Default thresholds when neither -w nor -c is given, judged per CPU: a
// 15-minute load of 1.5 runnable (or D-state) tasks per CPU is sustained
// queueing; 3 per CPU is saturation. The 1-minute values allow bursts.
const (
	defaultWarning  = "3,2,1.5"
	defaultCritical = "5,4,3"
)

// Plugin is check_load.
var Plugin = plugin.Plugin{
	Name:    "check_load",
	Service: "LOAD",
	Summary: "check the load average (absolute or per CPU) and pressure stall information",
	Usage:   "[-r] [-w W1,W5,W15] [-c C1,C5,C15] [-n N] [--psi-warning SPEC] [--psi-critical SPEC] [OPTIONS]",
	Group:   "Load options",
	Help: `Thresholds are lists for the 1, 5 and 15 minute averages ("15,10,5"), or one
value for all three; each value is a plain number (alert above it) or a range.
With -r they apply to the load per CPU. The CPU count honours the process's CPU
affinity and the cgroup CPU quota (v1 and v2), so a container limited to 2 CPUs
on a 64-core host is judged by 2.

Without -w and -c the load is judged per CPU against warning ` + defaultWarning + ` and
critical ` + defaultCritical + ` (the C check_load refuses to run without thresholds).

Pressure stall information (/proc/pressure: cpu, io, memory; some and full;
avg10/avg60/avg300) is reported as perfdata. Thresholds on it are optional:
--psi-warning RESOURCE[:some|full][:avg10|avg60|avg300]=RANGE (default some,
avg60; values in percent of time). On kernels without PSI, -v says so and the
load is still checked.

Examples:
  check_load -w 5,4,3 -c 10,8,6          absolute thresholds, as the C plugin
  check_load -r -w 2,1.5,1 -c 4,3,2      per CPU
  check_load                             per CPU with the defaults
  check_load -r -w 2 -c 4 -n 5           and the top 5 CPU consumers when not OK
  check_load --psi-warning io=20 --psi-critical io:full:avg10=50
  check_load --procfs /host/proc --sysfs /host/sys    from a container`,
	New: func() plugin.Check { return &Options{} },
}

// Options are check_load's options; Run is the check.
type Options struct {
	Warning        threshold.Triplet  `short:"w" long:"warning" value-name:"W1,W5,W15" description:"Warning thresholds for the 1, 5 and 15 minute load"`
	Critical       threshold.Triplet  `short:"c" long:"critical" value-name:"C1,C5,C15" description:"Critical thresholds for the 1, 5 and 15 minute load"`
	PerCPU         bool               `short:"r" long:"percpu" description:"Divide the load by the number of usable CPUs before comparing"`
	ProcsToShow    int                `short:"n" long:"procs-to-show" base:"10" default:"0" value-name:"N" description:"List the N processes using most CPU when the state is not OK"`
	SampleInterval threshold.Duration `long:"sample-interval" default:"250ms" value-name:"DURATION" description:"How long -n measures CPU use; 0 shows lifetime averages as ps does"`
	PSIWarning     []PSIThreshold     `long:"psi-warning" value-name:"RESOURCE[:LINE][:WINDOW]=RANGE" description:"Warning threshold on pressure stall information, in percent (repeatable)"`
	PSICritical    []PSIThreshold     `long:"psi-critical" value-name:"RESOURCE[:LINE][:WINDOW]=RANGE" description:"Critical threshold on pressure stall information, in percent (repeatable)"`
	plugin.ProcRoot
	plugin.SysRoot
}

// Validate rejects what go-flags cannot see.
func (o *Options) Validate() error {
	if o.ProcsToShow < 0 {
		return fmt.Errorf("invalid -n %d: must be 0 or more", o.ProcsToShow)
	}
	return nil
}

var windows = [3]string{"1", "5", "15"}

// Run gathers the load, CPUs and pressure and judges them.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	var res plugin.Result
	path := filepath.Join(o.Procfs, "loadavg")
	done := env.Begin("reading " + path)
	load, err := readLoadavg(path)
	done()
	if err != nil {
		return res, err
	}

	warn, crit, perCPU := o.Warning, o.Critical, o.PerCPU
	if !warn.IsSet() && !crit.IsSet() {
		warn, _ = threshold.ParseTriplet(defaultWarning)
		crit, _ = threshold.ParseTriplet(defaultCritical)
		perCPU = true
	}

	var cpus CPUs
	scaled := load
	if perCPU {
		done := env.Begin("counting CPUs in " + o.Sysfs + "/devices/system/cpu")
		cpus, err = countCPUs(o.Procfs, o.Sysfs)
		done()
		if err != nil {
			return res, fmt.Errorf("count CPUs for -r: %w", err)
		}
		for i := range scaled {
			scaled[i] = load[i] / cpus.Count
		}
	}

	for i, v := range scaled {
		res.Add(judge(v, warn[i], crit[i]), windowText(i, v, load[i], perCPU, warn[i], crit[i]))
	}
	res.Summary = summary(load, scaled, perCPU, cpus)
	addLoadPerf(&res, load, scaled, perCPU, warn, crit, cpus)

	psiRes, why, bad := readPSI(o.Procfs)
	o.judgePSI(&res, psiRes, why, env.Verbose)
	for _, err := range bad {
		res.Add(plugin.UNKNOWN, err.Error())
		res.Summary += " / " + err.Error()
	}

	if env.Verbose > 0 && perCPU {
		res.Note("judged per CPU: " + cpus.String())
	}
	if o.ProcsToShow > 0 && res.State() != plugin.OK {
		o.addTop(ctx, env, &res)
	}
	return res, nil
}

func judge(v float64, warn, crit threshold.Range) plugin.State {
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
func (o *Options) judgePSI(res *plugin.Result, p psi, why string, verbose int) {
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
					st := judge(v, wr, cr)
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

func (o *Options) addTop(ctx context.Context, env *plugin.Env, res *plugin.Result) {
	list, err := topConsumers(ctx, env, o.Procfs, o.ProcsToShow, time.Duration(o.SampleInterval))
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			res.Note("top CPU consumers not available: " + err.Error())
		}
		return
	}
	res.Note(fmt.Sprintf("top %d CPU consumers:", len(list)))
	for _, c := range list {
		res.Note("  " + c.String())
	}
}

func num(v float64) string { return fmt.Sprintf("%.2f", v) }

func join(v [3]float64) string { return num(v[0]) + ", " + num(v[1]) + ", " + num(v[2]) }
