package plugin

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

var update = flag.Bool("update", false, "rewrite the golden files of pkg/plugin")

// pad makes small()'s parts outweigh the notice that replaces them.
var pad = strings.Repeat(".", 40)

// small is a result with every kind of part: its priority order is
// [CRITICAL] b, [WARNING] c, perf b, perf c, perf d (UNKNOWN by State),
// [OK] a, the note, perf a.
func small() Result {
	r := threshold.MustParseRange
	var res Result
	res.Add(OK, "a fine"+pad)
	res.Add(CRITICAL, "b broken"+pad)
	res.Add(WARNING, "c slow"+pad)
	res.AddPerf(
		NewPerf("a"+pad, 1, "").WithThresholds(r("5"), r("10")),
		NewPerf("b"+pad, 20, "").WithThresholds(r("5"), r("10")),
		NewPerf("c"+pad, 7, "").WithThresholds(r("5"), r("10")),
		NewPerf("d"+pad, 3, "").WithState(UNKNOWN),
	)
	res.Note("note 1" + pad)
	return res
}

func TestRenderFit(t *testing.T) {
	head := "SVC CRITICAL - 1 CRITICAL, 1 WARNING: b broken" + pad + " / c slow" + pad
	pa, pb, pc, pd := " a"+pad+"=1;5;10", " b"+pad+"=20;5;10", " c"+pad+"=7;5;10", " d"+pad+"=3"
	crit, warn, ok, note := "[CRITICAL] b broken"+pad+"\n", "[WARNING] c slow"+pad+"\n", "[OK] a fine"+pad+"\n", "note 1"+pad+"\n"
	tests := []struct {
		name string
		max  int // 0: len(want), the tightest fit
		want string
	}{
		{"all fits", DefaultMaxOutput,
			head + " |" + pa + pb + pc + pd + "\n" + crit + warn + ok + note},
		{"OK perfdata goes first, the rest keeps its order", 0,
			head + " |" + pb + pc + pd + "\n" + crit + warn + ok + note + "(1 perfdata item not shown)\n"},
		{"then notes", 0,
			head + " |" + pb + pc + pd + "\n" + crit + warn + ok + "(1 more line and 1 perfdata item not shown)\n"},
		{"then OK lines", 0,
			head + " |" + pb + pc + pd + "\n" + crit + warn + "(2 more lines and 1 perfdata item not shown)\n"},
		{"non-OK perfdata worst first: UNKNOWN by State goes first", 0,
			head + " |" + pb + pc + "\n" + crit + warn + "(2 more lines and 2 perfdata items not shown)\n"},
		{"non-OK lines outrank all perfdata", 0,
			head + "\n" + crit + warn + "(2 more lines and 4 perfdata items not shown)\n"},
		{"worst line last to go", 0,
			head + "\n" + crit + "(3 more lines and 4 perfdata items not shown)\n"},
		{"status line alone", 0,
			head + "\n(4 more lines and 4 perfdata items not shown)\n"},
		{"summary shortened to keep the notice", 80,
			"SVC CRITICAL - 1 CRITICAL, 1 W...\n(4 more lines and 4 perfdata items not shown)\n"},
		{"below any sane max the status line alone wins", 40,
			"SVC CRITICAL - 1 CRITICAL, 1 WARNING...\n"},
	}
	for _, tt := range tests {
		max := tt.max
		if max == 0 {
			max = len(tt.want)
		}
		got := Render("SVC", small(), max)
		if got != tt.want {
			t.Errorf("%s (max %d):\n%s\nwant:\n%s", tt.name, max, got, tt.want)
		}
		if len(got) > max {
			t.Errorf("%s: %d bytes for max %d", tt.name, len(got), max)
		}
		// One byte less must lose something more: the fit is the tightest.
		if tt.max == 0 && Render("SVC", small(), max-1) == got {
			t.Errorf("%s: the same output fits in %d bytes", tt.name, max-1)
		}
	}
}

