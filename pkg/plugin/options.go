package plugin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// DefaultTimeout is monitoring-plugins' DEFAULT_SOCKET_TIMEOUT.
const DefaultTimeout = 10 * time.Second

// Common holds the options every plugin has.
type Common struct {
	Version       bool          `short:"V" long:"version" description:"Print the version and exit"`
	Verbose       []bool        `short:"v" long:"verbose" description:"More detail in the long output; repeat for more (-vv, -vvv)"`
	Timeout       Timeout       `short:"t" long:"timeout" default:"10" value-name:"SECONDS[:STATE]" description:"Hard deadline for the whole run; STATE (OK, WARNING, CRITICAL, UNKNOWN) is returned when it passes" unquote:"false"`
	TimeoutResult StateFlag     `long:"timeout-result" value-name:"STATE" description:"State to return when the deadline passes (default UNKNOWN; -t N:STATE takes precedence)" unquote:"false"`
	MaxOutput     int           `long:"max-output" default:"4096" base:"10" value-name:"BYTES" description:"Bound on the whole output; use 1023 behind NRPE v2 packets" unquote:"false"`
	OutputFormat  string        `long:"output-format" default:"nagios" choice:"nagios" choice:"json" choice:"openmetrics" value-name:"FORMAT" description:"nagios (status line and perfdata), json (one object) or openmetrics (for node_exporter's textfile collector); the exit code is the same in all" unquote:"false"`
	OutputLabel   []OutputLabel `long:"output-label" value-name:"NAME=VALUE" description:"A label on every series (openmetrics) and in \"labels\" (json); repeat for more. Tells apart runs of one plugin written for the same textfile collector" unquote:"false"`
	// ExtraOpts is documented here and handled before parsing (extraopts.go).
	ExtraOpts string `long:"extra-opts" value-name:"[SECTION][@FILE]" description:"Read options from SECTION (default: the plugin's name) of an ini file (default: plugins.ini in the usual places, as monitoring-plugins); the command line wins" unquote:"false"`
}

// Timeout is -t SECONDS[:STATE], as nagios-plugins spells it. SECONDS may
// be fractional; ":STATE" alone keeps the default seconds. An empty value
// is an error, not the default: "-t $TIMEOUT" with the macro unset must
// not quietly run with 10 s.
type Timeout struct {
	D        time.Duration
	State    State
	StateSet bool
}

// maxTimeout bounds -t: a day is beyond any monitoring interval, and
// keeps the conversion to time.Duration far from overflow.
const maxTimeout = 86400

// UnmarshalFlag implements flags.Unmarshaler.
func (t *Timeout) UnmarshalFlag(s string) error {
	if s == "" {
		return errors.New(`invalid timeout "": empty; use SECONDS[:STATE], e.g. 10 or 10:CRITICAL`)
	}
	secs, state, hasState := strings.Cut(s, ":")
	out := Timeout{D: DefaultTimeout}
	if secs != "" || !hasState {
		f, err := threshold.ParseNumber(secs)
		if err != nil {
			return fmt.Errorf("invalid timeout %q: SECONDS %w", s, err)
		}
		if f <= 0 || f > maxTimeout {
			return fmt.Errorf("invalid timeout %q: SECONDS must be above 0 and at most %d", s, maxTimeout)
		}
		out.D = time.Duration(f * float64(time.Second))
	}
	if hasState {
		st, err := ParseState(state)
		if err != nil {
			return fmt.Errorf("invalid timeout %q: %w", s, err)
		}
		out.State, out.StateSet = st, true
	}
	*t = out
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (t Timeout) MarshalFlag() (string, error) {
	s := strconv.FormatFloat(t.D.Seconds(), 'f', -1, 64)
	if t.StateSet {
		s += ":" + StateName(t.State)
	}
	return s, nil
}

// ProcRoot is embedded in the options of checks that read /proc, so a
// plugin in a container can read the host's (as node_exporter's
// --path.procfs) and tests can point it at a fixture tree.
type ProcRoot struct {
	Procfs string `long:"procfs" default:"/proc" value-name:"DIR" description:"Where procfs is mounted" unquote:"false"`
}

// SysRoot is ProcRoot's counterpart for sysfs.
type SysRoot struct {
	Sysfs string `long:"sysfs" default:"/sys" value-name:"DIR" description:"Where sysfs is mounted" unquote:"false"`
}
