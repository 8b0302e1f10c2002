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
// ":5.75". Bounds follow ParseNumber, so unlike monitoring-plugins' strtod
// we refuse a trailing "%" ("1:12%%" in lib/tests/test_utils.c) and
// surrounding spaces: "-w 5%" on a check that measures seconds is a
// mistake to report, not a suffix to ignore.
type Range struct {
	r    *nagiosplugin.Range
	text string // normalised, for perfdata and messages
}

// ParseRange parses s, returning an error that quotes s when it is invalid.
func ParseRange(s string) (Range, error) {
	body, inside := strings.CutPrefix(s, "@")
	if body == "" {
		return Range{}, fmt.Errorf("invalid range %q: empty", s)
	}
	start, end, hasColon := strings.Cut(body, ":")
	which := "end "
	if !hasColon {
		start, end, which = "", body, ""
	}
	r := &nagiosplugin.Range{Start: 0, End: math.Inf(1), AlertOnInside: inside}
	var err error
	switch start {
	case "":
	case "~":
		r.Start = math.Inf(-1)
	default:
		if r.Start, err = ParseNumber(start); err != nil {
			return Range{}, fmt.Errorf("invalid range %q: start %w", s, err)
		}
	}
	if end != "" {
		if r.End, err = ParseNumber(end); err != nil {
			return Range{}, fmt.Errorf("invalid range %q: %s%w", s, which, err)
		}
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("invalid range %q: start is greater than end", s)
	}
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
// "-10:10" for an option and refuses "-c -10:10". It accepts every value:
// go-flags passes its error on without naming the option, whereas the
// error of UnmarshalFlag comes prefixed with "invalid argument for flag
// -w, --warning". "-w -v" is thus "invalid argument for flag -w ...:
// invalid range "-v"", which names both.
func (r *Range) IsValidValue(string) error { return nil }
