package plugin

import (
	"sort"
)

// Finding is one judged item: a certificate, a device, a load window.
// Text is one line naming the item and what is wrong with it.
type Finding struct {
	State State
	Text  string
}

// Result is what a check returns: its findings, an optional summary for
// the first line, perfdata, and notes (extra long-output lines, usually
// only with -v). A Result is a value; rendering it has no side effects.
type Result struct {
	Summary  string
	Findings []Finding
	Perf     []Perf
	Notes    []string
}

// Add appends a finding.
func (r *Result) Add(s State, text string) {
	r.Findings = append(r.Findings, Finding{State: s, Text: text})
}

// addOwn adds a finding of the runtime's own (a state file it could not
// use). A summary the check wrote knew nothing of it: when the finding is
// now the worst, the summary goes, so the first line names it.
func (r *Result) addOwn(s State, text string) {
	if r.Summary != "" && Worse(s, r.State()) {
		r.Summary = ""
	}
	r.Add(s, text)
}

// AddPerf appends perfdata items.
func (r *Result) AddPerf(p ...Perf) { r.Perf = append(r.Perf, p...) }

// Note appends a long-output line.
func (r *Result) Note(line string) { r.Notes = append(r.Notes, line) }

// State is the worst state among the findings: OK < UNKNOWN < WARNING <
// CRITICAL, so one expired certificate outranks one unreachable host.
func (r Result) State() State {
	w := OK
	for _, f := range r.Findings {
		if Worse(f.State, w) {
			w = f.State
		}
	}
	return w
}

// Sorted returns the findings worst first, keeping the check's order
// among findings of the same state.
func (r Result) Sorted() []Finding {
	out := append([]Finding(nil), r.Findings...)
	sort.SliceStable(out, func(i, j int) bool { return Worse(out[i].State, out[j].State) })
	return out
}

// Problems returns the texts of the non-OK findings, worst first: the
// usual summary of a check with many items.
func (r Result) Problems() []string {
	var out []string
	for _, f := range r.Sorted() {
		if f.State != OK {
			out = append(out, f.Text)
		}
	}
	return out
}
