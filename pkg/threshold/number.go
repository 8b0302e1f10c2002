package threshold

import (
	"fmt"
	"math"
	"strconv"
)

// ParseNumber parses s under the one number grammar shared by ranges,
// triplets, durations and every numeric option: an optional sign, digits
// with an optional fraction (".5" and "5." included), an optional
// exponent. Nothing else, not even surrounding spaces: strconv.ParseFloat
// alone also takes "inf", "nan", hex floats ("0x1p4") and underscores
// ("1_000"), and a "%" or a stray space in a threshold is far more likely
// a mistake than a wish. A number beyond float64's range is an error
// rather than ±Inf. The error quotes s and names no option: the caller
// knows which option it parses.
func ParseNumber(s string) (float64, error) {
	if !isNumber(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // the syntax was checked: only ErrRange is left
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return f, nil
}

// Plain decimal notation is used for magnitudes in [plainMin, plainMax);
// outside it numbers take exponent form ("1e+21", "5e-10"). Perfdata
// wants plain decimals (the guidelines' class is [-0-9.]), and every
// value a plugin measures lies well inside: nanoseconds in seconds at the
// small end, 1e21 (a zettabyte) at the large end, where JavaScript's
// number printing switches too. Beyond, a plain string would run to
// hundreds of digits ("1e300") and eat the output budget.
const (
	plainMin = 1e-9
	plainMax = 1e21
)

// FormatNumber prints a measured value the way perfdata wants it: plain
// decimal, "." as the separator whatever the locale, no trailing zeros,
// rounded to 15 significant digits and to 9 decimals. The rounding drops
// the noise of float arithmetic (0.1+0.2 prints "0.3", a difference of
// 5.6e-17 prints "0"), while every number written with up to 15
// significant digits and 9 decimals, as people and the kernel write them,
// prints back exactly (0.0000001 prints "0.0000001"). Range bounds are
// printed exactly instead (see formatBound). Inf and NaN print "" (the
// caller writes "U").
func FormatNumber(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return ""
	}
	return formatExact(round(v))
}

// round rounds v once (rounding twice could drift by more than half a
// unit) to 15 significant digits or 9 decimals, whichever is coarser.
func round(v float64) float64 {
	a := math.Abs(v)
	if a >= plainMax || a == 0 {
		return v
	}
	text := strconv.FormatFloat(v, 'g', 15, 64)
	if a < 1e15 {
		// digits before the point: 15 significant digits leave the rest
		decimals := min(9, max(0, 14-int(math.Floor(math.Log10(a)))))
		text = strconv.FormatFloat(v, 'f', decimals, 64)
	}
	r, _ := strconv.ParseFloat(text, 64)
	return r
}

// formatBound prints a range bound so that it parses back to the same
// float64: a threshold shown in perfdata or a message must be the one
// that is applied.
func formatBound(v float64) string { return formatExact(v) }

// formatExact prints the shortest decimal that parses back to v: plain
// inside [plainMin, plainMax), exponent form outside.
func formatExact(v float64) string {
	switch a := math.Abs(v); {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return ""
	case v == 0:
		return "0" // and not "-0"
	case a >= plainMin && a < plainMax:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return strconv.FormatFloat(v, 'e', -1, 64)
	}
}

// Number is a plain number given as an option value (days, KiB, a
// fraction), read by the one strict grammar of ParseNumber: go-flags'
// own float parsing takes "1_000", "0x1p4" and "inf".
type Number float64

// UnmarshalFlag implements flags.Unmarshaler.
func (n *Number) UnmarshalFlag(s string) error {
	v, err := ParseNumber(s)
	if err != nil {
		return err
	}
	*n = Number(v)
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (n Number) MarshalFlag() (string, error) { return formatExact(float64(n)), nil }
