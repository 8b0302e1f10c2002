package plugin

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// The values of --output-format. Whatever the format, the exit code is
// the Nagios one, every text passes the sanitiser and the whole output
// fits --max-output, the worst problems kept first.
const (
	formatNagios      = "nagios"
	formatJSON        = "json"
	formatOpenMetrics = "openmetrics"
)

// requestedFormat is the last valid --output-format in args, for errors
// found before or while go-flags parses them: a script that asked for
// JSON gets JSON also when another option is wrong.
func requestedFormat(args []string) string {
	format := formatNagios
	for i, a := range args {
		if a == "--" {
			break
		}
		v, ok := strings.CutPrefix(a, "--output-format=")
		if !ok && a == "--output-format" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok && (v == formatJSON || v == formatOpenMetrics || v == formatNagios) {
			format = v
		}
	}
	return format
}

// output renders a run's result, or a bare status (usage error, error of
// the check, the watchdog's timeout), in one format.
type output struct {
	format string
	plugin Plugin
	z      *Sanitizer
	max    int
	labels []OutputLabel // --output-label, in the order given
}

func (o output) limit() int {
	if o.max <= 0 {
		return DefaultMaxOutput
	}
	return o.max
}

// result renders the result of a run.
func (o output) result(r Result) string {
	switch o.format {
	case formatJSON:
		return o.json(r)
	case formatOpenMetrics:
		return o.metrics(r)
	}
	return o.z.Render(o.plugin.Service, r, o.max)
}

// line renders a bare status: one finding that is also the summary.
func (o output) line(s State, text string) string {
	if o.format == formatNagios || o.format == "" {
		return o.z.RenderLine(o.plugin.Service, s, text)
	}
	return o.result(Result{Summary: text, Findings: []Finding{{State: s, Text: text}}})
}

// summary is the status line's text, sanitised and pager-sized.
func (o output) summary(r Result) string {
	s := o.z.line(r.Summary)
	if s == "" {
		s = o.z.line(defaultSummary(r))
	}
	return human.Truncate(s, summaryMax)
}

// item is one droppable piece of a result: a finding, a note or a
// perfdata item, by index.
type item struct {
	kind  byte // 'f' finding (index into Sorted), 'n' note, 'p' perfdata
	index int
}

// priority orders the pieces of r as Render keeps them: non-OK findings
// worst first, non-OK perfdata worst first, OK findings, notes, OK
// perfdata.
func priority(r Result) []item {
	var bad, badPerf, good, goodPerf []item
	for i, f := range r.Sorted() {
		if f.State == OK {
			good = append(good, item{'f', i})
		} else {
			bad = append(bad, item{'f', i})
		}
	}
	for i := range r.Notes {
		good = append(good, item{'n', i})
	}
	for i, p := range r.Perf {
		if p.Judged() == OK {
			goodPerf = append(goodPerf, item{'p', i})
		} else {
			badPerf = append(badPerf, item{'p', i})
		}
	}
	sort.SliceStable(badPerf, func(i, j int) bool {
		return Worse(r.Perf[badPerf[i].index].Judged(), r.Perf[badPerf[j].index].Judged())
	})
	out := append(bad, badPerf...)
	out = append(out, good...)
	return append(out, goodPerf...)
}

// kept returns which findings (indexes into Sorted), notes and perfdata
// items the first k pieces of order are, each in output order.
func kept(order []item, k int) (findings, notes, perf []int) {
	for _, it := range order[:k] {
		switch it.kind {
		case 'f':
			findings = append(findings, it.index)
		case 'n':
			notes = append(notes, it.index)
		default:
			perf = append(perf, it.index)
		}
	}
	sort.Ints(findings)
	sort.Ints(notes)
	sort.Ints(perf)
	return findings, notes, perf
}

// longestPrefix returns the largest k in [0, n] for which size(k) fits
// in limit, -1 if none does. size grows with k, but for k = n, where the
// line saying what was left out goes away: n is tried first.
func longestPrefix(n, limit int, size func(k int) int) int {
	if size(n) <= limit {
		return n
	}
	k := sort.Search(n, func(k int) bool { return size(k) > limit }) - 1
	return k
}

// jsonResult is the json format: one object, in the spirit of
// monitoring-plugins 3's test JSON output.
type jsonResult struct {
	Plugin   string            `json:"plugin"`
	Service  string            `json:"service"`
	Labels   map[string]string `json:"labels,omitempty"`
	State    jsonState         `json:"state"`
	Summary  string            `json:"summary"`
	Findings []jsonFinding     `json:"findings"`
	Notes    []string          `json:"notes,omitempty"`
	Perfdata []jsonPerf        `json:"perfdata"`
	Omitted  *jsonOmitted      `json:"omitted,omitempty"`
}

