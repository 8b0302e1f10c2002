package load

import (
	"fmt"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// Options are check_load's options: flags only.
type Options struct {
	Warning        threshold.Triplet  `short:"w" long:"warning" value-name:"W1,W5,W15" description:"Warning thresholds for the 1, 5 and 15 minute load" unquote:"false"`
	Critical       threshold.Triplet  `short:"c" long:"critical" value-name:"C1,C5,C15" description:"Critical thresholds for the 1, 5 and 15 minute load" unquote:"false"`
	PerCPU         bool               `short:"r" long:"percpu" description:"Divide the load by the number of usable CPUs before comparing"`
	ProcsToShow    int                `short:"n" long:"procs-to-show" base:"10" default:"0" value-name:"N" description:"List the N processes using most CPU when the state is not OK" unquote:"false"`
	SampleInterval threshold.Duration `long:"sample-interval" default:"250ms" value-name:"DURATION" description:"How long -n measures CPU use; 0 shows lifetime averages as ps does" unquote:"false"`
	PSIWarning     []PSIThreshold     `long:"psi-warning" value-name:"RESOURCE[:LINE][:WINDOW]=RANGE" description:"Warning threshold on pressure stall information, in percent (repeatable)" unquote:"false"`
	PSICritical    []PSIThreshold     `long:"psi-critical" value-name:"RESOURCE[:LINE][:WINDOW]=RANGE" description:"Critical threshold on pressure stall information, in percent (repeatable)" unquote:"false"`
	OOMWarning     threshold.Range    `long:"oom-warning" default:"0" value-name:"RANGE" description:"Warning threshold on the OOM kills since the last run: 0 warns at the first, ~: never" unquote:"false"`
	OOMCritical    threshold.Range    `long:"oom-critical" value-name:"RANGE" description:"Critical threshold on the OOM kills since the last run" unquote:"false"`
	StateFile      plugin.StateFile   `long:"state-file" value-name:"PATH" description:"Where the OOM kill count is kept between runs (default: per user and set of options under /var/tmp)" unquote:"false"`
	NoStateFile    bool               `long:"no-state-file" description:"Keep no state between runs: OOM kills are then not judged"`
	Kmsg           string             `long:"kmsg" default:"/dev/kmsg" value-name:"PATH" description:"Kernel log to name OOM-killed processes from, read only when the count grew (needs root where dmesg_restrict=1)" unquote:"false"`
	plugin.ProcRoot
	plugin.SysRoot
}

// Validate rejects what go-flags cannot see.
func (o *Options) Validate() error {
	if o.ProcsToShow < 0 {
		return fmt.Errorf("invalid -n %d: must be 0 or more", o.ProcsToShow)
	}
	if o.Kmsg == "" {
		return fmt.Errorf("--kmsg: empty path")
	}
	if err := o.StateFile.Check(); err != nil {
		return fmt.Errorf("invalid --state-file: %w (use --no-state-file to keep none)", err)
	}
	return nil
}

// thresholds are the load thresholds in force: -w and -c, or the per-CPU
// defaults when neither is given.
func (o *Options) thresholds() (warn, crit threshold.Triplet, perCPU bool) {
	if !o.Warning.IsSet() && !o.Critical.IsSet() {
		warn, _ = threshold.ParseTriplet(defaultWarning)
		crit, _ = threshold.ParseTriplet(defaultCritical)
		return warn, crit, true
	}
	return o.Warning, o.Critical, o.PerCPU
}

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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
