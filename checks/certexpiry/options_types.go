package certexpiry

// givenString is a string option that remembers being given: an empty
// --min-tls-version "" is a mistake to name, not a way to turn a check
// off without a word.
type givenString struct {
	V   string
	Set bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (g *givenString) UnmarshalFlag(s string) error {
	*g = givenString{V: s, Set: true}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (g givenString) MarshalFlag() (string, error) { return g.V, nil }
