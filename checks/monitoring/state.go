package monitoring

import (
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

const (
	stateKind    = "check_monitoring"
	stateVersion = 1
)

// saved is what one run leaves for the next (plugin.Stateful): the
// engine process seen, to measure its memory growth and to tell a
// restart, and how far the log was read.
type saved struct {
	PID     int   `json:"pid,omitempty"`
	Started int64 `json:"started,omitempty"` // the process's start, Unix seconds: with PID, what names it
	RSS     int64 `json:"rss,omitempty"`     // bytes
	At      int64 `json:"at"`                // when this run looked, Unix seconds
	// LogNewest and LogSeen are the Nagios log's cursor: the newest
	// second read and the hashes of that second's lines counted. LogHashed
	// says LogSeen is kept: the lines of LogNewest not in it are news.
	// Without it (a file of a build before the hashes, same version so
	// that its cursor is not lost) LogNewest means "read after that
	// second", as that build meant it: that second's lines counted
	// already. The flag, not an empty LogSeen, tells the two apart: a
	// second read with no line counted has no hashes either.
	LogNewest int64    `json:"log_newest,omitempty"`
	LogSeen   []uint64 `json:"log_seen,omitempty"`
	LogHashed bool     `json:"log_hashed,omitempty"`
	// IcingaLogNewest, IcingaLogSeen and IcingaLogHashed are Icinga 2's
	// log's.
	IcingaLogNewest int64    `json:"icinga_log_newest,omitempty"`
	IcingaLogSeen   []uint64 `json:"icinga_log_seen,omitempty"`
	IcingaLogHashed bool     `json:"icinga_log_hashed,omitempty"`
	Comm            string   `json:"comm,omitempty"`
	// OOMKills is the kernel's count of OOM kills when OOMCounted, in
	// the boot BootID names.
	OOMKills   uint64 `json:"oom_kills,omitempty"`
	OOMCounted bool   `json:"oom_counted,omitempty"`
	BootID     string `json:"boot_id,omitempty"`
}

// StateSpec is where the runtime keeps it.
func (o *Options) StateSpec() plugin.StateSpec {
	return plugin.StateSpec{
		Path:    plugin.StatePath(o.StateFile, o.NoStateFile, stateKind, o.stateKey()...),
		Kind:    stateKind,
		Version: stateVersion,
		Lost:    "memory growth, notification failures and OOM kills since the last run",
	}
}

// keepsState reports whether runs are compared.
func (o *Options) keepsState() bool { return plugin.KeepsState(o.StateFile, o.NoStateFile) }

// stateKey names the default state file: one per engine watched, so
// that two services watching two engines as one user do not mix their
// histories.
func (o *Options) stateKey() []string {
	return []string{o.NagiosConfig, o.NagiosStatus, o.NagiosLog, o.IcingaAPI, o.IcingaLog, o.APIUser, o.Procfs}
}

// nextState is what this run leaves: the engine process, if one was
// found, and the log position.
func nextState(obs observations) saved {
	next := saved{At: obs.Now.Unix()}
	if n := obs.Nagios; n != nil {
		if p := n.Proc; p.Alive() {
			next.PID, next.Started, next.RSS, next.Comm = p.PID, p.Started, p.RSS, p.Comm
		}
		if l := n.Log.Log; l != nil {
			next.LogNewest, next.LogSeen, next.LogHashed = l.Next.Time, l.Next.Seen, true
		}
		if c := n.OOMCount; c.Known {
			next.OOMKills, next.OOMCounted, next.BootID = c.Total, true, c.BootID
		}
	}
	if ic := obs.Icinga; obs.Nagios == nil && ic != nil && ic.Proc != nil && ic.Proc.Alive() {
		p := ic.Proc
		next.PID, next.Started, next.RSS, next.Comm = p.PID, p.Started, p.RSS, p.Comm
	}
	if ic := obs.Icinga; ic != nil && ic.Log.Log != nil {
		next.IcingaLogNewest, next.IcingaLogSeen, next.IcingaLogHashed = ic.Log.Log.Next.Time, ic.Log.Log.Next.Seen, true
	}
	// A log not read this time is read from where the last run stopped,
	// in the format it was kept in.
	if obs.Prev != nil && next.LogNewest == 0 {
		next.LogNewest, next.LogSeen, next.LogHashed = obs.Prev.LogNewest, obs.Prev.LogSeen, obs.Prev.LogHashed
	}
	if obs.Prev != nil && next.IcingaLogNewest == 0 {
		next.IcingaLogNewest, next.IcingaLogSeen, next.IcingaLogHashed = obs.Prev.IcingaLogNewest, obs.Prev.IcingaLogSeen, obs.Prev.IcingaLogHashed
	}
	return next
}

// logSince is where a log is read from: the last run's cursor, or back
// firstRunLookBack on a first run (last 0); last is the newest second
// the last run read. A cursor without hashes (hashed false, an older
// build's) is "after newest": from the next second, nothing of newest's
// is news.
func logSince(now time.Time, newest int64, seen []uint64, hashed bool) (since nagiosstatus.Cursor, last int64) {
	switch {
	case newest > 0 && hashed:
		return nagiosstatus.Cursor{Time: newest, Seen: seen}, newest
	case newest > 0:
		return nagiosstatus.Cursor{Time: newest + 1}, newest
	}
	return nagiosstatus.Cursor{Time: now.Add(-firstRunLookBack).Unix()}, 0
}
