package load

import (
	"context"
	"errors"
	"io/fs"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// defaultKmsg is --kmsg's default. Trouble with it (closed to the nagios
// user by dmesg_restrict, absent in a container) is a note: the kills
// are still counted. A --kmsg the user gave that cannot be read is
// UNKNOWN.
const defaultKmsg = "/dev/kmsg"

// oomReport is what gather learnt of OOM kills since the last run.
type oomReport struct {
	Known    bool   // oom_kill was read
	Total    uint64 // oom_kill: kills since boot
	Since    uint64 // kills since the last run
	Compared bool   // there was a last run to compare with
	NoState  bool   // --no-state-file: runs are not compared
	Rebooted bool   // the last run was in another boot
	Victims  []victim
	LogNote  string // why the killed processes are not named (a note)
	LogBad   string // an explicit --kmsg that cannot be read (UNKNOWN)
	Why      string // why there is no count, for -v
	Bad      error  // a vmstat that no kernel writes (UNKNOWN)
}

// victim is one process the kernel log says the OOM killer killed.
type victim = kmsg.Victim

// oomLogLimits bound the kernel log read when the count grew.
var oomLogLimits = kmsg.Limits{Bytes: 32 << 20, Records: 20000}

// gatherOOM reads oom_kill from vmstat and the boot id (two small files),
// compares them with the last run's, and reads the kernel log only when
// the count grew. It returns the state to save, nil when unchanged.
func gatherOOM(ctx context.Context, env *plugin.Env, o *Options, k kernel) (oomReport, *saved) {
	var r oomReport
	total, err := readOOMKills(k)
	if err != nil {
		// Missing (a fixture tree, a kernel before 4.13) is a -v note; a
		// vmstat that is there but unusable is UNKNOWN.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, kmsg.ErrNoOOMCounter) {
			r.Why = "OOM kills not counted: " + err.Error()
		} else {
			r.Bad = err
		}
		return r, nil
	}
	r.Known, r.Total = true, total
	if o.Kmsg != defaultKmsg {
		// The log is read only when the count grew; a --kmsg that could
		// never be read costs one stat a run to say so now.
		if _, err := kmsgKind(ctx, env.Files(), o.Kmsg); err != nil {
			r.LogBad = err.Error() + " (--kmsg)"
		}
	}
	if !o.keepsState() {
		r.NoState = true
		return r, nil
	}
	bootID := readBootID(k)
	next := saved{BootID: bootID, OOMKills: total}
	var prev saved
	if !env.PrevState(&prev) {
		return r, &next
	}
	r.Compared = true
	r.Rebooted = bootID != "" && prev.BootID != "" && bootID != prev.BootID || total < prev.OOMKills
	if r.Rebooted {
		prev = saved{} // every kill of this boot came after the last run
	}
	next.KmsgSeq = prev.KmsgSeq
	r.Since = total - prev.OOMKills
	if r.Since > 0 && r.LogBad == "" {
		done := env.Begin("reading the kernel log at " + o.Kmsg)
		var seq uint64
		r.Victims, seq, r.LogNote = oomVictims(ctx, env, o.Kmsg, prev.KmsgSeq, r.Since)
		done()
		next.KmsgSeq = max(next.KmsgSeq, seq)
		if r.LogNote != "" && o.Kmsg != defaultKmsg {
			r.LogBad, r.LogNote = r.LogNote+" (--kmsg)", ""
		}
	}
	if next == prev && !r.Rebooted {
		return r, nil
	}
	return r, &next
}

// readOOMKills reads oom_kill from vmstat (Linux 4.13+).
func readOOMKills(k kernel) (uint64, error) { return kmsg.OOMKills(k.proc) }

// readBootID reads the boot id, "" when there is none (a fixture tree):
// a count that went down then still tells a reboot.
func readBootID(k kernel) string { return kmsg.BootID(k.proc) }

// oomVictims reads the kernel log after seq and returns the last n
// processes it says the OOM killer killed, the last sequence number
// read, or why it could not read the log.
func oomVictims(ctx context.Context, env *plugin.Env, path string, after, n uint64) ([]victim, uint64, string) {
	log, err := readLog(ctx, env.Files(), path, after)
	if err != nil {
		if errors.Is(err, kmsg.ErrNotPermitted) {
			return nil, 0, path + " not readable as uid " + strconv.Itoa(unix.Geteuid()) + " (dmesg_restrict): run as root, or with CAP_SYSLOG, to see them"
		}
		return nil, 0, err.Error()
	}
	vs := kmsg.OOMVictims(log.Records)
	if uint64(len(vs)) > n {
		vs = vs[uint64(len(vs))-n:]
	}
	return vs, log.Last, ""
}

// readLog reads the records after seq from path (see kmsg.ReadPath).
func readLog(ctx context.Context, src *files.Source, path string, after uint64) (kmsg.Log, error) {
	return kmsg.ReadPath(ctx, src, path, after, oomLogLimits)
}

// kmsgKind is kmsg.Kind.
func kmsgKind(ctx context.Context, src *files.Source, path string) (bool, error) {
	return kmsg.Kind(ctx, src, path)
}