func TestRenderFitStrictOrder(t *testing.T) {
	// A long OK line that does not fit is not skipped for a short note that
	// would: what is kept is always a prefix of the priority order.
	var r Result
	r.Add(CRITICAL, "down")
	r.Add(OK, "up "+strings.Repeat("x", 100))
	r.Note("n")
	want := "SVC CRITICAL - down\n[CRITICAL] down\n(2 more lines not shown)\n"
	if got := Render("SVC", r, 128); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	r.Notes = nil
	want = "SVC CRITICAL - down\n[CRITICAL] down\n(1 more line not shown)\n"
	if got := Render("SVC", r, 128); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPerfJudged(t *testing.T) {
	r := threshold.MustParseRange
	tests := []struct {
		p    Perf
		want State
	}{
		{NewPerf("x", 1, ""), OK},
		{NewPerf("x", 1, "").WithThresholds(r("5"), r("10")), OK},
		{NewPerf("x", 6, "").WithThresholds(r("5"), r("10")), WARNING},
		{NewPerf("x", 11, "").WithThresholds(r("5"), r("10")), CRITICAL},
		{NewPerf("x", 11, "").WithThresholds(threshold.Range{}, r("10")), CRITICAL},
		{NewPerf("x", 1, "").WithState(UNKNOWN), UNKNOWN},
		{NewPerf("x", 6, "").WithThresholds(r("5"), r("10")).WithState(CRITICAL), CRITICAL},
		{NewPerf("x", 11, "").WithThresholds(r("5"), r("10")).WithState(WARNING), CRITICAL},
		{Perf{Label: "x", Value: 99, Unknown: true, Crit: r("10")}, OK},
	}
	for i, tt := range tests {
		if got := tt.p.Judged(); got != tt.want {
			t.Errorf("%d: %s judged %v, want %v", i, tt.p, got, tt.want)
		}
	}
}

// large is the certificate directory grown to 300 items: 10
// CRITICAL, 5 WARNING and 285 OK, interleaved, each with perfdata under
// its own thresholds, plus notes.
func large() Result {
	warn, crit := threshold.MustParseRange("28:"), threshold.MustParseRange("14:")
	var r Result
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("/etc/ssl/certs/host-%03d.example.org.pem", i)
		days := 40 + i%700
		st := OK
		switch {
		case i%30 == 7:
			days, st = -1-i%9, CRITICAL
		case i%60 == 19:
			days, st = 14+i%10, WARNING
		}
		r.Add(st, fmt.Sprintf("%s: CN=host-%03d.example.org expires in %d days", name, i, days))
		r.AddPerf(NewPerf(name, float64(days), "d").WithThresholds(warn, crit))
	}
	r.Note("checked 300 certificates in /etc/ssl/certs")
	r.Note("skipped 2 files that are not certificates")
	return r
}

// expected is the priority order of large(), built apart from the code
// under test: lines as rendered, perfdata items as rendered, and for
// each perfdata item its place in Result.Perf.
type expectedPart struct {
	text string
	perf bool
	pos  int
}

func priorityOf(r Result) []expectedPart {
	var out []expectedPart
	for _, st := range []State{CRITICAL, WARNING, UNKNOWN} {
		for _, f := range r.Findings {
			if f.State == st {
				out = append(out, expectedPart{text: "[" + StateName(st) + "] " + f.Text})
			}
		}
	}
	perfOf := func(st State) {
		for i, p := range r.Perf {
			s := OK
			if p.Crit.Alerts(p.Value) {
				s = CRITICAL
			} else if p.Warn.Alerts(p.Value) {
				s = WARNING
			}
			if s == st {
				out = append(out, expectedPart{text: p.String(), perf: true, pos: i})
			}
		}
	}
	perfOf(CRITICAL)
	perfOf(WARNING)
	for _, f := range r.Findings {
		if f.State == OK {
			out = append(out, expectedPart{text: "[OK] " + f.Text})
		}
	}
	for _, n := range r.Notes {
		out = append(out, expectedPart{text: n})
	}
	perfOf(OK)
	return out
}

func TestRenderPrioritySweep(t *testing.T) {
	r := large()
	order := priorityOf(r)
	if len(order) != 602 {
		t.Fatalf("priority order has %d parts, want 602", len(order))
	}
	index := map[string]int{}
	for i, p := range order {
		index[fmt.Sprint(p.perf, p.text)] = i
	}
	fullHead := "CERT CRITICAL - " + defaultSummary(r)
	if !strings.HasPrefix(fullHead, "CERT CRITICAL - 10 CRITICAL, 5 WARNING: /etc/ssl/certs/host-007.example.org.pem: ") ||
		!strings.HasSuffix(fullHead, " more") || len(fullHead) > len("CERT CRITICAL - ")+summaryMax {
		t.Fatalf("summary %q does not count and name the worst", fullHead)
	}
	step := 1 // every size up to the default
	if testing.Short() {
		step = 7
	}
	var sizes []int
	for max := 128; max <= 4096; max += step {
		sizes = append(sizes, max)
	}
	for max := 4096 + 61; max <= 1<<16; max += 61 {
		sizes = append(sizes, max)
	}
	sizes = append(sizes, 1<<16)
	for _, max := range sizes {
		if err := checkFit(Render("CERT", r, max), max, fullHead, order, index); err != nil {
			t.Fatalf("max %d: %v", max, err)
		}
	}
}

