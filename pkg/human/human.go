// Package human holds the wording helpers every check and probe shares, so
// that a duration, a count or a cut string reads the same in every
// plugin's output: Plural, Duration, Truncate and JoinSummary. It knows
// nothing about Nagios and imports only the standard library, so that the
// probes below pkg/plugin can use it too.
package human

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Plural counts n things: "0 processes", "1 process", "2 processes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Duration prints d compactly for people: "250ms", "1.5s", "45s",
// "5m12s", "2h5m", "6d2h". Below a minute it keeps tenths that are there
// (a budget of 1.5s is not "1s"); above, precision drops as the span
// grows, since a pager wants the gist. Every unit is cut, never rounded
// up: a process in D for 4m59.9s is not shown as "5m". The text parses
// back with threshold.ParseDuration (sub-millisecond spans aside).
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		tenths := int64(d / (100 * time.Millisecond))
		s := strconv.FormatInt(tenths/10, 10)
		if tenths%10 != 0 {
			s += "." + strconv.FormatInt(tenths%10, 10)
		}
		return s + "s"
	case d < time.Hour:
		return twoUnits(d, time.Minute, "m", time.Second, "s")
	case d < 24*time.Hour:
		return twoUnits(d, time.Hour, "h", time.Minute, "m")
	default:
		return twoUnits(d, 24*time.Hour, "d", time.Hour, "h")
	}
}

// twoUnits prints d in whole bigs and the whole smalls left over, the
// latter left out when zero: "5m12s", "2h".
func twoUnits(d, big time.Duration, bigName string, small time.Duration, smallName string) string {
	s := strconv.FormatInt(int64(d/big), 10) + bigName
	if rest := (d % big) / small; rest > 0 {
		s += strconv.FormatInt(int64(rest), 10) + smallName
	}
	return s
}

// Truncate shortens s to at most max bytes, ending it with "..." when it
// was cut, and never cuts a UTF-8 sequence in half. Below 4 bytes there
// is no room for text and dots; s is then cut without them.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	dots := "..."
	if max <= len(dots) {
		dots = ""
	}
	return s[:runeCut(s, max-len(dots))] + dots
}

// runeCut returns the largest n <= max, max < len(s), at which s can be
// cut without splitting a UTF-8 sequence: it steps back over at most
// three continuation bytes. Longer runs are invalid UTF-8 and are cut
// anywhere.
func runeCut(s string, max int) int {
	for n := max; n >= 0 && n > max-utf8.UTFMax; n-- {
		if n == 0 || utf8.RuneStart(s[n]) {
			return n
		}
	}
	return max
}

// JoinSummary joins texts with " / " in at most max bytes (when max leaves
// room for one suffix): whole texts while they fit, then " / +N more" for
// the rest, so a first line stays pager-sized. Only a first text that
// alone is too long is shortened, with "...". Not "; ": Nagios 4 turns
// every ";" of plugin output into ":".
func JoinSummary(texts []string, max int) string {
	var b strings.Builder
	for i, t := range texts {
		sep := ""
		if i > 0 {
			sep = " / "
		}
		need := len(sep) + len(t)
		if rest := len(texts) - i - 1; rest > 0 {
			need += len(moreSuffix(rest)) // keep room to say what is left out
		}
		if b.Len()+need <= max {
			b.WriteString(sep + t)
			continue
		}
		if i == 0 {
			room := max
			if len(texts) > 1 {
				room -= len(moreSuffix(len(texts) - 1))
			}
			b.WriteString(Truncate(t, room))
			i++
		}
		if i < len(texts) {
			b.WriteString(moreSuffix(len(texts) - i))
		}
		break
	}
	return b.String()
}

func moreSuffix(n int) string { return " / +" + strconv.Itoa(n) + " more" }
