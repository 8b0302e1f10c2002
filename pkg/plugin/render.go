package plugin

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// DefaultMaxOutput bounds the whole output. NRPE v3/v4 passes 64 KiB and
// Nagios 8 KiB; 4 KiB keeps every hop intact with room to spare. Use
// --max-output 1023 behind NRPE v2 packets.
const DefaultMaxOutput = 4096

// summaryMax keeps the first line's text pager-sized.
const summaryMax = 240

// Render renders a result as plugin output, with URL passwords masked
// (see Sanitizer.Render to mask registered secrets too).
func Render(service string, r Result, max int) string {
	return (*Sanitizer)(nil).Render(service, r, max)
}

// RenderLine renders a bare status line, with URL passwords masked.
func RenderLine(service string, s State, text string) string {
	return (*Sanitizer)(nil).RenderLine(service, s, text)
}

// Render renders a result as plugin output, every text sanitised. The
// layout is what every engine agrees on: the status line
// "SERVICE STATE - summary | perfdata", then the long output, one line per
// finding worst first, then the notes; the whole is at most max bytes
// (DefaultMaxOutput when max <= 0), newlines included.
//
// What is kept when not everything fits is chosen by priority, never by
// position: the status line, the non-OK finding lines, the perfdata of
// non-OK items (Perf.Judged), the OK lines and notes, the OK perfdata.
// What is kept is the longest prefix of that order that fits, each part
// whole, never a later part in place of an earlier one; the last line then
// says how many lines and perfdata items were left out. Kept perfdata is
// written in the check's order. Only the summary is ever shortened, with
// "...", and only to make room for that last line.
func (z *Sanitizer) Render(service string, r Result, max int) string {
	if max <= 0 {
		max = DefaultMaxOutput
	}
	summary := z.line(r.Summary)
	if summary == "" {
		summary = z.line(defaultSummary(r))
	}
	prefix := service + " " + StateName(r.State()) + " - "
	shown := human.Truncate(summary, summaryMax)
	return fit(prefix, shown, z.parts(r, shown), max)
}

// RenderLine renders a bare status line, sanitised: usage errors and the
// watchdog's timeout.
func (z *Sanitizer) RenderLine(service string, s State, text string) string {
	return service + " " + StateName(s) + " - " + human.Truncate(z.line(text), summaryMax) + "\n"
}

// line makes text safe for the output. Secrets are masked before the
// line is shortened, so that no prefix of one survives a cut.
func (z *Sanitizer) line(text string) string { return z.Sanitize(oneLine(text)) }

// part is one droppable piece of output: a long-output line, or a
// perfdata item (" " + item) on the status line.
type part struct {
	text  string
	perf  bool
	pos   int   // a perfdata item's place in Result.Perf
	state State // a perfdata item's verdict
}

// parts returns the long-output lines and perfdata items in the order
// they are kept: non-OK lines worst first, non-OK perfdata worst first,
// OK lines, notes, OK perfdata.
func (z *Sanitizer) parts(r Result, summary string) []part {
	var bad, good []part
	// One finding that is the summary already needs no line of its own;
	// one the summary shows cut short keeps its line, whole.
	if len(r.Findings) > 1 || (len(r.Findings) == 1 && z.line(r.Findings[0].Text) != summary) {
		for _, f := range r.Sorted() {
			p := part{text: "[" + StateName(f.State) + "] " + z.line(f.Text)}
			if f.State == OK {
				good = append(good, p)
			} else {
				bad = append(bad, p)
			}
		}
	}
	for _, n := range r.Notes {
		good = append(good, part{text: z.line(n)})
	}
	// Perfdata is chosen worst first but written in the check's order
	// (pos): graphers such as PNP4Nagios map data sources by position.
	var badPerf, goodPerf []part
	labels := uniqueLabels(r.Perf, z.Sanitize)
	for i, p := range r.Perf {
		p.Label = labels[i]
		item := part{text: " " + p.String(), perf: true, pos: i, state: p.Judged()}
		if item.state == OK {
			goodPerf = append(goodPerf, item)
		} else {
			badPerf = append(badPerf, item)
		}
	}
	sort.SliceStable(badPerf, func(i, j int) bool { return Worse(badPerf[i].state, badPerf[j].state) })
	out := append(bad, badPerf...)
	out = append(out, good...)
	return append(out, goodPerf...)
}

