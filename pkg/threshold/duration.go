package threshold

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// Duration is a span given on the command line: "90" (seconds), "30s",
// "5m", "1h30m", "2d". time.ParseDuration alone knows no days and no bare
// numbers, and sysadmins write both.
type Duration time.Duration

// ParseDuration parses s; a bare number is seconds and may be fractional.
// The number before "d" and a bare number follow ParseNumber; the rest is
// time.ParseDuration's grammar. No spaces, no negative spans, nothing
// beyond time.Duration's 292 years.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("invalid duration %q: empty", s)
	}
	if isNumber(s) {
		return seconds(s, s, float64(time.Second))
	}
	var days time.Duration
	t := s
	if i := strings.IndexByte(t, 'd'); i > 0 {
		if !isNumber(t[:i]) {
			return 0, fmt.Errorf("invalid duration %q: use e.g. 90s, 5m, 2h, 3d", s)
		}
		var err error
		if days, err = seconds(s, t[:i], float64(24*time.Hour)); err != nil {
			return 0, err
		}
		t = t[i+1:]
		if t == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q: use e.g. 90s, 5m, 2h, 3d", s)
	}
	if days > math.MaxInt64-d {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return days + d, nil
}

// seconds converts the number n (part of s) times unit nanoseconds,
// refusing what is negative or does not fit a time.Duration: a float
// conversion beyond int64 is not an error in Go but an arbitrary value.
func seconds(s, n string, unit float64) (time.Duration, error) {
	f, err := ParseNumber(n)
	switch {
	case err != nil:
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	case f < 0:
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	case f*unit >= math.MaxInt64:
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return time.Duration(f * unit), nil
}

// UnmarshalFlag implements flags.Unmarshaler.
func (d *Duration) UnmarshalFlag(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (d Duration) MarshalFlag() (string, error) { return human.Duration(time.Duration(d)), nil }
