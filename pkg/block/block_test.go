package block

import (
	"context"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// tree is a fixture directory read as the check reads sysfs.
func tree(root string) *files.Dir {
	src := files.New(isolate.NewProber(""), func() time.Duration { return time.Second }, "/proc/self/mountinfo")
	return src.Dir(context.Background(), root)
}

func TestDiff(t *testing.T) {
	a := Counters{Reads: 100, ReadMs: 50, Writes: 10, WriteMs: 50, IOTicks: 1000, InFlight: 0}
	b := Counters{Reads: 150, ReadMs: 150, Writes: 60, WriteMs: 150, IOTicks: 1500, InFlight: 1}
	d := Diff(a, b, 2*time.Second)
	if !d.Valid || d.Completed != 100 || d.AwaitMs != 2 || d.UtilPct != 25 || d.Stalled {
		t.Errorf("Diff = %+v", d)
	}
	stuck := Counters{Reads: 751, InFlight: 4, IOTicks: 6180}
	later := stuck
	later.IOTicks = 643152
	if d := Diff(stuck, later, 636972*time.Millisecond); !d.Stalled || d.UtilPct != 100 {
		t.Errorf("hung disk (blockdev-lab 1d) not a stall: %+v", d)
	}
	if d := Diff(b, a, time.Second); d.Valid {
		t.Errorf("counters going back (reboot) gave a valid delta: %+v", d)
	}
}

func TestReadDevices(t *testing.T) {
	r := NewReader(tree("../../testdata/blockdev/faulty/sys"))
	want := map[string]func(Device) bool{
		"sda": func(d Device) bool {
			return d.Kind == "scsi" && d.SCSIState == "running" && d.HasIOErr && len(d.Partitions) == 1
		},
		"sdb": func(d Device) bool { return d.SCSIState == "offline" },
		"sdc": func(d Device) bool { return d.RO && d.Partitions[0].RO },
		"vdb": func(d Device) bool { return d.Kind == "virtio" && d.VirtioStatus == 0x8f },
		"dm-0": func(d Device) bool {
			return d.Kind == "dm" && d.DMSuspended && d.DMName == "vg0-data" && len(d.Slaves) == 1
		},
	}
	for name, ok := range want {
		d, err := r.Read(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ok(d) {
			t.Errorf("%s: %+v", name, d)
		}
	}
}

func TestArraysWithoutMD(t *testing.T) {
	as, err := Arrays(tree("../../testdata/blockdev/healthy/proc"), tree("../../testdata/blockdev/healthy/sys"))
	if err != nil || len(as) != 0 {
		t.Errorf("no mdstat: %v, %v", as, err)
	}
}

func TestArrays(t *testing.T) {
	as, err := Arrays(tree("../../testdata/blockdev/md/proc"), tree("../../testdata/blockdev/md/sys"))
	if err != nil || len(as) != 4 {
		t.Fatalf("arrays: %+v, %v", as, err)
	}
	md0, md1, md2, md3 := as[0], as[1], as[2], as[3]
	if md0.Level != "raid1" || md0.Disks != 2 || md0.Active != 1 || md0.Degraded != 1 || len(md0.Failed) != 1 || md0.Failed[0] != "sdb1" {
		t.Errorf("md0 %+v", md0)
	}
	if md1.SyncAction != "recover" || md1.FinishMin != 0.6 || md1.Degraded != 1 {
		t.Errorf("md1 %+v", md1)
	}
	if md2.Level != "raid5" || md2.Disks != 3 || md2.Active != 3 || md2.Degraded != 0 {
		t.Errorf("md2 %+v", md2)
	}
	if md3.State != "inactive" || md3.Disks != 0 {
		t.Errorf("md3 %+v", md3)
	}
}

func TestParseMDStat(t *testing.T) {
	text := "Personalities : [raid0] [raid1]\nmd0 : active (auto-read-only) raid1 sdb[1] sda[0]\n      100 blocks super 1.2 [2/2] [UU]\n      [==>...]  resync = 12.5% (12/100) finish=3.2min speed=1K/sec\n\nmd1 : active raid0 sdc[1] sdd[0]\n      200 blocks super 1.2 512k chunks\n\nunused devices: <none>\n"
	as := ParseMDStat([]byte(text))
	if len(as) != 2 {
		t.Fatalf("%+v", as)
	}
	if a := as[0]; a.Level != "raid1" || a.SyncAction != "resync" || a.SyncPct != 12.5 || a.FinishMin != 3.2 || a.Disks != 2 {
		t.Errorf("md0 %+v", a)
	}
	if a := as[1]; a.Level != "raid0" || a.Disks != 2 || a.Active != 2 {
		t.Errorf("md1 %+v", a)
	}
	if as := ParseMDStat([]byte("\x00\x00garbage\n  more")); len(as) != 0 {
		t.Errorf("garbage gave %+v", as)
	}
}

func TestParseStat(t *testing.T) {
	c, err := ParseStat([]byte("    1000       10     8000      500     2000       20    16000     1500        3     3000     2000        0        0        0        0       50       30\n"))
	if err != nil || c.Reads != 1000 || c.Writes != 2000 || c.InFlight != 3 || c.IOTicks != 3000 || c.Flushes != 50 || c.FlushMs != 30 {
		t.Errorf("%+v, %v", c, err)
	}
	for _, bad := range []string{"", "1 2 3", "a b c d e f g h i j k"} {
		if _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q): want an error", bad)
		}
	}
}
