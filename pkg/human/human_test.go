package human

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0 processes"},
		{1, "1 process"},
		{2, "2 processes"},
		{-1, "-1 processes"},
	}
	for _, tt := range tests {
		if got := Plural(tt.n, "process", "processes"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Microsecond, "<1ms"},
		{time.Millisecond, "1ms"},
		{250 * time.Millisecond, "250ms"},
		{999*time.Millisecond + 999*time.Microsecond, "999ms"},
		{time.Second, "1s"},
		{1500 * time.Millisecond, "1.5s"},
		{1549 * time.Millisecond, "1.5s"},
		{10*time.Second + 40*time.Millisecond, "10s"},
		{12500 * time.Millisecond, "12.5s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 999*time.Millisecond, "59.9s"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{5*time.Minute + 12*time.Second + 900*time.Millisecond, "5m12s"},
		{4*time.Minute + 59*time.Second + 900*time.Millisecond, "4m59s"},
		{time.Hour, "1h"},
		{2*time.Hour + 5*time.Minute + 59*time.Second, "2h5m"},
		{23*time.Hour + 59*time.Minute, "23h59m"},
		{day, "1d"},
		{6*day + 2*time.Hour + 5*time.Minute, "6d2h"},
		{400 * day, "400d"},
		{-90 * time.Second, "-1m30s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"héllo", 10, "héllo"},
		{"héllo", 6, "héllo"},
		{"héllo", 5, "h..."}, // "hé" and the dots would take 6 bytes
		{"héllo", 3, "hé"},   // no room for dots: cut bare
		{"héllo", 2, "h"},    // not in the middle of é
		{"héllo", 1, "h"},
		{"héllo", 0, ""},
		{"€€", 5, "..."}, // two bytes before the dots: no whole €
		{"€€", 3, "€"},
		{"€€", 2, ""},
		{"😀", 3, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.s, tt.max); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
}

// TestTruncateEveryCut cuts one-, two-, three- and four-byte runes (and
// invalid UTF-8) at every byte position.
func TestTruncateEveryCut(t *testing.T) {
	for _, s := range []string{"", "plain ascii text", "héllo wörld", "€€€€€", "😀😀😀😀", "a😀b€cé", "\xff\xfe\x80\x80\x80\x80bad"} {
		for max := -1; max <= len(s)+1; max++ {
			got := Truncate(s, max)
			if len(got) > max && !(max < 0 && got == "") {
				t.Errorf("Truncate(%q, %d) = %q: %d bytes", s, max, got, len(got))
			}
			if len(s) <= max {
				if got != s {
					t.Errorf("Truncate(%q, %d) = %q, want it whole", s, max, got)
				}
				continue
			}
			body := got
			if max > 3 {
				if !strings.HasSuffix(got, "...") {
					t.Errorf("Truncate(%q, %d) = %q: no dots", s, max, got)
				}
				body = strings.TrimSuffix(got, "...")
			}
			if !strings.HasPrefix(s, body) {
				t.Errorf("Truncate(%q, %d) = %q: not a prefix", s, max, got)
			}
			if utf8.ValidString(s) && !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q: a rune cut in half", s, max, got)
			}
			if utf8.ValidString(s) && len(body)+utf8.UTFMax <= max-len("...") {
				t.Errorf("Truncate(%q, %d) = %q: cut more than one rune short", s, max, got)
			}
		}
	}
}

func TestJoinSummary(t *testing.T) {
	tests := []struct {
		texts []string
		max   int
		want  string
	}{
		{nil, 50, ""},
		{[]string{"a"}, 50, "a"},
		{[]string{"aa", "bb", "cc"}, 50, "aa / bb / cc"},
		{[]string{"aaaa", "bbbb", "cccccccc"}, 22, "aaaa / bbbb / cccccccc"},
		{[]string{"aaaa", "bbbb", "cccccccc"}, 21, "aaaa / bbbb / +1 more"},
		{[]string{"aaaa", "bbbb", "cccccccc"}, 20, "aaaa / +2 more"},
		{[]string{strings.Repeat("x", 40), "b"}, 20, "xxxxxxx... / +1 more"},
		{[]string{"é€😀 long first", "b"}, 14, "... / +1 more"},
	}
	for _, tt := range tests {
		if got := JoinSummary(tt.texts, tt.max); got != tt.want {
			t.Errorf("JoinSummary(%q, %d) = %q, want %q", tt.texts, tt.max, got, tt.want)
		}
	}
}
