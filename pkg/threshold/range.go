// Package threshold holds the option types for Nagios thresholds: the
// standard range syntax, check_load's triplets and durations. Each type
// parses itself for go-flags and rejects bad text with an error that names
// the text, so an invalid option is an UNKNOWN with one clear line.
package threshold

import (
	"fmt"
	"math"
	"strings"

	"github.com/olorin/nagiosplugin"
)

// isNumber reports whether s is what the guidelines allow for a range
// bound: a decimal number, optionally signed, optionally with an exponent.
// strconv.ParseFloat alone would also take "NaN", "Inf", hex floats and
// underscores. Hand-written because a package-level regexp is compiled at
// every plugin start.
func isNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	mantissa, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa, exp = s[:i], s[i+1:]
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if exp == "" || !allDigits(exp) {
			return false
		}
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	return (whole != "" || frac != "") && allDigits(whole) && allDigits(frac)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Range is a threshold in the standard syntax: "10", "10:", "~:10",
// "10:20", "@10:20". It alerts when a value lies outside [start,end]
// (inside with "@"), bounds inclusive, as lib/utils_base.c check_range.
//
// The evaluation is nagiosplugin.Range's; the parsing is ours because
// nagiosplugin.ParseRange panics on "", accepts "@" and "nan:" and rejects
// ":5.75" and the "%" suffix that monitoring-plugins' strtod tolerates.
type Range struct {
	r    *nagiosplugin.Range
	text string // normalised, for perfdata and messages
}

// ParseRange parses s, returning an error that quotes s when it is invalid.
func ParseRange(s string) (Range, error) {
	text := strings.TrimSpace(s)
	body := text
	inside := strings.HasPrefix(body, "@")
	if inside {
		body = body[1:]
	}
	if body == "" {
		return Range{}, fmt.Errorf("invalid range %q: empty", s)
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "0", body
	}
	if start == "" {
		start = "0"
	}
	end = strings.TrimRight(end, "%")
	if start != "~" && !isNumber(start) {
		return Range{}, fmt.Errorf("invalid range %q: start %q is not a number", s, start)
	}
	if end != "" && !isNumber(end) {
		return Range{}, fmt.Errorf("invalid range %q: end %q is not a number", s, end)
	}
	norm := start + ":" + end
	r, err := nagiosplugin.ParseRange(norm)
	if err != nil {
		return Range{}, fmt.Errorf("invalid range %q: start is greater than end", s)
	}
	r.AlertOnInside = inside
	return Range{r: r, text: render(r)}, nil
}

// MustParseRange is for ranges written in the source: defaults and tests.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Above returns the range that alerts when a value is greater than v,
// which is what a plain number means in check_load's -w/-c.
func Above(v float64) Range {
	return MustParseRange(formatBound(v))
}

func render(r *nagiosplugin.Range) string {
	var b strings.Builder
	if r.AlertOnInside {
		b.WriteByte('@')
	}
	switch {
	case math.IsInf(r.Start, -1):
		b.WriteString("~:")
	case r.Start != 0:
		b.WriteString(formatBound(r.Start) + ":")
	}
	if !math.IsInf(r.End, 1) {
		b.WriteString(formatBound(r.End))
	} else if r.Start == 0 && !math.IsInf(r.Start, -1) {
		b.WriteString("0:")
	}
	return b.String()
}

// IsSet reports whether the range was given (the zero Range never alerts).
func (r Range) IsSet() bool { return r.r != nil }

// Alerts reports whether v lies in the alerting part of the range.
func (r Range) Alerts(v float64) bool {
	if r.r == nil || math.IsNaN(v) {
		return false
	}
	return r.r.Check(v)
}

// String returns the range in normalised standard syntax, "" when unset.
func (r Range) String() string { return r.text }

// Start and End expose the bounds, for messages such as "above 5".
func (r Range) Start() float64 {
	if r.r == nil {
		return math.Inf(-1)
	}
	return r.r.Start
}

func (r Range) End() float64 {
	if r.r == nil {
		return math.Inf(1)
	}
	return r.r.End
}

// Inverted reports whether the range alerts inside ("@").
func (r Range) Inverted() bool { return r.r != nil && r.r.AlertOnInside }

// UnmarshalFlag implements flags.Unmarshaler.
func (r *Range) UnmarshalFlag(s string) error {
	parsed, err := ParseRange(s)
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

// MarshalFlag implements flags.Marshaler, for help defaults and man pages.
func (r Range) MarshalFlag() (string, error) { return r.text, nil }

// IsValidValue implements flags.ValueValidator. Without it go-flags takes
// "-10:10" for an option and refuses "-c -10:10".
func (r *Range) IsValidValue(s string) error {
	_, err := ParseRange(s)
	return err
}

func formatBound(v float64) string { return FormatNumber(v) }
