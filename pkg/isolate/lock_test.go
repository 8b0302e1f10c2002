package isolate

import (
	"os"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 123)
	r := record{Pid: 42, Since: now, Deadline: now.Add(time.Second), Target: "/mnt/with space\tand tab"}
	got, ok := parseRecord(r.String())
	if !ok || got.Pid != 42 || !got.Since.Equal(now) || !got.Deadline.Equal(r.Deadline) || got.Target != r.Target {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "pid=1", "pid=x since=1 deadline=2 target=\"a\"", "pid=1 since=1 deadline=2 target=a"} {
		if _, ok := parseRecord(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}

// A lock held past its deadline by a live process is a stuck target; one
// within its deadline is work in progress; a released one leaves no file.
func TestStuckHolder(t *testing.T) {
	dir := t.TempDir()
	release, err := lockTarget(dir, "/mnt/a", time.Now().Add(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, stuck := stuckHolder(dir, "/mnt/a", time.Now()); stuck {
		t.Error("a lock within its deadline is reported stuck")
	}
	rec, stuck := stuckHolder(dir, "/mnt/a", time.Now().Add(time.Second))
	if !stuck || rec.Pid != os.Getpid() || rec.Target != "/mnt/a" || time.Since(rec.Since) > time.Second {
		t.Errorf("past its deadline: %+v stuck=%v", rec, stuck)
	}
	if _, stuck := stuckHolder(dir, "/mnt/b", time.Now().Add(time.Second)); stuck {
		t.Error("another target is reported stuck")
	}
	release(true)
	if _, stuck := stuckHolder(dir, "/mnt/a", time.Now().Add(time.Second)); stuck {
		t.Error("a released lock is reported stuck")
	}
	if _, err := os.Stat(lockPath(dir, "/mnt/a")); !os.IsNotExist(err) {
		t.Errorf("a finished target leaves its lock file: %v", err)
	}
}

func TestRequestLineRoundTrip(t *testing.T) {
	req := Request{Op: Statfs, Then: []Op{Stat, Readdir}, Path: "/a\tb\nc", Max: 7, Depth: 2, Target: "/a"}
	dl := time.Unix(1700000000, 5)
	line := requestLine(req, dl)
	got, deadline, ok := parseRequestLine(line[:len(line)-1])
	if !ok || !deadline.Equal(dl) || got.Op != Statfs || len(got.Then) != 2 || got.Path != req.Path || got.Max != 7 || got.Depth != 2 || got.Target != "/a" {
		t.Fatalf("round trip: %+v %v %v", got, deadline, ok)
	}
}
