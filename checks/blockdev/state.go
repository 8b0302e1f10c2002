package blockdev

import (
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
)

const (
	stateKind    = "check_blockdev"
	stateVersion = 1
)

// saved is what one run leaves for the next. Hung mounts are not kept
// here: the prober's registry of hung targets, shared by every plugin and
// run, knows them (version 1 files with "hung_mounts" still load).
type saved struct {
	BootID  string                 `json:"boot_id"`
	At      time.Time              `json:"at"`
	KmsgSeq uint64                 `json:"kmsg_seq"`
	Devices map[string]savedDevice `json:"devices"`
}

type savedDevice struct {
	Counters   block.Counters `json:"counters"`
	At         time.Time      `json:"at"`
	StallSince time.Time      `json:"stall_since,omitzero"`
	IOErrors   uint64         `json:"ioerr_cnt"`
	HasIOErr   bool           `json:"has_ioerr"`
	Gone       time.Time      `json:"gone,omitzero"` // when it was first missed
}
