package httpstatus

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusSet is a list of status codes, classes and ranges: "200,204",
// "2xx", "200-299", and check_http's "HTTP/1.1 200" spelling. Repeating
// the option adds to the set.
type StatusSet struct {
	spans []span
	text  []string
}

type span struct{ lo, hi int }

// ParseStatusSet parses a comma-separated list.
func ParseStatusSet(s string) (StatusSet, error) {
	var out StatusSet
	return out, out.add(s)
}

func (ss *StatusSet) add(s string) error {
	for _, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		sp, err := parseSpan(tok)
		if err != nil {
			return fmt.Errorf("invalid status %q in %q: use codes (200), classes (2xx) or ranges (200-299)", tok, s)
		}
		ss.spans = append(ss.spans, sp)
		ss.text = append(ss.text, tok)
	}
	if len(ss.spans) == 0 {
		return fmt.Errorf("invalid status list %q: empty", s)
	}
	return nil
}

func parseSpan(tok string) (span, error) {
	// check_http's "HTTP/1.1 200": the code is the second word.
	if f := strings.Fields(tok); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		tok = f[1]
	}
	lower := strings.ToLower(tok)
	if len(lower) == 3 && strings.HasSuffix(lower, "xx") && lower[0] >= '1' && lower[0] <= '5' {
		c := int(lower[0]-'0') * 100
		return span{c, c + 99}, nil
	}
	lo, hi, isRange := strings.Cut(tok, "-")
	a, err := code(lo)
	if err != nil {
		return span{}, err
	}
	if !isRange {
		return span{a, a}, nil
	}
	b, err := code(hi)
	if err != nil || b < a {
		return span{}, fmt.Errorf("bad range")
	}
	return span{a, b}, nil
}

func code(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return 0, fmt.Errorf("bad code")
	}
	return n, nil
}

// IsSet reports whether any code was given.
func (ss StatusSet) IsSet() bool { return len(ss.spans) > 0 }

// Contains reports whether code is in the set.
func (ss StatusSet) Contains(code int) bool {
	for _, s := range ss.spans {
		if code >= s.lo && code <= s.hi {
			return true
		}
	}
	return false
}

func (ss StatusSet) String() string { return strings.Join(ss.text, ",") }

// UnmarshalFlag implements flags.Unmarshaler; repeated options add up.
func (ss *StatusSet) UnmarshalFlag(s string) error { return ss.add(s) }

// MarshalFlag implements flags.Marshaler.
func (ss StatusSet) MarshalFlag() (string, error) { return ss.String(), nil }

// Size is a byte count: "4MiB", "512k", "1048576".
type Size int64

// UnmarshalFlag implements flags.Unmarshaler.
func (z *Size) UnmarshalFlag(s string) error {
	t := strings.TrimSpace(s)
	digits := strings.TrimRight(t, "kKmMgGiIbB ")
	unit := strings.ToLower(strings.TrimSpace(t[len(digits):]))
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || !validUnit(unit) {
		return fmt.Errorf("invalid size %q: use bytes or e.g. 512KiB, 4MiB", s)
	}
	switch unit[:min(1, len(unit))] {
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	}
	if n <= 0 || n > 1<<30 {
		return fmt.Errorf("invalid size %q: must be between 1 byte and 1GiB", s)
	}
	*z = Size(n)
	return nil
}

func validUnit(u string) bool {
	switch u {
	case "", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib":
		return true
	}
	return false
}

// MarshalFlag implements flags.Marshaler.
func (z Size) MarshalFlag() (string, error) { return z.String(), nil }

func (z Size) String() string {
	switch {
	case z >= 1<<20 && z%(1<<20) == 0:
		return strconv.FormatInt(int64(z>>20), 10) + "MiB"
	case z >= 1<<10 && z%(1<<10) == 0:
		return strconv.FormatInt(int64(z>>10), 10) + "KiB"
	}
	return strconv.FormatInt(int64(z), 10) + "B"
}

// CertDays is -C WARN[,CRIT] in days; CRIT defaults to 0 as check_http.
type CertDays struct {
	Warn, Crit float64
	Set        bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (c *CertDays) UnmarshalFlag(s string) error {
	w, cr, hasCrit := strings.Cut(s, ",")
	wf, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
	if err != nil || wf < 0 {
		return fmt.Errorf("invalid certificate days %q: use WARN[,CRIT], e.g. 30,14", s)
	}
	out := CertDays{Warn: wf, Set: true}
	if hasCrit {
		cf, err := strconv.ParseFloat(strings.TrimSpace(cr), 64)
		if err != nil || cf < 0 || cf > wf {
			return fmt.Errorf("invalid certificate days %q: CRIT must be a number of days no greater than WARN", s)
		}
		out.Crit = cf
	}
	*c = out
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (c CertDays) MarshalFlag() (string, error) {
	if !c.Set {
		return "", nil
	}
	return strconv.FormatFloat(c.Warn, 'f', -1, 64) + "," + strconv.FormatFloat(c.Crit, 'f', -1, 64), nil
}