type jsonState struct {
	Name string `json:"name"`
	Code int    `json:"code"`
}

type jsonFinding struct {
	State string `json:"state"`
	Text  string `json:"text"`
}

// jsonPerf is a perfdata item; value is null when undeterminable (U),
// warn and crit are Nagios ranges as given, min and max absent when unset.
type jsonPerf struct {
	Label string   `json:"label"`
	Value *float64 `json:"value"`
	UOM   string   `json:"uom"`
	Warn  string   `json:"warn,omitempty"`
	Crit  string   `json:"crit,omitempty"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
}

// jsonOmitted says how much --max-output left out.
type jsonOmitted struct {
	Findings int `json:"findings"`
	Notes    int `json:"notes"`
	Perfdata int `json:"perfdata"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (o output) json(r Result) string {
	state := r.State()
	sorted := r.Sorted()
	order := priority(r)
	labels := uniqueLabels(r.Perf, o.z.line)
	build := func(summary string, k int) jsonResult {
		out := jsonResult{Plugin: o.plugin.Name, Service: o.plugin.Service,
			Labels: o.labelMap(), State: jsonState{StateName(state), int(state)}, Summary: summary,
			Findings: []jsonFinding{}, Perfdata: []jsonPerf{}}
		fi, ni, pi := kept(order, k)
		for _, i := range fi {
			out.Findings = append(out.Findings, jsonFinding{StateName(sorted[i].State), o.z.line(sorted[i].Text)})
		}
		for _, i := range ni {
			out.Notes = append(out.Notes, o.z.line(r.Notes[i]))
		}
		for _, i := range pi {
			p := r.Perf[i]
			jp := jsonPerf{Label: labels[i], UOM: p.UOM, Warn: p.Warn.String(), Crit: p.Crit.String(), Min: finite(p.Min), Max: finite(p.Max)}
			if !p.Unknown {
				jp.Value = finite(p.Value)
			}
			out.Perfdata = append(out.Perfdata, jp)
		}
		if k < len(order) {
			out.Omitted = &jsonOmitted{len(r.Findings) - len(fi), len(r.Notes) - len(ni), len(r.Perf) - len(pi)}
		}
		return out
	}
	encode := func(v any) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<" stays readable; nobody embeds this in HTML
		enc.Encode(v)            // plain data: cannot fail
		return b.String()
	}
	limit := o.limit()
	summary := o.summary(r)
	size := func(k int) int { return len(encode(build(summary, k))) }
	k := longestPrefix(len(order), limit, size)
	for k < 0 && summary != "" {
		// Only the summary can give way now, as in Render.
		summary = human.Truncate(summary, max(len(summary)-(size(0)-limit), 3))
		if len(summary) <= 3 {
			summary = ""
		}
		k = longestPrefix(len(order), limit, size)
	}
	if k < 0 {
		// Below any useful --max-output: the state alone.
		return encode(struct {
			State jsonState `json:"state"`
		}{jsonState{StateName(state), int(state)}})
	}
	return encode(build(summary, k))
}

// metricPrefix starts every metric name of ours.
const metricPrefix = "hindsight_"

// stateMetric is the plugin's state as a metric.
const stateMetric = metricPrefix + "check_state"

// family is one metric family of the openmetrics format.
type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels string // {plugin="...",label="..."}
	value  float64
	pos    int // index in Result.Perf
}

