package blockdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
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
			stateFile := filepath.Join(t.TempDir(), "state.json")
			clock := &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
			for i, s := range tt.steps {
				clock.t = clock.t.Add(s.wait)
				s.fx.clock, s.fx.state = clock, stateFile
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

// A mount whose probe child from an earlier run is still stuck is not
// probed again: the stuck children would pile up, one per run.
func TestKnownHungMountNotProbedAgain(t *testing.T) {
	proc := t.TempDir()
	copyFile(t, filepath.Join(fixtures, "healthy/proc/self/mountinfo"), filepath.Join(proc, "self/mountinfo"))
	copyFile(t, filepath.Join(fixtures, "healthy/proc/sys/kernel/random/boot_id"), filepath.Join(proc, "sys/kernel/random/boot_id"))
	// A child stuck in D on the FUSE request, started at tick 4711.
	stat := "4242 (check_blockdev) D 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 4711 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	writeFile(t, filepath.Join(proc, "4242/stat"), stat)
	stateFile := filepath.Join(t.TempDir(), "state.json")
	since := time.Date(2026, 11, 21, 11, 55, 0, 0, time.UTC)
	prev := saved{BootID: "3c1c2f8e-0b5e-4d9a-9f0e-7b6a1b2c3d4e", At: since,
		Hung: map[string]hungMount{"/mnt/nfs": {Since: since, Op: "statfs", Children: []probeChild{{Pid: 4242, Start: 4711}}}}}
	if err := state.Save(stateFile, stateKind, stateVersion, prev); err != nil {
		t.Fatal(err)
	}
	probed := fakeProber{"statfs /mnt/nfs": 0}
	counting := &countingProber{inner: probed}
	fx := fixture{dir: "healthy", args: []string{"-p", "/mnt/nfs", "--procfs", proc}, state: stateFile}
	res, out := fx.runWith(t, counting)
	checkFindings(t, res, out, []expect{{"/mnt/nfs", plugin.CRITICAL, []string{"still hung: the statfs probe started 5m ago (pid 4242) has not returned"}}})
	if n := counting.count("/mnt/nfs"); n != 0 {
		t.Errorf("probed the known-hung mount %d times, want 0", n)
	}
	// The stuck child has gone (the mount answered at last): probed again.
	os.RemoveAll(filepath.Join(proc, "4242"))
	res, out = fx.runWith(t, counting)
	checkFindings(t, res, out, []expect{{"/mnt/nfs", plugin.OK, nil}})
	if n := counting.count("/mnt/nfs"); n != 1 {
		t.Errorf("probes of the recovered mount: %d, want 1 child running statfs, stat and readdir", n)
	}
}

func TestKernelLogNotReadableIsAVerboseNote(t *testing.T) {
	fx := fixture{dir: "healthy", args: []string{"-v", "--kmsg", "/nonexistent/kmsg"}}
	res, out := fx.run(t)
	if res.State() != plugin.OK {
		t.Errorf("state %s, want OK\n%s", plugin.StateName(res.State()), out)
	}
	if !strings.Contains(out, "kernel log not read") {
		t.Errorf("no note about the kernel log in\n%s", out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(data))
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
