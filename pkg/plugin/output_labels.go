package plugin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// OutputLabel is one --output-label NAME=VALUE: a label on every series of
// the openmetrics format and in the json object's "labels". Two runs of
// one plugin written for the same textfile collector (two sites, two
// certificate sets) would otherwise give the same series twice, and
// node_exporter fails the whole scrape.
type OutputLabel struct{ Name, Value string }

// labelName is a Prometheus label name. Compiled on first use, as every
// regexp here: a plugin starts thousands of times a minute, and most
// runs never need it.
var labelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// ourLabels are the label names the openmetrics format sets itself.
var ourLabels = map[string]bool{"plugin": true, "label": true}

// UnmarshalFlag implements flags.Unmarshaler.
func (l *OutputLabel) UnmarshalFlag(s string) error {
	name, value, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return fmt.Errorf("invalid output label %q: use NAME=VALUE, e.g. site=berlin", s)
	case !labelName().MatchString(name):
		return fmt.Errorf("invalid output label %q: NAME must be letters, digits and _, not starting with a digit", s)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("invalid output label %q: names starting with __ are Prometheus' own", s)
	case ourLabels[name]:
		return fmt.Errorf("invalid output label %q: %s is set by the plugin", s, name)
	case value == "":
		return fmt.Errorf("invalid output label %q: empty VALUE", s)
	case !utf8.ValidString(value):
		return fmt.Errorf("invalid output label %q: VALUE is not UTF-8", s)
	}
	*l = OutputLabel{name, value}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (l OutputLabel) MarshalFlag() (string, error) { return l.Name + "=" + l.Value, nil }

// checkLabels refuses a label name given twice (a series cannot have it
// twice, and which value wins would be a guess) and labels too long for
// the state alone to fit the output's bound.
func (o output) checkLabels() error {
	seen := map[string]bool{}
	for _, l := range o.labels {
		if seen[l.Name] {
			return errors.New("invalid output labels: " + l.Name + " given twice")
		}
		seen[l.Name] = true
	}
	if n := len(o.stateOnly(UNKNOWN, 0)); o.format == formatOpenMetrics && n > o.limit() {
		return fmt.Errorf("invalid output labels: the state alone with them is %d bytes, over the output's bound of %d", n, o.limit())
	}
	return nil
}

// extraLabels is the --output-label labels as they follow plugin="..."
// in a series: ",NAME=\"VALUE\"...", values sanitised and escaped.
func (o output) extraLabels() string {
	var b strings.Builder
	for _, l := range o.labels {
		b.WriteString("," + l.Name + `="` + escapeLabel(o.z.line(l.Value)) + `"`)
	}
	return b.String()
}

// labelMap is the --output-label labels for the json format; nil without.
func (o output) labelMap() map[string]string {
	if len(o.labels) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, l := range o.labels {
		m[l.Name] = o.z.line(l.Value)
	}
	return m
}