// metrics renders the Prometheus text format that node_exporter's textfile
// collector reads (and OpenMetrics' "# EOF" at the end, which it takes as
// a comment): the status line as a comment, the state, one series per
// perfdata item in base units.
func (o output) metrics(r Result) string {
	state := r.State()
	plugin := o.seriesLabels()
	families, byPos := o.perfFamilies(r, plugin)
	order := priority(r)
	var perfOrder []int // perfdata in priority order, those with a series
	for _, it := range order {
		if it.kind == 'p' && byPos[it.index] != nil {
			perfOrder = append(perfOrder, it.index)
		}
	}
	head := func(summary string) string {
		return "# " + o.plugin.Service + " " + StateName(state) + " - " + summary + "\n" +
			"# HELP " + stateMetric + " State of the check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n" +
			"# TYPE " + stateMetric + " gauge\n" +
			stateMetric + "{" + plugin + "} " + strconv.Itoa(int(state)) + "\n"
	}
	render := func(summary string, k int) string {
		keep := map[int]bool{}
		for _, pos := range perfOrder[:k] {
			keep[pos] = true
		}
		var b strings.Builder
		b.WriteString(head(summary))
		for _, f := range families {
			var lines []string
			for _, s := range f.samples {
				if keep[s.pos] {
					lines = append(lines, f.name+s.labels+" "+formatMetric(s.value)+"\n")
				}
			}
			if len(lines) == 0 {
				continue
			}
			b.WriteString("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.typ + "\n")
			b.WriteString(strings.Join(lines, ""))
		}
		if k < len(perfOrder) {
			b.WriteString("# " + human.Plural(len(perfOrder)-k, "perfdata item", "perfdata items") + " not shown\n")
		}
		b.WriteString("# EOF\n")
		return b.String()
	}
	limit := o.limit()
	summary := o.summary(r)
	size := func(k int) int { return len(render(summary, k)) }
	k := longestPrefix(len(perfOrder), limit, size)
	if k < 0 {
		summary = human.Truncate(summary, max(len(summary)-(size(0)-limit), 3))
		k = longestPrefix(len(perfOrder), limit, size)
	}
	if k < 0 {
		return o.stateOnly(state, len(perfOrder))
	}
	return render(summary, k)
}

// seriesLabels are the labels every series has: plugin="..." and those of
// --output-label.
func (o output) seriesLabels() string {
	return `plugin="` + escapeLabel(o.plugin.Name) + `"` + o.extraLabels()
}

// stateOnly is the state alone, for a --max-output below any more; then,
// as they fit, that omitted perfdata items were left out (so that a
// reader does not take their absence for none), and the state's HELP,
// which only promtool's lint misses.
func (o output) stateOnly(state State, omitted int) string {
	s := "# TYPE " + stateMetric + " gauge\n" + stateMetric + "{" + o.seriesLabels() + "} " + strconv.Itoa(int(state)) + "\n"
	const end = "# EOF\n"
	if note := "# " + human.Plural(omitted, "perfdata item", "perfdata items") + " not shown\n"; omitted > 0 && len(s)+len(note)+len(end) <= o.limit() {
		s += note
	}
	if help := "# HELP " + stateMetric + " State of the check.\n"; len(help)+len(s)+len(end) <= o.limit() {
		s = help + s
	}
	return s + end
}

// perfFamilies groups the perfdata items into metric families by name;
// byPos maps an item's index to its family (nil: a duplicate series).
func (o output) perfFamilies(r Result, plugin string) ([]*family, map[int]*family) {
	var families []*family
	byName := map[string]*family{}
	byPos := map[int]*family{}
	seen := map[string]bool{}
	shown := uniqueLabels(r.Perf, o.z.line)
	base := metricPrefix + metricName(strings.TrimPrefix(o.plugin.Name, "check_")) + "_"
	for i, p := range r.Perf {
		quantity, uom := metricOf(p)
		if quantity == "" {
			quantity = o.z.Sanitize(p.Label)
		}
		conv := convertUnit(uom)
		name := withSuffix(noAbbreviations(base+metricName(quantity)), conv.suffix)
		if name == stateMetric {
			name += "_value"
		}
		label := shown[i]
		labels := "{" + plugin + `,label="` + escapeLabel(label) + `"}`
		if seen[name+labels] {
			continue // the same label twice: one series only
		}
		seen[name+labels] = true
		f := byName[name]
		if f == nil {
			help := "Perfdata of " + o.plugin.Name
			if conv.unit != "" {
				help += ", in " + conv.unit
			}
			f = &family{name: name, help: help + ".", typ: conv.typ}
			byName[name] = f
			families = append(families, f)
		}
		v := p.Value * conv.factor
		if p.Unknown {
			v = math.NaN()
		}
		f.samples = append(f.samples, sample{labels: labels, value: v, pos: i})
		byPos[i] = f
	}
	return families, byPos
}

// metricUnits are the units a Perf.Metric may end in, for a value whose
// perfdata has no unit: check_cert_expiry's days left stay unitless for
// the Nagios graphs that know them so, and are seconds as a metric.
var metricUnits = map[string]string{"days": "d", "hours": "h", "seconds": "s",
	"milliseconds": "ms", "bytes": "B", "percent": "%"}

// metricOf is the quantity and the unit of p's metric family: its Metric
// (less a unit it ends in, which then is the unit of a unitless value)
// and UOM. An empty quantity: the family is named from the label.
func metricOf(p Perf) (quantity, uom string) {
	if p.Metric == "" || p.UOM != "" {
		return p.Metric, p.UOM
	}
	i := strings.LastIndexByte(p.Metric, '_')
	if u, ok := metricUnits[p.Metric[i+1:]]; ok && i > 0 {
		return p.Metric[:i], u
	}
	return p.Metric, ""
}

// conversion takes a Nagios unit of measurement to Prometheus' base unit.
type conversion struct {
	factor float64
	suffix string // of the metric name
	unit   string // in words, for HELP
	typ    string
}

// convertUnit knows the units of the plugin guidelines (s, ms, us, %, B,
// KB, MB, GB, TB, c), those Icinga 2 adds (ns, KiB ... PiB, PB) and h and
// d for hours and days; an unknown unit leaves the value as it is.
func convertUnit(uom string) conversion {
	seconds := func(f float64) conversion { return conversion{f, "_seconds", "seconds", "gauge"} }
	bytes := func(f float64) conversion { return conversion{f, "_bytes", "bytes", "gauge"} }
	switch uom {
	case "s":
		return seconds(1)
	case "ms":
		return seconds(1e-3)
	case "us":
		return seconds(1e-6)
	case "ns":
		return seconds(1e-9)
	case "h":
		return seconds(3600)
	case "d": // days, as check_cert_expiry's
		return seconds(86400)
	case "%":
		return conversion{0.01, "_ratio", "ratio (1 is 100%)", "gauge"}
	case "B":
		return bytes(1)
	case "KB", "kB":
		return bytes(1e3)
	case "MB":
		return bytes(1e6)
	case "GB":
		return bytes(1e9)
	case "TB":
		return bytes(1e12)
	case "PB":
		return bytes(1e15)
	case "KiB":
		return bytes(1 << 10)
	case "MiB":
		return bytes(1 << 20)
	case "GiB":
		return bytes(1 << 30)
	case "TiB":
		return bytes(1 << 40)
	case "PiB":
		return bytes(1 << 50)
	case "c":
		return conversion{1, "_total", "", "counter"}
	case "":
		return conversion{1, "", "", "gauge"}
	}
	return conversion{1, "", "units of " + strconv.Quote(uom), "gauge"}
}

// withSuffix appends the unit's suffix unless the name has it; a gauge
// whose name ends as a counter's or a histogram's series would be read as
// one, so it gets "_value".
func withSuffix(name, suffix string) string {
	if suffix != "" && !strings.HasSuffix(name, suffix) {
		name += suffix
	}
	if suffix == "_total" {
		return name
	}
	for _, s := range []string{"_total", "_count", "_sum", "_bucket", "_created", "_info"} {
		if strings.HasSuffix(name, s) {
			return name + "_value"
		}
	}
	return name
}

// metricName makes s a safe part of a metric name: lower case letters,
// digits and single underscores.
func metricName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	name := strings.TrimSuffix(b.String(), "_")
	if name == "" {
		return "value"
	}
	return name
}

