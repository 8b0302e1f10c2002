package threshold

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a span given on the command line: "90" (seconds), "30s",
// "5m", "1h30m", "2d". time.ParseDuration alone knows no days and no bare
// numbers, and sysadmins write both.
type Duration time.Duration

// ParseDuration parses s; a bare number is seconds and may be fractional.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("invalid duration %q: empty", s)
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil && isNumber(t) {
		if f < 0 {
			return 0, fmt.Errorf("invalid duration %q: negative", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	var days time.Duration
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.ParseFloat(t[:i], 64)
		if err != nil || !isNumber(t[:i]) {
			return 0, fmt.Errorf("invalid duration %q: use e.g. 90s, 5m, 2h, 3d", s)
		}
		days = time.Duration(n * 24 * float64(time.Hour))
		t = t[i+1:]
		if t == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q: use e.g. 90s, 5m, 2h, 3d", s)
	}
	return days + d, nil
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
func (d Duration) MarshalFlag() (string, error) { return FormatDuration(time.Duration(d)), nil }

// FormatDuration prints d compactly for status lines: "45s", "5m12s",
// "6d2h". Precision drops as the span grows; a pager wants the gist.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Hour:
		return twoUnits(d, time.Minute, "m", time.Second, "s")
	case d < 24*time.Hour:
		return twoUnits(d, time.Hour, "h", time.Minute, "m")
	default:
		return twoUnits(d, 24*time.Hour, "d", time.Hour, "h")
	}
}

func twoUnits(d, big time.Duration, bigName string, small time.Duration, smallName string) string {
	n := d / big
	rest := (d % big) / small
	s := strconv.FormatInt(int64(n), 10) + bigName
	if rest > 0 {
		s += strconv.FormatInt(int64(rest), 10) + smallName
	}
	return s
}