// fit keeps the longest prefix of parts that fits in max bytes with the
// status line (prefix + summary) and, when anything is left out, the line
// saying so. Should the status line leave no room for that line, the
// summary is shortened: a cut is never silent. Only when max is too small
// for "SERVICE STATE - ..." and that line (below the runtime's minimum
// --max-output) does the status line alone win.
func fit(prefix, summary string, parts []part, max int) string {
	head := prefix + summary
	k, ok := longestFit(len(head), parts, max)
	if !ok {
		room := max - 1 - len(notShown(parts)) - 1
		if room < len(prefix)+len("...") {
			return human.Truncate(head, max-1) + "\n"
		}
		head = human.Truncate(head, room)
		k, _ = longestFit(len(head), parts, max)
	}
	var first, long strings.Builder
	first.WriteString(head)
	var perf []part
	for _, p := range parts[:k] {
		if p.perf {
			perf = append(perf, p)
		} else {
			long.WriteString(p.text + "\n")
		}
	}
	sort.Slice(perf, func(i, j int) bool { return perf[i].pos < perf[j].pos })
	for i, p := range perf {
		if i == 0 {
			first.WriteString(" |")
		}
		first.WriteString(p.text)
	}
	out := first.String() + "\n" + long.String()
	if k < len(parts) {
		out += notShown(parts[k:]) + "\n"
	}
	return out
}

// longestFit returns the largest k for which the head, parts[:k] and the
// notice for parts[k:] fit in limit bytes; ok is false when none does.
// The size is not monotonic in k (the notice shrinks, and vanishes at
// k = n), so every k is tried, each in constant time.
func longestFit(head int, parts []part, limit int) (k int, ok bool) {
	perfs := countPerf(parts) // left out when keeping parts[:i]
	lines := len(parts) - perfs
	size := head + 1 // the status line and its newline
	opened := false
	k = -1
	for i := 0; ; i++ {
		total := size
		if i < len(parts) {
			total += len(notice(lines, perfs)) + 1
		}
		if total <= limit {
			k = i
		}
		if i == len(parts) {
			break
		}
		p := parts[i]
		size += len(p.text)
		if !p.perf {
			size++ // its newline
			lines--
			continue
		}
		if !opened {
			size += len(" |") // the first kept item opens the perfdata
			opened = true
		}
		perfs--
	}
	return max(k, 0), k >= 0
}

func countPerf(parts []part) int {
	n := 0
	for _, p := range parts {
		if p.perf {
			n++
		}
	}
	return n
}

// notShown is the last line when parts were left out.
func notShown(dropped []part) string {
	perfs := countPerf(dropped)
	return notice(len(dropped)-perfs, perfs)
}

func notice(lines, perfs int) string {
	var s []string
	if lines > 0 {
		s = append(s, human.Plural(lines, "more line", "more lines"))
	}
	if perfs > 0 {
		s = append(s, human.Plural(perfs, "perfdata item", "perfdata items"))
	}
	return "(" + strings.Join(s, " and ") + " not shown)"
}

// defaultSummary names the worst findings: the one problem, or the count
// per state and the first problems ("2 CRITICAL, 1 WARNING: a / b / +1
// more"), or says that all is well.
func defaultSummary(r Result) string {
	p := r.Problems()
	switch {
	case len(p) == 1:
		return p[0]
	case len(p) > 1:
		head := stateCounts(r) + ": "
		return head + human.JoinSummary(p, summaryMax-len(head))
	}
	switch len(r.Findings) {
	case 0:
		return "nothing to check"
	case 1:
		return r.Findings[0].Text
	}
	return "all " + itoa(len(r.Findings)) + " checked items OK"
}

// stateCounts says how many findings are in each non-OK state, worst
// first: "3 CRITICAL, 1 WARNING".
func stateCounts(r Result) string {
	var counts []string
	for _, s := range []State{CRITICAL, WARNING, UNKNOWN} {
		n := 0
		for _, f := range r.Findings {
			if f.State != OK && severity(f.State) == severity(s) {
				n++
			}
		}
		if n > 0 {
			counts = append(counts, itoa(n)+" "+StateName(s))
		}
	}
	return strings.Join(counts, ", ")
}

// oneLine makes text safe for a plugin line: "|" starts perfdata for every
// engine and is replaced by a space, as monitoring-plugins does; line
// breaks and other control characters become spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '|' || r < 0x20 || r == 0x7f }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '|' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func itoa(n int) string { return strconv.Itoa(n) }
