package blockdev

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

const (
	stateKind    = "check_blockdev"
	stateVersion = 1
)

// saved is what one run leaves for the next.
type saved struct {
	BootID  string                 `json:"boot_id"`
	At      time.Time              `json:"at"`
	KmsgSeq uint64                 `json:"kmsg_seq"`
	Devices map[string]savedDevice `json:"devices"`
	Hung    map[string]hungMount   `json:"hung_mounts,omitempty"`
}

type savedDevice struct {
	Counters   block.Counters `json:"counters"`
	At         time.Time      `json:"at"`
	StallSince time.Time      `json:"stall_since,omitzero"`
	IOErrors   uint64         `json:"ioerr_cnt"`
	HasIOErr   bool           `json:"has_ioerr"`
	Gone       time.Time      `json:"gone,omitzero"` // when it was first missed
}

// hungMount is a mount whose probe did not answer. Its abandoned child,
// while it exists, says the mount is still hung: no second child is
// started on it, so stuck children do not pile up run after run.
type hungMount struct {
	Since    time.Time    `json:"since"`
	Op       string       `json:"op"`
	Children []probeChild `json:"children"`
}

// probeChild is an abandoned probe child; Start (/proc/PID/stat
// starttime) guards against the pid being reused.
type probeChild struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// stuck returns the first of the children that still exists.
func (h hungMount) stuck(procRoot string) (probeChild, bool) {
	for _, c := range h.Children {
		if start, alive := procStart(procRoot, c.Pid); alive && start == c.Start {
			return c, true
		}
	}
	return probeChild{}, false
}

func (r *run) loadState() error {
	r.bootID = readTrim(filepath.Join(r.c.Procfs, "sys/kernel/random/boot_id"))
	found, why, err := state.Load(r.c.statePath(), stateKind, stateVersion, &r.prev)
	if err != nil {
		return err
	}
	if found && r.prev.BootID != r.bootID {
		found, why = false, "rebooted since the last run: counters start afresh"
		r.prev = saved{}
	}
	r.havePrev = found
	if !found && r.env.Verbose > 0 && why != "" {
		r.notes = append(r.notes, why)
	}
	r.next = saved{BootID: r.bootID, At: r.now, KmsgSeq: r.prev.KmsgSeq,
		Devices: map[string]savedDevice{}, Hung: map[string]hungMount{}}
	return nil
}

func (r *run) saveState() error {
	return state.Save(r.c.statePath(), stateKind, stateVersion, r.next)
}

// procStart returns the start time (in ticks) of pid, and whether it is
// alive and not a zombie. /proc/PID/stat never blocks on the task.
func procStart(procRoot string, pid int) (uint64, bool) {
	if pid <= 0 {
		return 0, false
	}
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// After the comm: state is field 3, starttime field 22.
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	return n, err == nil
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
