package threshold

import (
	"math"
	"strconv"
	"testing"
)

// sum adds at run time: Go adds constants exactly, 0.1 + 0.2 is 0.3 there.
func sum(a, b float64) float64 { return a + b }

// noisy is 0.30000000000000004, float arithmetic's 0.1 + 0.2.
var noisy = sum(0.1, 0.2)

func TestParseNumber(t *testing.T) {
	good := map[string]float64{
		"1": 1, "-1": -1, "+1.5": 1.5, ".5": 0.5, "5.": 5, "1e3": 1000, "1E-3": 0.001, "-2.5e+10": -2.5e10,
		"0.0000001": 1e-7, "12345678901234567890": 12345678901234567890, "1e-400": 0,
	}
	for in, want := range good {
		if got, err := ParseNumber(in); err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// strconv.ParseFloat takes the first seven of these.
	for _, in := range []string{"inf", "+Inf", "infinity", "nan", "0x1p4", "0x_1p4", "1_000",
		"", " 1", "1 ", "5%", "0x10", "1e", "1e400", "-1e400", ".", "-", "1,5", "1.2.3", "٣"} {
		if got, err := ParseNumber(in); err == nil {
			t.Errorf("ParseNumber(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0.26, "0.26"}, {5, "5"}, {noisy, "0.3"}, {1e20, "100000000000000000000"}, {0.0004, "0.0004"},
		{1e-7, "0.0000001"}, {-1e-7, "-0.0000001"}, {1e-9, "0.000000001"}, {4e-10, "0"}, {noisy - 0.3, "0"},
		{math.Copysign(0, -1), "0"}, {sum(1, 0.004395), "1.004395"}, {12345678901234567890, "12345678901234600000"},
		{1e21, "1e+21"}, {-1e300, "-1e+300"}, {math.Inf(1), ""}, {math.NaN(), ""},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatBound(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1e-7, "0.0000001"}, {noisy, "0.30000000000000004"}, {1e-9, "0.000000001"}, {5e-10, "5e-10"},
		{12345678901234567890, "12345678901234567000"}, {1e21, "1e+21"}, {math.SmallestNonzeroFloat64, "5e-324"},
		{-math.MaxFloat64, "-1.7976931348623157e+308"}, {math.Copysign(0, -1), "0"},
	}
	for _, tt := range tests {
		if got := formatBound(tt.in); got != tt.want {
			t.Errorf("formatBound(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzFormatNumber: whatever the float, both printers give a number
// ParseNumber takes, of bounded length; formatBound's is the same float,
// FormatNumber's is within its documented rounding.
func FuzzFormatNumber(f *testing.F) {
	for _, v := range []float64{0, 1e-7, noisy, 1e21, -1e300, 5e-324, 12345678901234567890} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			if FormatNumber(v) != "" || formatBound(v) != "" {
				t.Fatalf("%v must print as empty", v)
			}
			return
		}
		exact := formatBound(v)
		if got, err := ParseNumber(exact); err != nil || got != v || len(exact) > 28 {
			t.Fatalf("formatBound(%v) = %q, which parses as %v, %v", v, exact, got, err)
		}
		s := FormatNumber(v)
		got, err := ParseNumber(s)
		if err != nil || len(s) > 28 {
			t.Fatalf("FormatNumber(%v) = %q: %v", v, s, err)
		}
		if d := math.Abs(got - v); d > 5e-10+1e-15*math.Abs(v) && d > 1e-14*math.Abs(v) { // slack: the subtraction rounds too
			t.Fatalf("FormatNumber(%v) = %q, off by %v", v, s, d)
		}
		// Written with at most 15 significant digits and 9 decimals, as
		// people and the kernel write numbers: printed back exactly.
		g15, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
		f9, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 9, 64), 64)
		if g15 == v && f9 == v && got != v {
			t.Fatalf("FormatNumber(%v) = %q, which is not the same float", v, s)
		}
	})
}
