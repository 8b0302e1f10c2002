package load

import (
	"strconv"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

const (
	stateKind    = "check_load"
	stateVersion = 1
)

// saved is what one run leaves for the next; the runtime loads and
// writes it (plugin.Stateful). It is written only when it changed, so a
// run on a machine without OOM kills writes nothing.
type saved struct {
	BootID   string `json:"boot_id,omitempty"`  // /proc/sys/kernel/random/boot_id
	OOMKills uint64 `json:"oom_kills"`          // oom_kill in /proc/vmstat
	KmsgSeq  uint64 `json:"kmsg_seq,omitempty"` // last kernel log record read, this boot
}

// StateSpec is where the runtime keeps the OOM kill count between runs.
func (o *Options) StateSpec() plugin.StateSpec {
	return plugin.StateSpec{
		Path:    plugin.StatePath(o.StateFile, o.NoStateFile, stateKind, o.stateKey()...),
		Kind:    stateKind,
		Version: stateVersion,
		Lost:    "counting OOM kills since the last run",
	}
}

// keepsState reports whether runs are compared: not with --no-state-file
// or --state-file /dev/null.
func (o *Options) keepsState() bool { return plugin.KeepsState(o.StateFile, o.NoStateFile) }

// stateKey names the default state file: one per set of options, so
// that two services running check_load as one user (the load, and PSI
// with other thresholds) each see every OOM kill instead of the first to
// run taking the news from the other.
func (o *Options) stateKey() []string {
	key := []string{o.Procfs, o.Sysfs, o.Warning.String(), o.Critical.String(), strconv.FormatBool(o.PerCPU),
		strconv.Itoa(o.ProcsToShow), o.OOMWarning.String(), o.OOMCritical.String()}
	for _, t := range o.PSIWarning {
		key = append(key, "w", t.String())
	}
	for _, t := range o.PSICritical {
		key = append(key, "c", t.String())
	}
	return key
}
