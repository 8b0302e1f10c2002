package kmsg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Records as the lab captured them (blockdev-lab.md §1, §5).
const fixture = `3,1001,1167500000,-;I/O error, dev loop0, sector 128 op 0x0:(READ) flags 0x1000 phys_seg 1 prio class 2
 SUBSYSTEM=block
 DEVICE=b7:0
1,1002,1167500100,-;XFS (loop0): Metadata I/O Error (0x1) detected at xfs_trans_read_buf_map+0x1c1/0x330 (fs/xfs/xfs_trans_buf.c:311).  Shutting down filesystem.
3,1003,1171416700,-;INFO: task df:18741 blocked for more than 120 seconds.
6,1004,1171416800,-;tab\x09here
`

func TestParseAll(t *testing.T) {
	rs := ParseAll(fixture)
	if len(rs) != 4 {
		t.Fatalf("got %d records, want 4: %+v", len(rs), rs)
	}
	if r := rs[0]; r.Level != 3 || r.Seq != 1001 || r.Since != 1167500*time.Millisecond || r.Message != "I/O error, dev loop0, sector 128 op 0x0:(READ) flags 0x1000 phys_seg 1 prio class 2" {
		t.Errorf("first record %+v", r)
	}
	if rs[1].Level != 1 || rs[2].Message != "INFO: task df:18741 blocked for more than 120 seconds." {
		t.Errorf("records %+v", rs[1:3])
	}
	if rs[3].Message != "tab\there" {
		t.Errorf("escape not decoded: %q", rs[3].Message)
	}
	for _, bad := range []string{"", "no semicolon", "a,b,c;x", "1,2;x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): want an error", bad)
		}
	}
}

func TestReadFileAfter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsg")
	os.WriteFile(path, []byte(fixture), 0o644)
	rs, err := Read(path, 1002)
	if err != nil || len(rs) != 2 || rs[0].Seq != 1003 {
		t.Fatalf("Read after 1002: %+v, %v", rs, err)
	}
}

func TestReadDevice(t *testing.T) {
	rs, err := Read("/dev/kmsg", 0)
	if os.Geteuid() != 0 {
		if !errors.Is(err, ErrNotPermitted) {
			t.Skipf("not root, and /dev/kmsg answered %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("read /dev/kmsg as root: %v", err)
	}
	if len(rs) == 0 {
		t.Fatal("no records in /dev/kmsg")
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Seq <= rs[i-1].Seq {
			t.Fatalf("sequence numbers do not increase: %d after %d", rs[i].Seq, rs[i-1].Seq)
		}
	}
	last := rs[len(rs)-1].Seq
	again, err := Read("/dev/kmsg", last)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r.Seq <= last {
			t.Errorf("record %d returned although only records after %d were asked for", r.Seq, last)
		}
	}
}

func TestReadDeviceRefusesWhatIsNotTheLog(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	_, err := ReadDevice(ctx, "/dev/zero", 0, DefaultLimits)
	if !errors.Is(err, ErrNotKmsg) || !strings.Contains(err.Error(), "/dev/zero") {
		t.Errorf("/dev/zero: %v, want ErrNotKmsg naming it", err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDevice(ctx, fifo, 0, DefaultLimits); !errors.Is(err, ErrNotDevice) {
		t.Errorf("FIFO: %v, want ErrNotDevice", err)
	}
	if _, err := ReadDevice(ctx, dir, 0, DefaultLimits); !errors.Is(err, ErrNotDevice) {
		t.Errorf("directory: %v, want ErrNotDevice", err)
	}
	if _, err := Read("/dev/urandom", 0); err == nil {
		t.Error("Read(/dev/urandom): no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestFilterKeepsTheNewest(t *testing.T) {
	log := Filter(ParseAll(fixture), 1001, Limits{Records: 2})
	if len(log.Records) != 2 || log.Records[0].Seq != 1003 || log.Last != 1004 || log.Dropped != 1 {
		t.Errorf("%+v", log)
	}
}

func TestReadDeviceBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for /dev/kmsg")
	}
	log, err := ReadDevice(context.Background(), "/dev/kmsg", 0, Limits{Bytes: 1 << 20, Records: 3})
	if err != nil || len(log.Records) > 3 || log.Last == 0 {
		t.Errorf("%d records, last %d, dropped %d: %v", len(log.Records), log.Last, log.Dropped, err)
	}
}
