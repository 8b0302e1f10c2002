package load

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// psiResources are the pressure files read; irq (6.1+) has only "full"
// and says nothing about load, so it is left out.
var psiResources = []string{"cpu", "io", "memory"}

// PSIThreshold is one --psi-warning/--psi-critical value:
// RESOURCE[:some|full][:avg10|avg60|avg300]=RANGE, e.g. "io=20" (some,
// avg60) or "memory:full:avg10=5:". Values are percentages of time.
type PSIThreshold struct {
	Resource, Line, Window string
	Range                  threshold.Range
}

// ParsePSIThreshold parses s, naming s in the error.
func ParsePSIThreshold(s string) (PSIThreshold, error) {
	t := PSIThreshold{Line: "some", Window: "avg60"}
	spec, rng, ok := strings.Cut(s, "=")
	if !ok {
		return t, fmt.Errorf("invalid PSI threshold %q: want RESOURCE[:some|full][:avg10|avg60|avg300]=RANGE, e.g. io=20", s)
	}
	parts := strings.Split(spec, ":")
	t.Resource = parts[0]
	if !contains(psiResources, t.Resource) {
		return t, fmt.Errorf("invalid PSI threshold %q: resource %q is not one of cpu, io, memory", s, t.Resource)
	}
	for _, p := range parts[1:] {
		switch p {
		case "some", "full":
			t.Line = p
		case "avg10", "avg60", "avg300":
			t.Window = p
		default:
			return t, fmt.Errorf("invalid PSI threshold %q: %q is neither some/full nor avg10/avg60/avg300", s, p)
		}
	}
	r, err := threshold.ParseRange(rng)
	if err != nil {
		return t, fmt.Errorf("invalid PSI threshold %q: %w", s, err)
	}
	t.Range = r
	return t, nil
}

func (t PSIThreshold) key() string { return t.Resource + " " + t.Line + " " + t.Window }

func (t PSIThreshold) String() string {
	return t.Resource + ":" + t.Line + ":" + t.Window + "=" + t.Range.String()
}

// UnmarshalFlag implements flags.Unmarshaler.
func (t *PSIThreshold) UnmarshalFlag(s string) error {
	v, err := ParsePSIThreshold(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (t PSIThreshold) MarshalFlag() (string, error) { return t.String(), nil }

// psi holds the pressure readings that could be read, by resource.
type psi map[string]pressure

// errMalformed marks a pressure file holding what no kernel writes: an
// UNKNOWN, where a missing file is only a note.
var errMalformed = errors.New("malformed")

// readPSI reads every resource; a kernel without PSI (before 4.20, no
// CONFIG_PSI, or booted psi=0) gives an explanation instead. Malformed
// files come back as bad, to be reported as UNKNOWN.
func readPSI(procRoot string) (out psi, why string, bad []error) {
	out = psi{}
	var missing []string
	for _, res := range psiResources {
		st, err := readPressure(filepath.Join(procRoot, "pressure", res))
		if err != nil {
			switch {
			case errors.Is(err, errMalformed):
				bad = append(bad, err)
			case isNotExist(err) || errors.Is(err, errEOPNOTSUPP):
				missing = append(missing, res)
			default:
				missing = append(missing, res+" ("+err.Error()+")")
			}
			continue
		}
		out[res] = st
	}
	if len(missing) == len(psiResources) && len(out) == 0 {
		return out, "pressure stall information not available on this kernel (no /proc/pressure: needs Linux 4.20+ with CONFIG_PSI, not booted psi=0)", bad
	}
	if len(missing) > 0 {
		return out, "pressure stall information missing for " + strings.Join(missing, ", "), bad
	}
	return out, "", bad
}

// value returns one reading, false when the kernel does not give it.
func (p psi) value(res, line, window string) (float64, bool) {
	v, ok := p[res][line][window]
	return v, ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
