package plugin

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxOutput bounds the whole output. NRPE v3/v4 passes 64 KiB and
// Nagios 8 KiB; 4 KiB keeps every hop intact with room to spare. Use
// --max-output 1023 behind NRPE v2 packets.
const DefaultMaxOutput = 4096

// summaryMax keeps the first line's text pager-sized.
const summaryMax = 240

// Render renders a result as plugin output: the status line with all
// perfdata on it (the one place every engine agrees on), then one line
// per finding worst first, then the notes. The whole is at most max bytes;
// what does not fit is dropped whole (perfdata items, then lines, from
// the end) and never cut in the middle.
func Render(service string, r Result, max int) string {
	state := r.State()
	summary := r.Summary
	if summary == "" {
		summary = defaultSummary(r)
	}
	head := service + " " + StateName(state) + " - " + truncate(oneLine(summary), summaryMax)
	long := make([]string, 0, len(r.Findings)+len(r.Notes))
	if len(r.Findings) > 1 || (len(r.Findings) == 1 && oneLine(r.Findings[0].Text) != oneLine(summary)) {
		for _, f := range r.Sorted() {
			long = append(long, "["+StateName(f.State)+"] "+oneLine(f.Text))
		}
	}
	for _, n := range r.Notes {
		long = append(long, oneLine(n))
	}
	return bound(head, r.Perf, long, max)
}

// RenderLine renders a bare status line: usage errors and timeouts.
func RenderLine(service string, s State, text string) string {
	return service + " " + StateName(s) + " - " + truncate(oneLine(text), summaryMax) + "\n"
}

func defaultSummary(r Result) string {
	if p := r.Problems(); len(p) > 0 {
		return JoinSummary(p, summaryMax)
	}
	switch len(r.Findings) {
	case 0:
		return "nothing to check"
	case 1:
		return r.Findings[0].Text
	}
	return "all " + itoa(len(r.Findings)) + " checked items OK"
}

func bound(head string, perf []Perf, long []string, max int) string {
	if max <= 0 {
		max = DefaultMaxOutput
	}
	head = truncate(head, max-1)
	var b strings.Builder
	b.WriteString(head)
	budget := max - len(head) - 1 // the final newline
	if len(perf) > 0 && budget > 3 {
		b.WriteString(" |")
		budget -= 2
		for _, p := range perf {
			s := " " + p.String()
			if len(s) > budget {
				break
			}
			b.WriteString(s)
			budget -= len(s)
		}
	}
	b.WriteByte('\n')
	for i, line := range long {
		need := len(line) + 1
		rest := len(long) - i - 1
		if rest > 0 {
			need += len(moreLines(rest)) + 1 // keep room to say what was dropped
		}
		if need > budget {
			if more := moreLines(len(long) - i); len(more)+1 <= budget {
				b.WriteString(more + "\n")
			}
			break
		}
		b.WriteString(line + "\n")
		budget -= len(line) + 1
	}
	return b.String()
}

func moreLines(n int) string { return "(" + itoa(n) + " more lines not shown)" }

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

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func itoa(n int) string { return strconv.Itoa(n) }