// checkFit checks one output of large() against the contract: bounded,
// a whole status line first, whole parts, kept parts a prefix of the
// priority order and as many as fit, perfdata in the check's order, and a
// notice with exact counts iff something was dropped.
func checkFit(out string, max int, fullHead string, order []expectedPart, index map[string]int) error {
	if len(out) > max || !strings.HasSuffix(out, "\n") {
		return fmt.Errorf("%d bytes, or no final newline", len(out))
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	head, perf, _ := strings.Cut(lines[0], " | ")
	if head != fullHead && !(strings.HasSuffix(head, "...") && strings.HasPrefix(fullHead, strings.TrimSuffix(head, "..."))) {
		return fmt.Errorf("status line %q is not the summary, whole or shortened", head)
	}
	if !strings.HasPrefix(head, "CERT CRITICAL - ") {
		return fmt.Errorf("status line %q", head)
	}
	kept := map[int]bool{}
	lastPos, lastLine := -1, -1
	if perf != "" {
		for _, item := range strings.Split(perf, " ") {
			i, ok := index[fmt.Sprint(true, item)]
			if !ok {
				return fmt.Errorf("perfdata item %q is cut or unknown", item)
			}
			if order[i].pos < lastPos {
				return fmt.Errorf("perfdata item %q out of the check's order", item)
			}
			lastPos = order[i].pos
			kept[i] = true
		}
	}
	long := lines[1:]
	notice := ""
	if n := len(long); n > 0 && strings.HasSuffix(long[n-1], " not shown)") {
		notice, long = long[n-1], long[:n-1]
	}
	for _, l := range long {
		i, ok := index[fmt.Sprint(false, l)]
		if !ok {
			return fmt.Errorf("line %q is cut or unknown", l)
		}
		if i < lastLine {
			return fmt.Errorf("line %q out of order", l)
		}
		lastLine = i
		kept[i] = true
	}
	k := len(kept)
	for i := 0; i < k; i++ {
		if !kept[i] {
			return fmt.Errorf("kept %d parts but not part %d (%q) of the priority order", k, i, order[i].text)
		}
	}
	var dl, dp int
	for _, p := range order[k:] {
		if p.perf {
			dp++
		} else {
			dl++
		}
	}
	if want := wantNotice(dl, dp); notice != want {
		return fmt.Errorf("last line %q, want %q", notice, want)
	}
	if k == len(order) {
		return nil
	}
	// The next part would not have fitted.
	next := order[k]
	grow := len(next.text) + 1
	if next.perf && perf == "" {
		grow += len(" |")
	}
	if next.perf {
		dp--
	} else {
		dl--
	}
	size := len(out) - len(notice) - 1 + grow
	if n := wantNotice(dl, dp); n != "" {
		size += len(n) + 1
	}
	if size <= max && head == fullHead {
		return fmt.Errorf("part %d (%q) would have fitted", k, next.text)
	}
	return nil
}

func wantNotice(lines, perfs int) string {
	var s []string
	if lines == 1 {
		s = append(s, "1 more line")
	} else if lines > 1 {
		s = append(s, fmt.Sprintf("%d more lines", lines))
	}
	if perfs == 1 {
		s = append(s, "1 perfdata item")
	} else if perfs > 1 {
		s = append(s, fmt.Sprintf("%d perfdata items", perfs))
	}
	if len(s) == 0 {
		return ""
	}
	return "(" + strings.Join(s, " and ") + " not shown)"
}

// TestRenderLargeGolden pins whole outputs of large() at the sizes that
// matter: the floor, NRPE v2, the default and NRPE v3/v4. Run with
// -update to rewrite, then read the diff.
func TestRenderLargeGolden(t *testing.T) {
	var b strings.Builder
	for _, max := range []int{128, 1023, 4096, 65536} {
		fmt.Fprintf(&b, "=== --max-output %d\n%s", max, Render("CERT", large(), max))
	}
	golden := filepath.Join("testdata", "render_large.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("output differs from %s; run go test -run LargeGolden -update and read the diff", golden)
	}
}
