// Package plugin is the runtime every hindsight check runs in: it parses
// the options common to all plugins, arms the hard deadline, runs the
// check, aggregates its findings and renders them by the Nagios plugin
// guidelines. Nothing in it knows about any one check.
package plugin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/olorin/nagiosplugin"
)

// State is a plugin state; its numeric value is the exit code.
type State = nagiosplugin.Status

// The four states of the plugin contract.
const (
	OK       = nagiosplugin.OK
	WARNING  = nagiosplugin.WARNING
	CRITICAL = nagiosplugin.CRITICAL
	UNKNOWN  = nagiosplugin.UNKNOWN
)

// severity orders states for aggregation: OK < UNKNOWN < WARNING <
// CRITICAL, as monitoring-plugins' max_state_alt. nagiosplugin ranks
// UNKNOWN highest, which would let one unreachable host hide an expired
// certificate.
func severity(s State) int {
	switch s {
	case OK:
		return 0
	case UNKNOWN:
		return 1
	case WARNING:
		return 2
	case CRITICAL:
		return 3
	}
	return 1
}

// Worse reports whether a is more severe than b.
func Worse(a, b State) bool { return severity(a) > severity(b) }

// Worst returns the most severe of states, OK for none.
func Worst(states ...State) State {
	w := OK
	for _, s := range states {
		if Worse(s, w) {
			w = s
		}
	}
	return w
}

// ParseState accepts what monitoring-plugins' mp_translate_state does:
// OK, WARNING, CRITICAL, UNKNOWN in any case, or 0 to 3.
func ParseState(s string) (State, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "OK", "0":
		return OK, nil
	case "WARNING", "WARN", "1":
		return WARNING, nil
	case "CRITICAL", "CRIT", "2":
		return CRITICAL, nil
	case "UNKNOWN", "3":
		return UNKNOWN, nil
	}
	return UNKNOWN, fmt.Errorf("invalid state %q: use OK, WARNING, CRITICAL, UNKNOWN or 0-3", s)
}

// StateName is State.String without nagiosplugin's panic on bad values.
func StateName(s State) string {
	if s > UNKNOWN {
		return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
	}
	return s.String()
}

// StateFlag is a state given as an option value (--timeout-result).
type StateFlag struct {
	State State
	Set   bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (f *StateFlag) UnmarshalFlag(s string) error {
	st, err := ParseState(s)
	if err != nil {
		return err
	}
	*f = StateFlag{State: st, Set: true}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (f StateFlag) MarshalFlag() (string, error) {
	if !f.Set {
		return "", nil
	}
	return StateName(f.State), nil
}
