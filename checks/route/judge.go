package route

import (
	"math"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Values of the <family>_gateway_neigh perfdata: the gateway's neighbour
// entry as a number a graph can show.
const (
	neighUsable     = 0 // REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP
	neighNone       = 1 // no entry yet (nothing sent that way), or no gateway
	neighIncomplete = 2
	neighFailed     = 3
)

// judge turns what gather read into the result: a pure function of the
// options and the observations.
func judge(o *Options, obs observations) plugin.Result {
	var res plugin.Result
	var oks []string
	for _, f := range obs.Families {
		if text := judgeFamily(o, &res, f, obs.Verbose); text != "" {
			oks = append(oks, text)
		}
	}
	for _, d := range obs.Dests {
		st, text := judgeDest(d)
		res.Add(st, text)
	}
	if res.State() == plugin.OK && len(oks) > 0 {
		res.Summary = strings.Join(oks, "; ")
	}
	return res
}

// modeOf decides auto: a family is required where the host (or
// namespace) has a global address of it, ignored where it has none.
func modeOf(o *Options, f famObs) (mode Family, auto bool) {
	mode = o.mode(f.Family)
	if mode != Auto {
		return mode, false
	}
	if f.Global.IsValid() {
		return Required, true
	}
	return Ignore, true
}

// familyPerf is an item of one address family: labelled with the family,
// one metric for both families.
func familyPerf(prefix, metric string, v, max float64) plugin.Perf {
	p := plugin.NewPerf(prefix+metric, v, "").WithBounds(0, max)
	p.Metric = metric
	return p
}

// judgeFamily adds one family's findings and perfdata, and returns the
// text for an OK summary ("" when the family is ignored).
func judgeFamily(o *Options, res *plugin.Result, f famObs, verbose int) string {
	name, table := familyName(f.Family), o.Table.Name
	mode, auto := modeOf(o, f)
	if mode == Ignore {
		if verbose > 0 {
			why := "-" + map[int]string{v4: "4", v6: "6"}[f.Family] + " ignore"
			if auto {
				why = "no global " + name + " address"
			}
			res.Note(name + " not checked: " + why)
		}
		return ""
	}
	if verbose > 0 && auto {
		res.Note(name + " required: global address " + f.Global.String())
	}
	prefix := strings.ToLower(name) + "_"
	res.AddPerf(familyPerf(prefix, "routes", float64(f.Routes), math.NaN()))
	usable := usableDefaults(f.Defaults)
	res.AddPerf(familyPerf(prefix, "default_routes", float64(len(usable)), math.NaN()))
	if len(usable) == 0 {
		res.AddPerf(familyPerf(prefix, "gateway_neigh", neighNone, neighFailed))
		text := "no default route for " + name + " in table " + table
		if len(f.Defaults) > 0 {
			text = "default route for " + name + " in table " + table + " is " + f.Defaults[0].Type
		}
		if mode == Optional {
			res.Add(plugin.OK, text+" (optional)")
			return text + " (optional)"
		}
		res.Add(plugin.CRITICAL, text)
		return ""
	}
	d := usable[0] // the kernel's choice: lowest metric
	st, text, neigh := judgeDefault(o, name, table, d)
	res.AddPerf(familyPerf(prefix, "gateway_neigh", float64(neigh), neighFailed))
	res.Add(st, text)
	if verbose > 0 {
		for _, other := range usable[1:] {
			res.Note("also " + name + " default route " + hops(other.Hops) + metric(other))
		}
	}
	return text
}

// usableDefaults are the unicast default routes: an unreachable or
// blackhole default routes nothing out.
func usableDefaults(all []defRoute) []defRoute {
	var out []defRoute
	for _, d := range all {
		if d.Type == "unicast" {
			out = append(out, d)
		}
	}
	return out
}

// judgeDefault judges the preferred default route: the gateway and
// interface expected, and each gateway's neighbour entry.
func judgeDefault(o *Options, name, table string, d defRoute) (plugin.State, string, int) {
	text := name + " default route " + hops(d.Hops) + " in table " + table
	if gw, ok := o.gateway(familyOfName(name)); ok && !hasGateway(d.Hops, gw.String()) {
		return plugin.CRITICAL, text + ", expected gateway " + gw.String(), neighOf(d.Hops)
	}
	if o.Dev != "" && !hasDev(d.Hops, o.Dev) {
		return plugin.CRITICAL, text + ", expected dev " + o.Dev, neighOf(d.Hops)
	}
	neigh := neighOf(d.Hops)
	switch neigh {
	case neighFailed:
		return plugin.CRITICAL, text + ", gateway neighbour FAILED", neigh
	case neighIncomplete:
		return plugin.WARNING, text + ", gateway neighbour INCOMPLETE", neigh
	}
	for _, h := range d.Hops {
		if h.Gateway.IsValid() && h.Neigh != "" {
			text += ", gateway neighbour " + h.Neigh
			break
		}
	}
	return plugin.OK, text, neigh
}

// neighOf is the worst neighbour state among the hops with a gateway:
// usable < none < INCOMPLETE < FAILED.
func neighOf(hs []hop) int {
	worst := -1
	for _, h := range hs {
		if !h.Gateway.IsValid() {
			continue
		}
		v := neighUsable
		switch h.Neigh {
		case "FAILED":
			v = neighFailed
		case "INCOMPLETE":
			v = neighIncomplete
		case "", "NONE":
			v = neighNone
		}
		worst = max(worst, v)
	}
	if worst < 0 {
		return neighNone // straight onto a link: no gateway to resolve
	}
	return worst
}

func hasGateway(hs []hop, gw string) bool {
	for _, h := range hs {
		if h.Gateway.IsValid() && h.Gateway.String() == gw {
			return true
		}
	}
	return false
}

func hasDev(hs []hop, dev string) bool {
	for _, h := range hs {
		if h.Dev == dev {
			return true
		}
	}
	return false
}

// hops is "via 192.0.2.1 dev eth0", several joined by " and ".
func hops(hs []hop) string {
	var parts []string
	for _, h := range hs {
		var s []string
		if h.Gateway.IsValid() {
			s = append(s, "via "+h.Gateway.String())
		}
		if h.Dev != "" {
			s = append(s, "dev "+h.Dev)
		}
		parts = append(parts, strings.Join(s, " "))
	}
	return strings.Join(parts, " and ")
}

func metric(d defRoute) string {
	if d.Metric == 0 {
		return ""
	}
	return " metric " + strconv.Itoa(d.Metric)
}

// judgeDest judges one --to destination.
func judgeDest(d destObs) (plugin.State, string) {
	text := "route to " + d.To.String()
	switch {
	case d.Err != "":
		return plugin.UNKNOWN, text + ": lookup failed: " + d.Err
	case d.Refused != "":
		return plugin.CRITICAL, text + ": " + d.Refused
	}
	text += " " + hops([]hop{d.Via})
	if d.Src.IsValid() {
		text += " src " + d.Src.String()
	}
	return plugin.OK, text
}

func familyOfName(name string) int {
	if name == "IPv6" {
		return v6
	}
	return v4
}
