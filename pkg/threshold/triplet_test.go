package threshold

import (
	"testing"
	"time"
)

func TestParseTriplet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"15,10,5", "15,10,5"},
		{"5", "5,5,5"},
		{"1,2", "1,2,2"},
		{"-1:5,10:,@1:2", "-1:5,10:,@1:2"},
	}
	for _, tt := range tests {
		got, err := ParseTriplet(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTriplet(%q) = %q, %v; want %q", tt.in, got.String(), err, tt.want)
		}
	}
	for _, in := range []string{"", "1,2,3,4", "1,,3", "a,b,c", "5,2:1", " 5", "5 ", "1, 2", "5%", "1_000", "inf", "1,2,"} {
		if _, err := ParseTriplet(in); err == nil {
			t.Errorf("ParseTriplet(%q): want an error", in)
		}
	}
}

func TestParseTripletMessages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"foo", `invalid range "foo": "foo" is not a number`},
		{"1,foo", `invalid threshold list "1,foo": invalid range "foo": "foo" is not a number`},
		{"1:x", `invalid range "1:x": end "x" is not a number`},
		{"y:1", `invalid range "y:1": start "y" is not a number`},
		{"1e999", `invalid range "1e999": "1e999" is out of range`},
	}
	for _, tt := range tests {
		if _, err := ParseTriplet(tt.in); err == nil || err.Error() != tt.want {
			t.Errorf("ParseTriplet(%q): %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90", 90 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"0", 0},
		{"1e2", 100 * time.Second},
		{"30s", 30 * time.Second},
		{"5m", 5 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"2d", 48 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1d12h", 36 * time.Hour},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "-5", "5x", "d", "1d-2h", "-1m", "NaN", "inf", " 5", "5 ", "5s ", "1_000", "0x10", "5%",
		"1e10", "300y", "106752d", "106751d24h", "1e300d", "3000000h", "1d 2h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

// TestDurationMarshalRoundTrip: what --help and the generated definitions
// show as a default parses back to the same span, at the precision
// human.Duration keeps.
func TestDurationMarshalRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 250 * time.Millisecond, 1500 * time.Millisecond, 45 * time.Second, 5*time.Minute + 12*time.Second, 2 * time.Hour, 6*24*time.Hour + 2*time.Hour} {
		s, err := Duration(d).MarshalFlag()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDuration(s)
		if err != nil || got != d {
			t.Errorf("MarshalFlag(%v) = %q, parsed back as %v, %v", d, s, got, err)
		}
	}
}
