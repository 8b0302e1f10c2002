package plugin

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

func TestRenderGolden(t *testing.T) {
	var r Result
	r.Summary = "2 of 3 certificates need attention"
	r.Add(OK, "a.pem: 80 days left")
	r.Add(WARNING, "b.pem: 20 days left")
	r.Add(CRITICAL, "c.pem: expired 2 days ago | oops")
	r.AddPerf(NewPerf("a.pem", 80, "").WithThresholds(threshold.MustParseRange("28:"), threshold.MustParseRange("14:")))
	r.AddPerf(NewPerf("b c", 20, ""))
	r.Note("checked 3 files")
	want := "CERT CRITICAL - 2 of 3 certificates need attention | a.pem=80;28:;14: 'b c'=20\n" +
		"[CRITICAL] c.pem: expired 2 days ago   oops\n" +
		"[WARNING] b.pem: 20 days left\n" +
		"[OK] a.pem: 80 days left\n" +
		"checked 3 files\n"
	if got := Render("CERT", r, 0); got != want {
		t.Errorf("Render:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderDefaultSummary(t *testing.T) {
	var r Result
	r.Add(OK, "sda fine")
	r.Add(CRITICAL, "sdb offline")
	r.Add(WARNING, "md0 resyncing")
	got := strings.SplitN(Render("BLOCKDEV", r, 0), "\n", 2)[0]
	// Several problems: the count per state, then the first of them.
	if got != "BLOCKDEV CRITICAL - 1 CRITICAL, 1 WARNING: sdb offline / md0 resyncing" {
		t.Errorf("first line %q", got)
	}
	var one Result
	one.Add(OK, "load average 0.1")
	if got := Render("LOAD", one, 0); got != "LOAD OK - load average 0.1\n" {
		t.Errorf("single finding rendered %q", got)
	}
	var none Result
	if got := Render("X", none, 0); got != "X OK - nothing to check\n" {
		t.Errorf("empty result rendered %q", got)
	}
}

var notShownLine = regexp.MustCompile(`^\((\d+ more lines?( and \d+ perfdata items?)?|\d+ perfdata items?) not shown\)$`)

func TestRenderBound(t *testing.T) {
	var r Result
	r.Summary = strings.Repeat("s", 1000)
	for i := 0; i < 200; i++ {
		r.Add(WARNING, "item "+strings.Repeat("x", 40)+itoa(i))
		r.AddPerf(NewPerf("perf"+itoa(i), float64(i), "s"))
	}
	for _, max := range []int{200, 1024, 4096} {
		out := Render("SVC", r, max)
		if len(out) > max {
			t.Errorf("max %d: output is %d bytes", max, len(out))
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		first := lines[0]
		if !strings.HasPrefix(first, "SVC WARNING - sss") || len(strings.SplitN(first, " | ", 2)[0]) > summaryMax+len("SVC WARNING - ") {
			t.Errorf("max %d: first line %.80q...", max, first)
		}
		if _, perf, ok := strings.Cut(first, " | "); ok {
			for _, item := range strings.Split(perf, " ") {
				if !strings.HasPrefix(item, "perf") || !strings.HasSuffix(item, "s") {
					t.Errorf("max %d: perfdata item cut: %q", max, item)
				}
			}
		}
		if len(lines) > 1 && !notShownLine.MatchString(lines[len(lines)-1]) {
			t.Errorf("max %d: last line %q does not say lines were dropped", max, lines[len(lines)-1])
		}
	}
}

// FuzzRender: whatever the texts and labels, the output parses as plugin
// output within max bytes: one status line, perfdata items that split on
// single spaces and each look like label=value, no "|" anywhere but the
// separator, and a notice iff something was left out.
func FuzzRender(f *testing.F) {
	f.Add("summary", "item | x", "label", 1.5, "s", 4096)
	f.Add("a\nb", "c\rd", "b c'=", -3.0, "%", 100)
	f.Fuzz(func(t *testing.T, summary, text, label string, value float64, uom string, max int) {
		if max < 100 || max > 1<<16 {
			max = 4096
		}
		if len(uom) > 3 || strings.Trim(uom, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%") != "" {
			uom = "" // units are constants in the checks, never user input
		}
		var r Result
		r.Summary = summary
		r.Add(WARNING, text)
		r.Add(OK, text+"2")
		r.AddPerf(NewPerf(label, value, uom), NewPerf("n", 1, ""))
		out := Render("SVC", r, max)
		if len(out) > max || !strings.HasSuffix(out, "\n") {
			t.Fatalf("output of %d bytes for max %d, or no final newline", len(out), max)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "SVC WARNING - ") {
			t.Fatalf("bad status line %q", lines[0])
		}
		for _, l := range lines[1:] {
			if strings.Contains(l, "|") {
				t.Fatalf("long output line has a pipe: %q", l)
			}
		}
		if strings.Count(lines[0], "|") > 1 {
			t.Fatalf("status line has more than one pipe: %q", lines[0])
		}
		_, perf, ok := strings.Cut(lines[0], " | ")
		var items []string
		if ok {
			items = splitPerf(perf)
		}
		for _, item := range items {
			if !perfItem(item) {
				t.Fatalf("perfdata item %q of %q does not parse", item, perf)
			}
		}
		// Never a silent cut: the notice is there iff a line or an item is not.
		long := lines[1:]
		notice := len(long) > 0 && notShownLine.MatchString(long[len(long)-1])
		if notice {
			long = long[:len(long)-1]
		}
		if dropped := len(long) < 2 || len(items) < 2; dropped != notice {
			t.Fatalf("%d lines and %d perfdata items kept, notice %v:\n%s", len(long), len(items), notice, out)
		}
	})
}

// splitPerf splits on spaces outside quotes, as Nagios' perfdata parsers do.
func splitPerf(s string) []string {
	var items []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			items = append(items, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(items, cur.String())
}

func perfItem(item string) bool {
	label := item
	rest := ""
	if strings.HasPrefix(item, "'") {
		i := 1
		for i < len(item) {
			if item[i] == '\'' {
				if i+1 < len(item) && item[i+1] == '\'' {
					i += 2
					continue
				}
				break
			}
			i++
		}
		if i >= len(item) || i+1 >= len(item) || item[i+1] != '=' {
			return false
		}
		label, rest = item[:i+1], item[i+2:]
	} else {
		var ok bool
		label, rest, ok = strings.Cut(item, "=")
		if !ok || strings.ContainsAny(label, " '=") {
			return false
		}
	}
	if label == "" || rest == "" {
		return false
	}
	value := strings.SplitN(rest, ";", 2)[0]
	if value == "U" {
		return true
	}
	n := strings.TrimRight(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
	_, err := threshold.ParseRange(strings.TrimPrefix(n, "-"))
	return n != "" && err == nil
}
