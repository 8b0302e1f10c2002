// Package blockdev is check_blockdev: are the block devices and the
// filesystems on them alive, answering, error-free and writable? It finds
// what postmortem 001 missed (a dead device under XFS, three hours of 403)
// and never hangs on a dead mount the way df did in postmortem 000.
//
// options.go holds the flags, gather*.go all I/O (through the runtime's
// file source and prober), judge*.go turns what was gathered and the last
// run's state into findings and the next state, state.go is that state.
package blockdev

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Plugin is check_blockdev.
var Plugin = plugin.Plugin{
	Name:    "check_blockdev",
	Service: "BLOCKDEV",
	Summary: "Check that block devices and their filesystems are alive, answering, error-free and writable",
	Usage:   "[-d DEVICE]... [-p MOUNTPOINT]... [OPTIONS]",
	Group:   "Block device options",
	Help:    help,
	New:     func() plugin.Check { return &Check{} },
}

const help = `Devices (from sysfs): SCSI state not running, virtio FAILED/NEEDS_RESET,
size 0, a device gone since the last run, read-only under a read-write mount,
hung I/O (requests in flight, none completing, io_ticks growing), SCSI
ioerr_cnt growth and kernel log I/O errors since the last run (root), md
RAID degraded/failed/rebuilding, device-mapper suspended. loop, ram and zram
devices are checked only when named or with --all.

Filesystems (every block-backed mount by default; network, FUSE and pseudo
filesystems only when named with -p or included with -N): statfs, stat and
readdir of the mount point in a disposable child process with a per-mount
budget, so a hung mount is a finding and never a hang; EIO, ENOTCONN, ESTALE;
read-only or ext4 emergency_ro against expectation; ext4 errors_count; XFS
shutdown lines in the kernel log. Free space is check_disk's job.

A hung mount costs one stuck child process at most, whatever probes it
(-p, --read-test, --write-test, any run, any hindsight plugin): later probes
of it say "still hung since ..." at once, until it answers again.

Counters, devices and the kernel log position are kept in a state file
between runs (--state-file); a state file that cannot be used is UNKNOWN,
saying what is off. A kernel log that cannot be read (not root where
dmesg_restrict=1, or not a kernel log) is UNKNOWN, saying what is not seen:
run as root, or give --no-kmsg to go without it. A path option that names
something else than it expects (a FIFO, a device, a directory, a missing
file) is UNKNOWN naming the path.

Examples:
  check_blockdev
  check_blockdev -p /srv -p /var/www --mount-timeout 2s
  check_blockdev -d sdb --sample-interval 2s --await-warning 50 --await-critical 200
  check_blockdev -N nfs4 -p /mnt/backup
  check_blockdev -p /srv --write-test /srv/.probe --read-test /srv/www/index.html`

// StateSpec says where the state lives and what is lost without it.
func (c *Check) StateSpec() plugin.StateSpec {
	return plugin.StateSpec{
		Path:    plugin.StatePath(c.StateFile, false, stateKind, c.stateKey()...),
		Kind:    stateKind,
		Version: stateVersion,
		Lost:    "stall, error-growth, gone-device and kernel log detection across runs",
	}
}

// Run gathers, then judges against the last run's state.
func (c *Check) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	obs, err := gather(ctx, env, c)
	if err != nil {
		return plugin.Result{}, err
	}
	var prev saved
	found := env.PrevState(&prev)
	res, next := judge(c, obs, prev, found)
	env.SaveState(next)
	return res, nil
}