// unitWords are the words promtool rejects as parts of a metric name:
// abbreviated units, and units that are not base units. The unit belongs
// at the end, spelled as the base unit ("_seconds").
var unitWords = map[string]bool{"s": true, "ms": true, "us": true, "ns": true, "sec": true, "b": true,
	"kb": true, "mb": true, "gb": true, "tb": true, "pb": true, "m": true, "h": true, "d": true,
	"milliseconds": true, "microseconds": true, "nanoseconds": true, "minutes": true, "hours": true,
	"days": true, "weeks": true, "bits": true, "kilobytes": true, "megabytes": true, "gigabytes": true,
	"terabytes": true, "petabytes": true, "percent": true, "kelvins": true, "fahrenheit": true,
	"rankine": true, "inches": true, "yards": true, "miles": true, "calories": true, "pounds": true, "ounces": true}

// noAbbreviations joins each part of name that reads as a unit to the
// part before it: "procs_d" (processes in state D) becomes "procsd", not
// a duration in days, and a label "days" with unit d gives
// "..._sampledays_seconds".
func noAbbreviations(name string) string {
	parts := strings.Split(name, "_")
	out := parts[:1]
	for _, p := range parts[1:] {
		if unitWords[p] {
			out[len(out)-1] += p
		} else {
			out = append(out, p)
		}
	}
	return strings.Join(out, "_")
}

// escapeLabel escapes a label value for the text format.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatMetric(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
