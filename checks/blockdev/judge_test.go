package blockdev

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// judge alone, on observations made by hand: no host, no files.
func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	root := &fsObs{Mount: mounts.Mount{MountPoint: "/", FSType: "ext4", Major: 8, Minor: 1}, Node: block.Node{Disk: "sda", Name: "sda1"}}
	sda := devObs{Device: block.Device{Name: "sda", Kind: "scsi", Dev: "8:0", Sectors: 2048, SCSIState: "running",
		Counters: block.Counters{Reads: 100, InFlight: 4, IOTicks: 1000}, HasIOErr: true, IOErrors: 3}}
	base := func() observations {
		r := *root
		return observations{Now: now, BootID: "b1", Budget: 3 * time.Second, Devs: []devObs{sda},
			All: []block.Device{sda.Device}, FSs: []*fsObs{&r}, Nodes: map[string]block.Node{"8:1": root.Node}}
	}
	prevAt := now.Add(-time.Minute)
	prevSda := savedDevice{Counters: block.Counters{Reads: 100, InFlight: 4, IOTicks: 500}, At: prevAt, HasIOErr: true, IOErrors: 1}
	tests := []struct {
		name     string
		args     []string
		obs      func(*observations)
		prev     *saved
		state    plugin.State
		words    []string
		nextSeq  uint64
		absent   []string
		noDevice bool
	}{{
		name:  "all well",
		state: plugin.OK,
		words: []string{"1 device, 1 filesystem OK"},
	}, {
		name:  "stall and error growth since the last run",
		prev:  &saved{BootID: "b1", At: prevAt, Devices: map[string]savedDevice{"sda": prevSda}},
		state: plugin.CRITICAL,
		words: []string{"I/O stalled on sda for 1m, 4 requests in flight", "2 I/O errors since the last run (ioerr_cnt 3)"},
	}, {
		name:  "a reboot forgets the last run",
		prev:  &saved{BootID: "b0", At: prevAt, Devices: map[string]savedDevice{"sda": prevSda, "sdz": {At: prevAt}}},
		state: plugin.OK,
	}, {
		name:  "a device gone since the last run",
		prev:  &saved{BootID: "b1", At: prevAt, Devices: map[string]savedDevice{"sdz": {At: prevAt}}},
		state: plugin.CRITICAL,
		words: []string{"sdz: device has gone since 2026-11-21 12:00:00"},
	}, {
		name: "a mount hung in this run",
		obs: func(o *observations) {
			o.FSs[0].Probe = mounts.ProbeResult{Op: isolate.Stat, Hung: true, Pids: []int{7}}
		},
		state: plugin.CRITICAL,
		words: []string{"/ (sda1, ext4): no answer to stat in 3s"},
	}, {
		name: "a mount hung before: since when",
		obs: func(o *observations) {
			o.FSs[0].Probe = mounts.ProbeResult{Op: isolate.Statfs, Hung: true, Since: now.Add(-90 * time.Second), Pid: 7}
		},
		state: plugin.CRITICAL,
		words: []string{"still hung since ", "(1m30s ago): the probe (pid 7) has not returned and is not probed again"},
	}, {
		name: "a FUSE mount hung in this run: named with its type",
		obs: func(o *observations) {
			o.FSs = append(o.FSs, &fsObs{Mount: mounts.Mount{MountPoint: "/mnt/gluster", FSType: "fuse.glusterfs", Source: "gl1:/vol0", Minor: 47}, Kind: mounts.Fuse,
				Probe: mounts.ProbeResult{Op: isolate.Statfs, Hung: true, Pids: []int{8}}})
		},
		state: plugin.CRITICAL,
		words: []string{"BLOCKDEV CRITICAL - /mnt/gluster (gl1:/vol0, fuse.glusterfs): no answer to statfs in 3s"},
	}, {
		name: "a network mount still hung from an earlier run",
		obs: func(o *observations) {
			o.FSs = append(o.FSs, &fsObs{Mount: mounts.Mount{MountPoint: "/mnt/nfs", FSType: "nfs4", Source: "srv:/export", Minor: 45}, Kind: mounts.Network,
				Probe: mounts.ProbeResult{Op: isolate.Statfs, Hung: true, Since: now.Add(-10 * time.Minute), Pid: 9}})
		},
		state: plugin.CRITICAL,
		words: []string{"/mnt/nfs (srv:/export, nfs4): still hung since ", "(10m ago): the probe (pid 9)"},
	}, {
		name: "a FUSE daemon that died: ENOTCONN",
		obs: func(o *observations) {
			o.FSs = append(o.FSs, &fsObs{Mount: mounts.Mount{MountPoint: "/mnt/s3", FSType: "fuse.s3fs", Source: "s3fs", Minor: 46}, Kind: mounts.Network,
				Probe: mounts.ProbeResult{Op: isolate.Statfs, Errno: syscall.ENOTCONN}})
		},
		state: plugin.CRITICAL,
		words: []string{"/mnt/s3 (s3fs, fuse.s3fs): Transport endpoint is not connected on statfs (ENOTCONN): its FUSE daemon has gone; unmount and mount it again"},
	}, {
		name: "ENOTCONN on a block filesystem: no word of a daemon",
		obs: func(o *observations) {
			o.FSs[0].Probe = mounts.ProbeResult{Op: isolate.Stat, Errno: syscall.ENOTCONN}
		},
		state:  plugin.CRITICAL,
		words:  []string{"Transport endpoint is not connected on stat (ENOTCONN)"},
		absent: []string{"daemon"},
	}, {
		name: "a FUSE mount that refuses this user is not a fault",
		obs: func(o *observations) {
			o.FSs = append(o.FSs, &fsObs{Mount: mounts.Mount{MountPoint: "/home/u/remote", FSType: "fuse.sshfs", Source: "u@h:", Minor: 48}, Kind: mounts.Network,
				Probe: mounts.ProbeResult{Op: isolate.Statfs, Errno: syscall.EACCES}})
		},
		state: plugin.OK,
		words: []string{"1 device, 2 filesystems OK"},
	}, {
		name: "EIO on stat",
		obs: func(o *observations) {
			o.FSs[0].Probe = mounts.ProbeResult{Op: isolate.Stat, Errno: syscall.EIO}
		},
		state: plugin.CRITICAL,
		words: []string{"Input/output error on stat (EIO)"},
	}, {
		name: "a path test on the wrong kind of file",
		obs: func(o *observations) {
			o.Tests = []*testObs{{Op: isolate.ReadDirect, Path: "/srv/fifo", Bad: "/srv/fifo is a FIFO: give a regular file or a block device"}}
		},
		state: plugin.UNKNOWN,
		words: []string{"direct read of /srv/fifo: --read-test /srv/fifo is a FIFO"},
	}, {
		name: "kernel log not readable",
		obs: func(o *observations) {
			o.LogProblem = "/dev/kmsg: not readable as uid 110 (dmesg_restrict)"
		},
		state: plugin.UNKNOWN,
		words: []string{"kernel log /dev/kmsg: not readable as uid 110 (dmesg_restrict): I/O error and filesystem error lines are not seen"},
	}, {
		name: "kernel log lines since the last run only",
		prev: &saved{BootID: "b1", At: prevAt, KmsgSeq: 10, Devices: map[string]savedDevice{"sda": {Counters: sda.Counters, At: prevAt, HasIOErr: true, IOErrors: 3}}},
		obs: func(o *observations) {
			o.Log = kmsg.Log{Last: 12, Records: []kmsg.Record{
				{Seq: 9, Message: "I/O error, dev sda, sector 1"},
				{Seq: 11, Message: "I/O error, dev sda, sector 2"},
				{Seq: 12, Message: "EXT4-fs error (device sda1): ext4_lookup:1: inode #2"},
			}}
		},
		state:   plugin.CRITICAL,
		words:   []string{"1 I/O error line in the kernel log since the last run, last: I/O error, dev sda, sector 2", "1 filesystem error line"},
		nextSeq: 12,
	}, {
		name: "first run: the kernel log position only",
		obs: func(o *observations) {
			o.Log = kmsg.Log{Last: 12, Records: []kmsg.Record{{Seq: 11, Message: "I/O error, dev sda, sector 2"}}}
		},
		state:   plugin.OK,
		nextSeq: 12,
	}, {
		name: "read-only against --expect-rw",
		args: []string{"--expect-rw"},
		obs: func(o *observations) {
			o.FSs[0].Options = map[string]string{"ro": ""}
			o.FSs[0].ExpectRW = "--expect-rw"
		},
		state: plugin.CRITICAL,
		words: []string{"mounted read-only, expected read-write (--expect-rw)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := parseArgs(t, tt.args...)
			obs := base()
			if tt.obs != nil {
				tt.obs(&obs)
			}
			var prev saved
			if tt.prev != nil {
				prev = *tt.prev
			}
			res, next := judge(c, obs, prev, tt.prev != nil)
			out := plugin.Render("BLOCKDEV", res, 16384)
			if res.State() != tt.state {
				t.Errorf("state %s, want %s\n%s", plugin.StateName(res.State()), plugin.StateName(tt.state), out)
			}
			for _, w := range tt.words {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if next.KmsgSeq != tt.nextSeq || next.BootID != "b1" || !next.At.Equal(now) {
				t.Errorf("next state %+v, want kernel log position %d", next, tt.nextSeq)
			}
			if _, ok := next.Devices["sda"]; !ok {
				t.Errorf("sda not remembered: %+v", next.Devices)
			}
		})
	}
}

// judge does not change what it is given: the same observations judged
// twice give the same result.
func TestJudgeIsPure(t *testing.T) {
	c, _ := parseArgs(t)
	r := &fsObs{Mount: mounts.Mount{MountPoint: "/srv"}, Probe: mounts.ProbeResult{Op: isolate.Stat, Errno: syscall.EIO}}
	obs := observations{Now: time.Unix(1e9, 0), FSs: []*fsObs{r}, Devs: []devObs{{Device: block.Device{Name: "vda"}}}}
	a, _ := judge(c, obs, saved{}, false)
	b, _ := judge(c, obs, saved{}, false)
	if plugin.Render("X", a, 4096) != plugin.Render("X", b, 4096) {
		t.Error("two judgements of the same observations differ")
	}
}
