package plugin

import (
	"math"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// Perf is one performance data item: 'label'=value[UOM];warn;crit;min;max.
//
// nagiosplugin.PerfDatum is not used for rendering: it never quotes
// labels, takes plain numbers for warn and crit where the guidelines allow
// ranges, and refuses units such as KiB that Icinga 2 understands.
type Perf struct {
	Label      string
	Value      float64
	UOM        string
	Warn, Crit threshold.Range
	Min, Max   float64 // NaN or ±Inf: omitted
	Unknown    bool    // value undeterminable: rendered as U
	// State marks an item the check judged non-OK without thresholds (a
	// device's error count, a certificate's chain); OK leaves the verdict
	// to Warn and Crit. Non-OK items are the last dropped from the output.
	State State
	// Metric names the quantity when the label names an item (a file, a
	// host:port): in --output-format openmetrics the items then share one
	// family, "hindsight_<plugin>_<Metric>", told apart by their label.
	// Empty: the family is named from the label.
	Metric string
}

// NewPerf returns an item with no thresholds and no bounds.
func NewPerf(label string, value float64, uom string) Perf {
	return Perf{Label: label, Value: value, UOM: uom, Min: math.NaN(), Max: math.NaN()}
}

// WithThresholds sets warn and crit.
func (p Perf) WithThresholds(warn, crit threshold.Range) Perf {
	p.Warn, p.Crit = warn, crit
	return p
}

// WithBounds sets min and max; NaN leaves one out.
func (p Perf) WithBounds(min, max float64) Perf {
	p.Min, p.Max = min, max
	return p
}

// WithState marks the item as judged s by the check (see Perf.State).
func (p Perf) WithState(s State) Perf {
	p.State = s
	return p
}

// Judged is the item's state for fitting the output: the worst of State
// and what its value is against its own thresholds.
func (p Perf) Judged() State {
	s := p.State
	if p.Unknown {
		return s // thresholds say nothing about an undetermined value
	}
	if p.Crit.Alerts(p.Value) {
		s = Worst(s, CRITICAL)
	} else if p.Warn.Alerts(p.Value) {
		s = Worst(s, WARNING)
	}
	return s
}

// String renders the item. Trailing empty fields are dropped; a value
// that is NaN or infinite renders as U, as the guidelines allow.
func (p Perf) String() string {
	var b strings.Builder
	b.WriteString(quoteLabel(p.Label))
	b.WriteByte('=')
	v := threshold.FormatNumber(p.Value)
	if p.Unknown || v == "" {
		b.WriteString("U")
	} else {
		b.WriteString(v)
		b.WriteString(p.UOM)
	}
	fields := []string{p.Warn.String(), p.Crit.String(), threshold.FormatNumber(p.Min), threshold.FormatNumber(p.Max)}
	last := len(fields)
	for last > 0 && fields[last-1] == "" {
		last--
	}
	for _, f := range fields[:last] {
		b.WriteByte(';')
		b.WriteString(f)
	}
	return b.String()
}

// quoteLabel quotes a label when it holds anything beyond a safe set:
// spaces, "=" and quotes must be quoted, and a quote inside is doubled,
// per the guidelines. Control characters and "|" would break the line
// for every parser and are replaced.
func quoteLabel(label string) string {
	if label == "" {
		label = "value"
	}
	clean := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '|' {
			return '_'
		}
		return r
	}, label)
	if strings.ContainsAny(clean, " '=\"\t") {
		return "'" + strings.ReplaceAll(clean, "'", "''") + "'"
	}
	return clean
}

// uniqueLabels are the perfdata labels as an output format shows them
// (show sanitises them), each once: labels that differ only in a masked
// secret ("?token=1" and "?token=2" both become "?token=xxxxx") or that
// a check gave twice would merge two series in a grapher, or lose one in
// Prometheus. The later ones get "#2", "#3", ...
func uniqueLabels(perf []Perf, show func(string) string) []string {
	out := make([]string, len(perf))
	seen := make(map[string]bool, len(perf))
	for i, p := range perf {
		shown := show(p.Label)
		l := shown
		for n := 2; seen[l]; n++ {
			l = shown + "#" + strconv.Itoa(n)
		}
		seen[l] = true
		out[i] = l
	}
	return out
}
