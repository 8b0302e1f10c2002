package blockdev

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// defaultFstab is --fstab's default: missing, it is no expectations (a
// container or a minimal system often has none); any other missing file
// was named on purpose and is UNKNOWN.
const defaultFstab = "/etc/fstab"

// Check holds the options: flags only.
type Check struct {
	plugin.ProcRoot
	plugin.SysRoot
	Devices        []string           `short:"d" long:"device" value-name:"DEVICE" description:"Check this device: name (sdb), /dev path or mount point; repeatable (default: all but loop, ram and zram)" unquote:"false"`
	Paths          []string           `short:"p" long:"path" value-name:"MOUNTPOINT" description:"Check the filesystem mounted here and its device; repeatable (default: every block-backed, network and FUSE filesystem but those -X and the defaults leave out)" unquote:"false"`
	All            bool               `short:"A" long:"all" description:"Include loop, ram and zram devices"`
	IncludeTypes   []string           `short:"N" long:"include-type" value-name:"FSTYPE" description:"Also check filesystems of this type, beyond the default set (tmpfs, or a desktop session's fuse.gvfsd-fuse or fuse.portal, left out by default); repeatable" unquote:"false"`
	ExcludeTypes   []string           `short:"X" long:"exclude-type" value-name:"FSTYPE" description:"Do not check filesystems of this type (fuse.lxcfs, nfs4); wins over -N; repeatable (default: every block-backed, network and FUSE filesystem is checked but a desktop session's)" unquote:"false"`
	ExcludePaths   []string           `short:"x" long:"exclude-path" value-name:"MOUNTPOINT" description:"Do not check the filesystem mounted here; repeatable" unquote:"false"`
	MountTimeout   threshold.Duration `long:"mount-timeout" value-name:"DURATION" description:"Time each mount has to answer statfs, stat and readdir (default: 0.3 of -t)" unquote:"false"`
	SampleInterval threshold.Duration `long:"sample-interval" default:"0" value-name:"DURATION" description:"Sample I/O counters twice this far apart within the run (0: compare with the last run only)" unquote:"false"`
	StallTime      threshold.Duration `long:"stall-time" default:"2s" value-name:"DURATION" description:"Shortest I/O stall (requests in flight, none completing) that is CRITICAL" unquote:"false"`
	AwaitWarning   threshold.Range    `long:"await-warning" value-name:"RANGE" description:"Mean I/O wait in ms (iostat's await) that is WARNING" unquote:"false"`
	AwaitCritical  threshold.Range    `long:"await-critical" value-name:"RANGE" description:"Mean I/O wait in ms that is CRITICAL" unquote:"false"`
	ExpectRW       bool               `long:"expect-rw" description:"Every checked filesystem must be read-write (default: those mounted rw in fstab)"`
	Fstab          string             `long:"fstab" default:"/etc/fstab" value-name:"FILE" description:"fstab that says which filesystems should be read-write" unquote:"false"`
	WriteTests     []string           `long:"write-test" value-name:"DIR" description:"Create, write, fsync and remove a small file in DIR, bounded; repeatable" unquote:"false"`
	ReadTests      []string           `long:"read-test" value-name:"FILE" description:"Read the first block of FILE (a regular file or a block device) with O_DIRECT, past the cache, bounded; repeatable" unquote:"false"`
	ForgetMissing  bool               `long:"forget-missing" description:"Forget devices that have gone since the last run (after removing one on purpose)"`
	StateFile      plugin.StateFile   `long:"state-file" value-name:"FILE" description:"Where I/O counters, devices and the kernel log position are kept between runs (default: per user under /var/tmp)" unquote:"false"`
	Kmsg           string             `long:"kmsg" default:"/dev/kmsg" value-name:"PATH" description:"Kernel log to read I/O errors from: a character device or a file of records (needs root where dmesg_restrict=1)" unquote:"false"`
	NoKmsg         bool               `long:"no-kmsg" description:"Do not read the kernel log: I/O error and filesystem error lines are then not seen"`
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
	for _, opt := range []struct{ name, value string }{
		{"--procfs", c.Procfs}, {"--sysfs", c.Sysfs}, {"--fstab", c.Fstab}, {"--kmsg", c.Kmsg},
	} {
		if opt.value == "" {
			return fmt.Errorf("%s: empty path", opt.name)
		}
	}
	if err := c.StateFile.Check(); err != nil {
		return fmt.Errorf("invalid --state-file: %w (use --state-file /dev/null to keep none)", err)
	}
	for _, d := range c.Devices {
		if strings.TrimSpace(d) == "" {
			return errors.New("-d: empty device name")
		}
	}
	return nil
}

// stateKey names the default state file: one per selection, so two
// services with different -d/-p on one host do not consume each other's
// history. The default selection keeps the plain name (no key).
func (c *Check) stateKey() []string {
	if len(c.Devices) == 0 && len(c.Paths) == 0 && len(c.IncludeTypes) == 0 && !c.All && c.Procfs == "/proc" && c.Sysfs == "/sys" {
		return nil
	}
	key := append([]string{c.Procfs, c.Sysfs, fmt.Sprint(c.All)}, c.Devices...)
	key = append(key, "--")
	key = append(key, c.Paths...)
	key = append(key, c.IncludeTypes...)
	sort.Strings(key[3:]) // -d b -d a and -d a -d b share one file
	return key
}

// wantType reports whether a mount of m's type is checked by default:
// block-backed ones for device health and responsiveness, network and
// FUSE ones for responsiveness (a hung server or daemon blocks every df
// on the host, in S where a D-state check does not see it). Pseudo
// filesystems have nothing to fail; a desktop session's FUSE helpers
// (GVfs, the document portal) belong to one login, refuse other users
// and come and go with it. -N adds types, -X removes them and wins.
func (c *Check) wantType(m mounts.Mount) bool {
	switch {
	case contains(c.ExcludeTypes, m.FSType):
		return false
	case contains(c.IncludeTypes, m.FSType):
		return true
	}
	switch mounts.KindOf(m) {
	case mounts.Block, mounts.Network:
		return true
	case mounts.Fuse:
		return !mounts.PerSession(m.FSType)
	}
	return false
}

// explicit reports whether devices or paths were chosen on the command line.
func (c *Check) explicit() bool { return len(c.Devices) > 0 || len(c.Paths) > 0 }
