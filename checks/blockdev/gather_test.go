package blockdev

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

const fixtures = "../../testdata/blockdev"

// fakeProber answers probes from a table of "op path" -> fault, so the
// fixture mount tables (whose mount points do not exist here) can be
// probed; the real prober is exercised by the integration tests.
type fakeProber map[string]syscall.Errno

const hang = syscall.Errno(0xffff)

// Do walks the request's operations in order as the real child does,
// stopping at the first that fails or hangs.
func (f fakeProber) Do(ctx context.Context, budget time.Duration, req isolate.Request) (isolate.Reply, error) {
	for _, op := range append([]isolate.Op{req.Op}, req.Then...) {
		at := isolate.Request{Op: op, Path: req.Path, Max: req.Max}
		switch e := f[string(op)+" "+req.Path]; e {
		case 0:
		case hang:
			return isolate.Reply{}, &isolate.TimeoutError{Req: at, Budget: budget}
		default:
			return isolate.Reply{}, &isolate.OpError{Req: at, Errno: e}
		}
	}
	return isolate.Reply{Elapsed: time.Millisecond}, nil
}

type fixture struct {
	dir     string   // scenario under testdata/blockdev
	args    []string // beyond the fixture roots
	prober  fakeProber
	samples []string // sysfs roots of the two samples, relative to dir
	clock   *fakeClock
	state   *memState // the state across runs; none when nil
}

// memState keeps the state between runs as the runtime does: encoded.
type memState struct{ data []byte }

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (fx fixture) run(t *testing.T) (plugin.Result, string) {
	t.Helper()
	if fx.prober == nil {
		return fx.runWith(t, fakeProber{})
	}
	return fx.runWith(t, fx.prober)
}

// runWith runs gather's parts on the fixture trees with prober in place
// of the isolated one (the fixtures' mount points do not exist here),
// then judge, as Run does.
func (fx fixture) runWith(t *testing.T, prober mounts.Prober) (plugin.Result, string) {
	t.Helper()
	dir := filepath.Join(fixtures, fx.dir)
	sys := filepath.Join(dir, "sys")
	if len(fx.samples) > 0 {
		sys = filepath.Join(dir, fx.samples[0])
	}
	proc := filepath.Join(dir, "proc")
	if _, err := os.Stat(proc); err != nil {
		proc = filepath.Join(fixtures, "healthy", "proc")
	}
	fstab := filepath.Join(dir, "fstab")
	if _, err := os.Stat(fstab); err != nil {
		fstab = "/dev/null"
	}
	kmsgPath := filepath.Join(dir, "kmsg")
	if _, err := os.Stat(kmsgPath); err != nil {
		kmsgPath = "/dev/null"
	}
	args := append([]string{"--procfs", proc, "--sysfs", sys, "--fstab", fstab, "--kmsg", kmsgPath}, fx.args...)
	c, common := parseArgs(t, args...)
	if fx.clock == nil {
		fx.clock = &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	}
	env := plugin.NewEnv(10 * time.Second)
	env.Now = fx.clock.now
	env.Verbose = len(common.Verbose)
	ctx := context.Background()
	obs, err := gatherHost(ctx, env, c, env.Files().Dir(ctx, c.Procfs), env.Files().Dir(ctx, c.Sysfs))
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	probeAll(ctx, env, prober, c, &obs)
	if len(fx.samples) > 1 {
		fx.clock.t = fx.clock.t.Add(time.Duration(c.SampleInterval))
		sampleAgain(&obs, block.NewReader(env.Files().Dir(ctx, filepath.Join(dir, fx.samples[1]))), fx.clock.t)
	}
	var prev saved
	found := false
	if fx.state != nil && fx.state.data != nil {
		found, _ = state.Decode(fx.state.data, "mem", stateKind, stateVersion, &prev)
	}
	res, next := judge(c, obs, prev, found)
	if fx.state != nil {
		data, err := state.Encode(stateKind, stateVersion, next)
		if err != nil {
			t.Fatal(err)
		}
		fx.state.data = data
	}
	return res, plugin.Render("BLOCKDEV", res, 16384)
}

