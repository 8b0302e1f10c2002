package plugin

import (
	"math"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

func TestPerfString(t *testing.T) {
	r := threshold.MustParseRange
	tests := []struct {
		p    Perf
		want string
	}{
		{NewPerf("load1", 0.26, ""), "load1=0.26"},
		{NewPerf("load1", 0.26, "").WithThresholds(r("5"), r("10")).WithBounds(0, math.NaN()), "load1=0.26;5;10;0"},
		{NewPerf("time", 0.0004, "s").WithThresholds(r("~:1"), r("@2:3")), "time=0.0004s;~:1;@2:3"},
		{NewPerf("free", 10, "%").WithBounds(0, 100), "free=10%;;;0;100"},
		{NewPerf("max", 1, "").WithBounds(math.Inf(-1), math.Inf(1)), "max=1"},
		{NewPerf("b c", 5, "ms"), "'b c'=5ms"},
		{NewPerf("a=b", 1, ""), "'a=b'=1"},
		{NewPerf("it's", 1, ""), "'it''s'=1"},
		{NewPerf("pipe|x\n", 1, ""), "pipe_x_=1"},
		{NewPerf("nan", math.NaN(), "s"), "nan=U"},
		{Perf{Label: "u", Unknown: true, Min: math.NaN(), Max: math.NaN()}, "u=U"},
		{NewPerf("", 1, ""), "value=1"},
		{NewPerf("/srv/a b", 3, "B"), "'/srv/a b'=3B"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("Perf %+v = %q, want %q", tt.p.Label, got, tt.want)
		}
	}
}

func TestAggregation(t *testing.T) {
	tests := []struct {
		states []State
		want   State
	}{
		{nil, OK},
		{[]State{OK, OK}, OK},
		{[]State{OK, UNKNOWN}, UNKNOWN},
		{[]State{UNKNOWN, WARNING}, WARNING},
		{[]State{CRITICAL, UNKNOWN}, CRITICAL},
		{[]State{UNKNOWN, CRITICAL, WARNING, OK}, CRITICAL},
	}
	for _, tt := range tests {
		var r Result
		for _, s := range tt.states {
			r.Add(s, "x")
		}
		if got := r.State(); got != tt.want {
			t.Errorf("states %v aggregate to %v, want %v", tt.states, got, tt.want)
		}
		if got := Worst(tt.states...); got != tt.want {
			t.Errorf("Worst(%v) = %v, want %v", tt.states, got, tt.want)
		}
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]State{"ok": OK, "0": OK, "Warning": WARNING, "1": WARNING, "CRITICAL": CRITICAL, "2": CRITICAL, "unknown": UNKNOWN, "3": UNKNOWN} {
		if got, err := ParseState(in); err != nil || got != want {
			t.Errorf("ParseState(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "4", "bad", "-1"} {
		if _, err := ParseState(in); err == nil {
			t.Errorf("ParseState(%q): want an error", in)
		}
	}
}
