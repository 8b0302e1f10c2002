package block

import (
	"testing"
	"time"
)

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
	r, err := NewReader("../../testdata/blockdev/faulty/proc", "../../testdata/blockdev/faulty/sys")
	if err != nil {
		t.Fatal(err)
	}
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
	if _, err := NewReader("", "/sys"); err == nil {
		t.Error("an empty procfs root was accepted (procfs would read the host)")
	}
}

func TestArraysWithoutMD(t *testing.T) {
	as, err := Arrays("../../testdata/blockdev/healthy/proc", "../../testdata/blockdev/healthy/sys")
	if err != nil || len(as) != 0 {
		t.Errorf("no mdstat: %v, %v", as, err)
	}
}
