package blockdev

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Across runs: the state file carries counters, errors and hung mounts.
func TestAcrossRuns(t *testing.T) {
	type step struct {
		fx   fixture
		wait time.Duration // clock advance before this run
		want []expect
		not  []string
	}
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "stall across runs",
		steps: []step{
			{fx: fixture{dir: "stalled", samples: []string{"t0/sys"}}, want: []expect{{"sdb (scsi)", plugin.OK, []string{"4 in flight"}}}},
			{fx: fixture{dir: "stalled", samples: []string{"t1/sys"}}, wait: 45 * time.Second,
				want: []expect{{"sdb (scsi)", plugin.CRITICAL, []string{"I/O stalled on sdb for 45s, 4 requests in flight"}}}},
			{fx: fixture{dir: "stalled", samples: []string{"t1/sys"}}, wait: 60 * time.Second,
				// same counters, io_ticks did not grow in the fixture: not a stall signature
				want: []expect{{"sdb (scsi)", plugin.OK, nil}}},
		},
	}, {
		name: "ioerr_cnt growth",
		steps: []step{
			{fx: fixture{dir: "faulty", args: []string{"-d", "sda"}}, want: []expect{{"sda (scsi)", plugin.OK, nil}}},
			{fx: fixture{dir: "errors", args: []string{"-d", "sda"}}, wait: 5 * time.Minute,
				want: []expect{{"sda (scsi)", plugin.CRITICAL, []string{"13 I/O errors since the last run (ioerr_cnt 13)"}}}},
			{fx: fixture{dir: "errors", args: []string{"-d", "sda"}}, wait: 5 * time.Minute,
				want: []expect{{"sda (scsi)", plugin.OK, nil}}},
		},
	}, {
		name: "kernel log lines are counted once, from the second run on",
		steps: []step{
			{fx: fixture{dir: "errors", args: []string{"--kmsg", "/dev/null"}}, want: []expect{{"sda (scsi)", plugin.OK, nil}}},
			{fx: fixture{dir: "errors"}, want: []expect{
				{"sda (scsi)", plugin.CRITICAL, []string{"2 I/O error lines in the kernel log since the last run", "last: Buffer I/O error on dev sda1"}},
				{"/srv (loop0, xfs)", plugin.CRITICAL, []string{"XFS shut down: XFS (loop0): Log I/O Error"}},
			}},
			{fx: fixture{dir: "errors"}, wait: time.Minute, want: []expect{
				{"sda (scsi)", plugin.OK, nil},
				{"/srv (loop0, xfs)", plugin.OK, nil},
			}},
		},
	}, {
		name: "a device gone stays critical until it is back or forgotten",
		steps: []step{
			{fx: fixture{dir: "healthy"}, want: []expect{{"vda (virtio)", plugin.OK, nil}}},
			{fx: fixture{dir: "errors"}, wait: time.Minute, want: []expect{{"vda", plugin.CRITICAL, []string{"device has gone since 2026-11-21 12:01:00"}}}},
			{fx: fixture{dir: "errors"}, wait: time.Minute, want: []expect{{"vda", plugin.CRITICAL, []string{"device has gone since 2026-11-21 12:01:00"}}}},
			{fx: fixture{dir: "errors", args: []string{"--forget-missing"}}, wait: time.Minute, not: []string{"vda"}},
			{fx: fixture{dir: "errors"}, wait: time.Minute, not: []string{"vda"}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &memState{}
			clock := &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
			for i, s := range tt.steps {
				clock.t = clock.t.Add(s.wait)
				s.fx.clock, s.fx.state = clock, mem
				res, out := s.fx.run(t)
				t.Logf("run %d:\n%s", i+1, out)
				checkFindings(t, res, out, s.want)
				for _, p := range s.not {
					if f, ok := findingFor(res, p); ok {
						t.Errorf("run %d: unexpected finding %q", i+1, f.Text)
					}
				}
			}
		})
	}
}

// A mount whose probe child (from an earlier run, or another plugin) is
// still stuck is not probed again: the prober answers at once with since
// when it is hung, and the finding says so. (It was the check's own memory
// of stuck pids in the state file; now it is the prober's shared registry.)
func TestKnownHungMountNotProbedAgain(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	since := clock.t.Add(-5 * time.Minute)
	hung := hungProber{since: since, pid: 4242, targets: map[string]bool{"/mnt/nfs": true}}
	fx := fixture{dir: "healthy", args: []string{"-p", "/mnt/nfs", "--read-test", "/mnt/nfs/file", "--write-test", "/mnt/nfs"}, clock: clock}
	res, out := fx.runWith(t, hung)
	stamp := since.Local().Format("2006-01-02 15:04:05")
	checkFindings(t, res, out, []expect{
		{"/mnt/nfs", plugin.CRITICAL, []string{"still hung since " + stamp + " (5m ago): the probe (pid 4242) has not returned and is not probed again"}},
		{"direct read of /mnt/nfs/file", plugin.CRITICAL, []string{"still hung since " + stamp, "(mount /mnt/nfs)"}},
		{"write test in /mnt/nfs", plugin.CRITICAL, []string{"still hung since " + stamp}},
	})
	// The mount answers again: probed as usual.
	fx.args = []string{"-p", "/mnt/nfs"}
	res, out = fx.runWith(t, fakeProber{})
	checkFindings(t, res, out, []expect{{"/mnt/nfs", plugin.OK, nil}})
}

// hungProber answers every request on its targets as the prober does for
// a target whose stuck child holds the lock.
type hungProber struct {
	since   time.Time
	pid     int
	targets map[string]bool
}

func (h hungProber) Do(ctx context.Context, budget time.Duration, req isolate.Request) (isolate.Reply, error) {
	if h.targets[req.Target] {
		return isolate.Reply{}, &isolate.TimeoutError{Req: req, Budget: budget, Pid: h.pid, Since: h.since}
	}
	return fakeProber{}.Do(ctx, budget, req)
}

// A kernel log that cannot be read was a note under -v; it is now UNKNOWN
// saying what is not seen (the issue: not plain OK), unless --no-kmsg.
func TestKernelLogNotReadable(t *testing.T) {
	fx := fixture{dir: "healthy", args: []string{"--kmsg", "/nonexistent/kmsg"}}
	res, out := fx.run(t)
	if res.State() != plugin.UNKNOWN || !strings.Contains(out, "kernel log /nonexistent/kmsg: ") || !strings.Contains(out, "I/O error and filesystem error lines are not seen") {
		t.Errorf("want UNKNOWN naming the kernel log and what is not seen:\n%s", out)
	}
	fx.args = append(fx.args, "--no-kmsg")
	if res, out := fx.run(t); res.State() != plugin.OK {
		t.Errorf("with --no-kmsg: want OK\n%s", out)
	}
}
