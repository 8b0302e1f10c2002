// Package blockdev is check_blockdev: are the block devices and the
// filesystems on them alive, answering, error-free and writable? It finds
// what postmortem 001 missed (a dead device under XFS, three hours of 403)
// and never hangs on a dead mount the way df did in postmortem 000.
package blockdev

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
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

Counters, a hung mount's stuck probe and the kernel log position are kept in
a state file between runs (--state-file).

Examples:
  check_blockdev
  check_blockdev -p /srv -p /var/www --mount-timeout 2s
  check_blockdev -d sdb --sample-interval 2s --await-warning 50 --await-critical 200
  check_blockdev -N nfs4 -p /mnt/backup
  check_blockdev -p /srv --write-test /srv/.probe --read-test /srv/www/index.html`

// Check holds the options and runs the check.
type Check struct {
	plugin.ProcRoot
	plugin.SysRoot
	Devices        []string           `short:"d" long:"device" value-name:"DEVICE" description:"Check this device: name (sdb), /dev path or mount point; repeatable (default: all but loop, ram and zram)"`
	Paths          []string           `short:"p" long:"path" value-name:"MOUNTPOINT" description:"Check the filesystem mounted here and its device; repeatable (default: every block-backed filesystem)"`
	All            bool               `short:"A" long:"all" description:"Include loop, ram and zram devices"`
	IncludeTypes   []string           `short:"N" long:"include-type" value-name:"FSTYPE" description:"Also check filesystems of this type (nfs4, fuse.sshfs, tmpfs); repeatable"`
	ExcludeTypes   []string           `short:"X" long:"exclude-type" value-name:"FSTYPE" description:"Do not check filesystems of this type; repeatable"`
	ExcludePaths   []string           `short:"x" long:"exclude-path" value-name:"MOUNTPOINT" description:"Do not check the filesystem mounted here; repeatable"`
	MountTimeout   threshold.Duration `long:"mount-timeout" value-name:"DURATION" description:"Time each mount has to answer statfs, stat and readdir (default: 0.3 of -t)"`
	SampleInterval threshold.Duration `long:"sample-interval" default:"0" value-name:"DURATION" description:"Sample I/O counters twice this far apart within the run (0: compare with the last run only)"`
	StallTime      threshold.Duration `long:"stall-time" default:"2s" value-name:"DURATION" description:"Shortest I/O stall (requests in flight, none completing) that is CRITICAL"`
	AwaitWarning   threshold.Range    `long:"await-warning" value-name:"RANGE" description:"Mean I/O wait in ms (iostat's await) that is WARNING"`
	AwaitCritical  threshold.Range    `long:"await-critical" value-name:"RANGE" description:"Mean I/O wait in ms that is CRITICAL"`
	ExpectRW       bool               `long:"expect-rw" description:"Every checked filesystem must be read-write (default: those mounted rw in fstab)"`
	Fstab          string             `long:"fstab" default:"/etc/fstab" value-name:"FILE" description:"fstab that says which filesystems should be read-write"`
	WriteTests     []string           `long:"write-test" value-name:"DIR" description:"Create, write, fsync and remove a small file in DIR, bounded; repeatable"`
	ReadTests      []string           `long:"read-test" value-name:"FILE" description:"Read the first block of FILE with O_DIRECT, past the cache, bounded; repeatable"`
	ForgetMissing  bool               `long:"forget-missing" description:"Forget devices that have gone since the last run (after removing one on purpose)"`
	StateFile      string             `long:"state-file" value-name:"FILE" description:"Where counters and hung mounts are kept between runs (default: per user under /var/tmp)"`
	Kmsg           string             `long:"kmsg" default:"/dev/kmsg" value-name:"PATH" description:"Kernel log to read I/O errors from (needs root where dmesg_restrict=1)"`

	// Test hooks: the sysfs root of sample i (0 or 1) and how to wait
	// between samples, so two fixture snapshots can be fed.
	sysAt  func(sample int) string
	sleep  func(ctx context.Context, d time.Duration) error
	prober mounts.Prober // nil: the runtime's isolated prober
}

// Validate checks the options that go-flags cannot.
func (c *Check) Validate() error {
	if time.Duration(c.MountTimeout) < 0 || time.Duration(c.SampleInterval) < 0 || time.Duration(c.StallTime) < 0 {
		return errors.New("durations must not be negative")
	}
	for _, opt := range []struct {
		name  string
		paths []string
	}{{"-p", c.Paths}, {"-x", c.ExcludePaths}, {"--write-test", c.WriteTests}, {"--read-test", c.ReadTests}} {
		for _, p := range opt.paths {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("%s %q: give an absolute path", opt.name, p)
			}
		}
	}
	for _, d := range c.Devices {
		if strings.TrimSpace(d) == "" {
			return errors.New("-d: empty device name")
		}
	}
	return nil
}

// Run gathers and judges devices and filesystems.
func (c *Check) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	if c.sysAt == nil {
		c.sysAt = func(int) string { return c.Sysfs }
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	r := &run{c: c, env: env, ctx: ctx, now: env.Now()}
	if err := r.loadState(); err != nil {
		return plugin.Result{}, err
	}
	if err := r.gather(); err != nil {
		return plugin.Result{}, err
	}
	res := r.judge()
	if err := r.saveState(); err != nil && env.Verbose > 0 {
		res.Note("state not saved: " + err.Error())
	}
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statePath is the state file: one per selection, so two services with
// different -d/-p on one host do not consume each other's history.
func (c *Check) statePath() string {
	if c.StateFile != "" {
		return c.StateFile
	}
	key := append([]string{c.Procfs, c.Sysfs, fmt.Sprint(c.All)}, c.Devices...)
	key = append(key, "--")
	key = append(key, c.Paths...)
	key = append(key, c.IncludeTypes...)
	sorted := append([]string(nil), key...)
	sort.Strings(sorted[3:])
	if len(c.Devices) == 0 && len(c.Paths) == 0 && len(c.IncludeTypes) == 0 && !c.All && c.Procfs == "/proc" && c.Sysfs == "/sys" {
		return state.DefaultPath("check_blockdev")
	}
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\x00")))
	return state.DefaultPath("check_blockdev-" + hex.EncodeToString(sum[:4]))
}
