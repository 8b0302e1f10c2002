package threshold

import (
	"math"
	"testing"
)

// The vectors of monitoring-plugins lib/tests/test_utils.c, which the
// guidelines follow (3.x's new parser deviates; we do not).
func TestParseRangeBounds(t *testing.T) {
	tests := []struct {
		in         string
		start, end float64
		inside     bool
		text       string
	}{
		{"6", 0, 6, false, "6"},
		{"-7:23", -7, 23, false, "-7:23"},
		{":5.75", 0, 5.75, false, "5.75"},
		{"~:-95.99", math.Inf(-1), -95.99, false, "~:-95.99"},
		{"12345678901234567890:", 12345678901234567890, math.Inf(1), false, "12345678901234567000:"},
		{"10:", 10, math.Inf(1), false, "10:"},
		{"~:10", math.Inf(-1), 10, false, "~:10"},
		{"10:20", 10, 20, false, "10:20"},
		{"@10:20", 10, 20, true, "@10:20"},
		{"0:", 0, math.Inf(1), false, "0:"},
		{"~:", math.Inf(-1), math.Inf(1), false, "~:"},
		{"+5", 0, 5, false, "5"},
		{"-0:0", 0, 0, false, "0"},
		{".0000001", 0, 1e-7, false, "0.0000001"},
		{"1e-10:", 1e-10, math.Inf(1), false, "1e-10:"},
		{"1e300", 0, 1e300, false, "1e+300"},
		{"0.30000000000000004", 0, noisy, false, "0.30000000000000004"},
		{"1e-400", 0, 0, false, "0"},
		{"1e3", 0, 1000, false, "1000"},
		{"@1:1", 1, 1, true, "@1:1"},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tt.in, err)
			continue
		}
		if r.Start() != tt.start || r.End() != tt.end || r.Inverted() != tt.inside {
			t.Errorf("ParseRange(%q) = [%v,%v] inside=%v, want [%v,%v] inside=%v",
				tt.in, r.Start(), r.End(), r.Inverted(), tt.start, tt.end, tt.inside)
		}
		if r.String() != tt.text {
			t.Errorf("ParseRange(%q).String() = %q, want %q", tt.in, r.String(), tt.text)
		}
		again, err := ParseRange(r.String())
		if err != nil || again.Start() != r.Start() || again.End() != r.End() || again.Inverted() != r.Inverted() {
			t.Errorf("ParseRange(%q) does not survive a round trip through %q", tt.in, r.String())
		}
	}
}

// The strict number grammar (ParseNumber) deviates from test_utils.c on
// one vector: "1:12%%", whose "%" strtod ignores, is refused, as are
// spaces: a stray character in a threshold is a mistake to report.
func TestParseRangeInvalid(t *testing.T) {
	for _, in := range []string{"", " ", "@", "2:1", "abc", "1:abc", "nan:", "NaN", "inf", "1:Inf", "0x10", "1_000", "~", "@~", "5:4:3", "--1", "1:2:",
		"1:12%%", "5%", " 5", "5 ", " 5 ", "5\n", "@ 5", "5 :6", "5: 6", "0x1p4", "1e400", "-1e400:", "+-1", "1e5.5", "１"} {
		if r, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) = %q, want an error", in, r.String())
		}
	}
}

func TestRangeAlerts(t *testing.T) {
	tests := []struct {
		rng   string
		value float64
		alert bool
	}{
		{"12345678901234567890:", 12345678901234567890 / 1.1, true},
		{"12345678901234567890:", 12345678901234567890, false},
		{"12345678901234567890:", 12345678901234567890 * 2, false},
		{"~:0", 0.5, true},
		{"~:0", -10, false},
		{"~:0", 0, false},
		{"@0:657.8210567", 32.88, true},
		{"@0:657.8210567", -2, false},
		{"@0:657.8210567", 657.8210567, true},
		{"@0:657.8210567", 0, true},
		{"@1:1", 0.5, false},
		{"@1:1", 1, true},
		{"@1:1", 5.2, false},
		{"1:1", 0.5, true},
		{"1:1", 1, false},
		{"1:1", 5.2, true},
		{"10", -1, true},
		{"10", 0, false},
		{"10", 10, false},
		{"10", 10.0001, true},
		{"10:", 9.99, true},
		{"10:", 10, false},
		{"~:10", -1e9, false},
		{"~:10", 11, true},
		{"10:20", 9, true},
		{"10:20", 15, false},
		{"10:20", 21, true},
		{"@10:20", 10, true},
		{"@10:20", 21, false},
	}
	for _, tt := range tests {
		if got := MustParseRange(tt.rng).Alerts(tt.value); got != tt.alert {
			t.Errorf("%q.Alerts(%v) = %v, want %v", tt.rng, tt.value, got, tt.alert)
		}
	}
	var unset Range
	if unset.Alerts(1e12) || unset.IsSet() {
		t.Error("the zero Range must never alert")
	}
	if MustParseRange("5").Alerts(math.NaN()) {
		t.Error("NaN must not alert")
	}
}

// Warning and critical together, evaluated critical first as get_status.
func TestWarnCritVectors(t *testing.T) {
	type want struct {
		v     float64
		state string
	}
	eval := func(w, c string, v float64) string {
		switch {
		case MustParseRange(c).Alerts(v):
			return "CRITICAL"
		case MustParseRange(w).Alerts(v):
			return "WARNING"
		}
		return "OK"
	}
	cases := []struct {
		w, c  string
		wants []want
	}{
		{"30", "60", []want{{15.3, "OK"}, {30.0001, "WARNING"}, {69, "CRITICAL"}}},
		{"-10:-2", "-30:20", []want{{-31, "CRITICAL"}, {-29, "WARNING"}, {-11, "WARNING"}, {-10, "OK"}, {-2, "OK"}, {-1, "WARNING"}, {19, "WARNING"}, {21, "CRITICAL"}}},
	}
	for _, c := range cases {
		for _, w := range c.wants {
			if got := eval(c.w, c.c, w.v); got != w.state {
				t.Errorf("w=%s c=%s value %v: %s, want %s", c.w, c.c, w.v, got, w.state)
			}
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10", "10:", "~:10", "10:20", "@10:20", ":5.75", "1:12%%", "", "@", "2:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q) rendered %q, which does not parse: %v", s, r.String(), err)
		}
		if again.Start() != r.Start() || again.End() != r.End() || again.Inverted() != r.Inverted() {
			t.Fatalf("ParseRange(%q) rendered %q, which means something else", s, r.String())
		}
	})
}
