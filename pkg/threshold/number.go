package threshold

import (
	"math"
	"strconv"
	"strings"
)

// FormatNumber prints v the way perfdata wants it: plain decimal (never
// exponent form, which the IETF draft advises against), at most six
// decimals, no trailing zeros, "." as the separator whatever the locale.
func FormatNumber(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return ""
	}
	s := strconv.FormatFloat(v, 'f', 6, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
