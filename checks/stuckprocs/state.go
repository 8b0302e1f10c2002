package stuckprocs

const (
	stateKind    = "check_stuck_procs"
	stateVersion = 1
)

// saved is what one run leaves for the next; the runtime loads and
// writes it (plugin.Stateful).
type saved struct {
	BootTime  uint64          `json:"boot_time"`
	Tasks     map[string]seen `json:"tasks,omitempty"` // by "tid:starttime"
	HungCount *uint64         `json:"hung_task_detect_count,omitempty"`
	KmsgSeq   uint64          `json:"kmsg_seq,omitempty"`
	// Probes are our own probe children seen in D ("pid:starttime"): told
	// apart once by their command line, never read again.
	Probes []string `json:"probes,omitempty"`
}

// seen is one task in D: since when, and its context switches when first
// seen, to tell a stuck task from one merely busy with I/O. An entry is
// written once and kept as is while the task stays stuck, so a run with
// the same tasks in D as the last one writes nothing.
type seen struct {
	Since    int64    `json:"since"` // unix seconds
	At       int64    `json:"at"`
	Switches uint64   `json:"switches"`
	Cmd      []string `json:"cmd,omitempty"` // read once through the prober, then remembered
}

// history is the previous state when it is of this boot: history from
// another boot is no history.
func history(prev saved, bootTime uint64) saved {
	if prev.BootTime != bootTime {
		return saved{}
	}
	return prev
}