// parseArgs parses a command line as the runtime does.
func parseArgs(t *testing.T, args ...string) (*Check, *plugin.Common) {
	t.Helper()
	parser, chk, common := plugin.NewParser(Plugin)
	if _, err := parser.ParseArgs(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	c := chk.(*Check)
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return c, common
}

func findingFor(res plugin.Result, prefix string) (plugin.Finding, bool) {
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Text, prefix) {
			return f, true
		}
	}
	return plugin.Finding{}, false
}

// expect is one line of long output: its state and words it must hold.
type expect struct {
	prefix string
	state  plugin.State
	words  []string
}

func checkFindings(t *testing.T, res plugin.Result, out string, want []expect) {
	t.Helper()
	for _, w := range want {
		f, ok := findingFor(res, w.prefix)
		if !ok {
			t.Errorf("no finding for %q in\n%s", w.prefix, out)
			continue
		}
		if f.State != w.state {
			t.Errorf("%q: state %s, want %s\n%s", w.prefix, plugin.StateName(f.State), plugin.StateName(w.state), out)
		}
		for _, word := range w.words {
			if !strings.Contains(f.Text, word) {
				t.Errorf("%q: %q lacks %q", w.prefix, f.Text, word)
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		name  string
		fx    fixture
		state plugin.State
		want  []expect
		not   []string // finding prefixes that must be absent
	}{{
		name:  "healthy host, escapes decoded, network and FUSE probed, loop, pseudo and session helpers left out",
		fx:    fixture{dir: "healthy"},
		state: plugin.OK,
		want: []expect{
			{"sda (scsi)", plugin.OK, []string{"state running", "1 GiB"}},
			{"vda (virtio)", plugin.OK, []string{"virtio status 0xf"}},
			{"/srv/my data (vda1, xfs)", plugin.OK, []string{"rw", "statfs, stat and readdir answered"}},
			{"/ (sda1, ext4)", plugin.OK, nil},
			{"/mnt/image (loop0, ext4)", plugin.OK, nil}, // block-backed, though loop0 itself is not checked
			{"/mnt/nfs (server:/export, nfs4)", plugin.OK, []string{"statfs, stat and readdir answered"}},
			{"/mnt/gluster (gl1:/vol0, fuse.glusterfs)", plugin.OK, nil},
			{"/var/lib/lxcfs (lxcfs, fuse.lxcfs)", plugin.OK, nil},
		},
		// The gluster volume bound again below is the same superblock:
		// probed once, at its root.
		not: []string{"loop0", "loop1", "/run/user/0", "/proc", "/srv/gluster-sub", "/run/user/1000/gvfs", "/run/user/1000/doc", "/sys/fs/fuse/connections"},
	}, {
		name:  "-X leaves types out, -N adds a session helper and tmpfs, -X wins over -N",
		fx:    fixture{dir: "healthy", args: []string{"-X", "fuse.lxcfs", "-X", "nfs4", "-N", "fuse.gvfsd-fuse", "-N", "tmpfs", "-N", "nfs4"}},
		state: plugin.OK,
		want: []expect{
			{"/mnt/gluster (gl1:/vol0, fuse.glusterfs)", plugin.OK, nil},
			{"/run/user/1000/gvfs (gvfsd-fuse, fuse.gvfsd-fuse)", plugin.OK, nil},
			{"/run/user/0 (tmpfs, tmpfs)", plugin.OK, nil},
		},
		not: []string{"/var/lib/lxcfs", "/mnt/nfs", "/run/user/1000/doc"},
	}, {
		name:  "by default a hung FUSE mount is critical, naming mount and type; a dead daemon (ENOTCONN) too",
		fx:    fixture{dir: "healthy", args: []string{"--mount-timeout", "3s"}, prober: fakeProber{"readdir /mnt/gluster": hang, "statfs /var/lib/lxcfs": syscall.ENOTCONN}},
		state: plugin.CRITICAL,
		want: []expect{
			{"/mnt/gluster (gl1:/vol0, fuse.glusterfs)", plugin.CRITICAL, []string{"no answer to readdir in 3s"}},
			{"/var/lib/lxcfs (lxcfs, fuse.lxcfs)", plugin.CRITICAL, []string{"Transport endpoint is not connected on statfs (ENOTCONN): its FUSE daemon has gone"}},
			{"/mnt/nfs (server:/export, nfs4)", plugin.OK, nil},
			{"/ (sda1, ext4)", plugin.OK, nil},
		},
	}, {
		name:  "a FUSE mount's EIO is critical",
		fx:    fixture{dir: "healthy", prober: fakeProber{"stat /mnt/gluster": syscall.EIO}},
		state: plugin.CRITICAL,
		want:  []expect{{"/mnt/gluster (gl1:/vol0, fuse.glusterfs)", plugin.CRITICAL, []string{"Input/output error on stat (EIO)"}}},
	}, {
		name:  "all includes loop devices; an unused one is fine",
		fx:    fixture{dir: "healthy", args: []string{"--all"}},
		state: plugin.OK,
		want: []expect{
			{"loop0 (loop)", plugin.OK, []string{"backed by /var/lib/images/disk.img"}},
			{"loop1 (loop)", plugin.OK, []string{"unused"}},
		},
	}, {
		name:  "a named loop device of size 0 is critical",
		fx:    fixture{dir: "healthy", args: []string{"-d", "loop1"}},
		state: plugin.CRITICAL,
		want:  []expect{{"loop1 (loop)", plugin.CRITICAL, []string{"size 0"}}},
		not:   []string{"sda", "/"},
	}, {
		name:  "a network filesystem's hang is critical and the others are still checked",
		fx:    fixture{dir: "healthy", args: []string{"--mount-timeout", "3s"}, prober: fakeProber{"statfs /mnt/nfs": hang}},
		state: plugin.CRITICAL,
		want: []expect{
			{"/mnt/nfs (server:/export, nfs4)", plugin.CRITICAL, []string{"no answer to statfs in 3s"}},
			{"/srv/my data (vda1, xfs)", plugin.OK, nil},
			{"/ (sda1, ext4)", plugin.OK, nil},
		},
	}, {
		name:  "shut-down XFS: statfs passes, stat fails with EIO",
		fx:    fixture{dir: "healthy", args: []string{"-p", "/srv/my data"}, prober: fakeProber{"stat /srv/my data": syscall.EIO}},
		state: plugin.CRITICAL,
		want: []expect{
			{"/srv/my data (vda1, xfs)", plugin.CRITICAL, []string{"Input/output error on stat (EIO)"}},
			{"vda (virtio)", plugin.OK, nil},
		},
		not: []string{"sda", "/ ("},
	}, {
		name:  "dead FUSE and stale NFS",
		fx:    fixture{dir: "healthy", args: []string{"-p", "/mnt/nfs", "-p", "/mnt/image"}, prober: fakeProber{"readdir /mnt/nfs": syscall.ESTALE, "stat /mnt/image": syscall.ENOTCONN}},
		state: plugin.CRITICAL,
		want: []expect{
			{"/mnt/nfs", plugin.CRITICAL, []string{"readdir", "ESTALE"}},
			{"/mnt/image (loop0, ext4)", plugin.CRITICAL, []string{"stat", "ENOTCONN"}},
			{"loop0 (loop)", plugin.OK, nil},
		},
	}, {
		name:  "a path that is not a mount point",
		fx:    fixture{dir: "healthy", args: []string{"-p", "/srv/data"}},
		state: plugin.CRITICAL,
		want:  []expect{{"/srv/data", plugin.CRITICAL, []string{"nothing mounted here"}}},
	}, {
		name:  "device faults",
		fx:    fixture{dir: "faulty"},
		state: plugin.CRITICAL,
		want: []expect{
			{"sda (scsi)", plugin.OK, nil},
			{"sdb (scsi)", plugin.CRITICAL, []string{"SCSI device state offline"}},
			{"sdc (scsi)", plugin.CRITICAL, []string{"read-only (ro=1) under read-write mount /data"}},
			{"sdd (scsi)", plugin.CRITICAL, []string{"size 0"}},
			{"vdb (virtio)", plugin.CRITICAL, []string{"virtio status 0x8f FAILED"}},
			{"vdc (virtio)", plugin.CRITICAL, []string{"NEEDS_RESET"}},
			{"dm-0 (dm)", plugin.CRITICAL, []string{"vg0-data is suspended"}},
			{"sr0", plugin.OK, nil},
		},
	}, {
		name:  "device by /dev path and by mount point",
		fx:    fixture{dir: "faulty", args: []string{"-d", "/dev/sdb", "-d", "/data"}},
		state: plugin.CRITICAL,
		want: []expect{
			{"sdb (scsi)", plugin.CRITICAL, nil},
			{"sdc (scsi)", plugin.CRITICAL, nil},
		},
		not: []string{"sda", "vdb", "/data"},
	}, {
		name:  "unknown device",
		fx:    fixture{dir: "faulty", args: []string{"-d", "sdz"}},
		state: plugin.CRITICAL,
		want:  []expect{{"sdz", plugin.CRITICAL, []string{"no such block device"}}},
	}, {
		name:  "ext4 emergency_ro, errors_count, ro against fstab",
		fx:    fixture{dir: "ext4"},
		state: plugin.CRITICAL,
		want: []expect{
			{"/var (sda2, ext4)", plugin.CRITICAL, []string{"emergency_ro", "1 ext4 error recorded", "first 2026-11-21 ", "in ext4_lookup"}},
			{"/home (sda3, ext4)", plugin.CRITICAL, []string{"mounted read-only, expected read-write (fstab)"}},
			{"/ (sda1, ext4)", plugin.OK, nil},
		},
	}, {
		name:  "md arrays",
		fx:    fixture{dir: "md"},
		state: plugin.CRITICAL,
		want: []expect{
			{"md0 (md raid1)", plugin.CRITICAL, []string{"failed members: sdb1", "degraded: 1 of 2 members missing"}},
			{"md1 (md raid1)", plugin.WARNING, []string{"rebuilding: recover 27.6% done", "about 1m to go"}},
			{"md2 (md raid5)", plugin.OK, []string{"3/3 members"}},
			{"md3 (md)", plugin.CRITICAL, []string{"array state inactive"}},
		},
	}, {
		name: "stall within the run",
		fx: fixture{dir: "stalled", samples: []string{"t0/sys", "t1/sys"},
			args: []string{"--sample-interval", "2s", "--await-warning", "10", "--await-critical", "20"}},
		state: plugin.CRITICAL,
		want: []expect{
			{"sdb (scsi)", plugin.CRITICAL, []string{"I/O stalled on sdb for 2s, 4 requests in flight"}},
			{"sda (scsi)", plugin.WARNING, []string{"await 15 ms (warning 10)"}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out := tt.fx.run(t)
			if res.State() != tt.state {
				t.Errorf("state %s, want %s\n%s", plugin.StateName(res.State()), plugin.StateName(tt.state), out)
			}
			checkFindings(t, res, out, tt.want)
			for _, p := range tt.not {
				if f, ok := findingFor(res, p); ok {
					t.Errorf("unexpected finding %q\n%s", f.Text, out)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-p", "srv"},
		{"--read-test", "relative/file"},
		{"--await-warning", "abc"},
		{"--mount-timeout", "-1"},
		{"--sysfs", "/nonexistent/sys"},
		{"--procfs", "/nonexistent/proc"},
		{"-d", " "},
		{"stray-argument"},
	} {
		var out strings.Builder
		code := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) {}}.Run(Plugin)
		first, _, _ := strings.Cut(out.String(), "\n")
		if code != 3 || !strings.HasPrefix(first, "BLOCKDEV UNKNOWN - ") {
			t.Errorf("%v: exit %d, %q; want UNKNOWN with one line", args, code, first)
		}
	}
}
