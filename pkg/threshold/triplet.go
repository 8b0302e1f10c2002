package threshold

import (
	"fmt"
	"strings"
)

// Triplet is check_load's threshold list for the 1, 5 and 15 minute
// averages: "15,10,5", or fewer values with the last one repeated ("5"
// means 5,5,5 and "1,2" means 1,2,2, as check_load does). Each value is a
// standard range, so a plain number alerts above it.
type Triplet [3]Range

// ParseTriplet parses s, returning an error that quotes s when invalid.
func ParseTriplet(s string) (Triplet, error) {
	var t Triplet
	parts := strings.Split(s, ",")
	if len(parts) > 3 {
		return t, fmt.Errorf("invalid threshold list %q: at most three values (1, 5 and 15 minutes)", s)
	}
	for i := range t {
		p := parts[min(i, len(parts)-1)]
		r, err := ParseRange(p)
		if err != nil && len(parts) == 1 {
			return t, err // the list is the range: say it once
		} else if err != nil {
			return t, fmt.Errorf("invalid threshold list %q: %w", s, err)
		}
		t[i] = r
	}
	return t, nil
}

// IsSet reports whether the triplet was given.
func (t Triplet) IsSet() bool { return t[0].IsSet() }

func (t Triplet) String() string {
	if !t.IsSet() {
		return ""
	}
	return t[0].String() + "," + t[1].String() + "," + t[2].String()
}

// UnmarshalFlag implements flags.Unmarshaler.
func (t *Triplet) UnmarshalFlag(s string) error {
	parsed, err := ParseTriplet(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (t Triplet) MarshalFlag() (string, error) { return t.String(), nil }

// IsValidValue implements flags.ValueValidator (negative first values);
// it accepts every value so that UnmarshalFlag's error, which go-flags
// prefixes with the option's name, is the one shown (see Range's).
func (t *Triplet) IsValidValue(string) error { return nil }
