package blockdev

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// observations are what one run found, for judge: no I/O is left to do.
type observations struct {
	Now     time.Time // when the run began
	Verbose int
	BootID  string

	Mounts  []mounts.Mount // every visible mount
	All     []block.Device // every device in sysfs, briefly
	Nodes   map[string]block.Node
	Devs    []devObs // the devices checked, in detail
	Missing []string // named devices that do not exist
	Arrays  []block.Array
	FSs     []*fsObs
	Tests   []*testObs
	Budget  time.Duration // each mount's and each path test's

	// The second sample (--sample-interval): T0 and T1 are when the
	// counters were read.
	Sampled bool
	T0, T1  time.Time

	Log        kmsg.Log
	LogProblem string   // why the kernel log was not read ("" when read or not asked for)
	Problems   []string // other inputs that could not be used: UNKNOWN
	Notes      []string
}

type devObs struct {
	block.Device
	Named  bool           // asked for with -d or under a -p mount
	Second block.Counters // the second sample, when Sampled
	Has2nd bool
}

type fsObs struct {
	mounts.Mount
	Kind     mounts.Kind
	Node     block.Node
	Named    bool
	NotFound bool // named with -p but nothing mounted there
	ExpectRW string
	Probe    mounts.ProbeResult
	Ext4     ext4Errors
}

// testObs is a --read-test or --write-test.
type testObs struct {
	Op     isolate.Op
	Path   string
	Target string // the mount point it locks
	Res    mounts.ProbeResult
	Bad    string // the path is not what the test needs: UNKNOWN
}

// gather reads the host (through env.Files: bounded, isolated where a
// mount can hang), probes the mounts and path tests (through the prober,
// one lock per mount), and samples the counters again if asked.
func gather(ctx context.Context, env *plugin.Env, c *Check) (observations, error) {
	proc, sys := env.Files().Dir(ctx, c.Procfs), env.Files().Dir(ctx, c.Sysfs)
	obs, err := gatherHost(ctx, env, c, proc, sys)
	if err != nil {
		return obs, err
	}
	probeAll(ctx, env, env.Prober(), c, &obs)
	if time.Duration(c.SampleInterval) > 0 {
		done := env.Begin("waiting between I/O samples")
		err := sleepCtx(ctx, time.Duration(c.SampleInterval))
		done()
		if err == nil {
			sampleAgain(&obs, block.NewReader(sys), env.Now())
		}
	}
	return obs, nil
}

// gatherHost reads everything but the probes: mounts, fstab, devices,
// arrays, ext4 error counts and the kernel log.
func gatherHost(ctx context.Context, env *plugin.Env, c *Check, proc, sys *files.Dir) (observations, error) {
	obs := observations{Now: env.Now(), Verbose: env.Verbose}
	// The errors name the option's own path: files resolves symlinks,
	// so its message may name where a link led instead.
	data, err := proc.ReadFile("self/mountinfo")
	if err != nil {
		return obs, fmt.Errorf("--procfs %s: mount table not read: %w", c.Procfs, err)
	}
	ms, err := mounts.Parse(data)
	if err != nil {
		return obs, fmt.Errorf("--procfs %s: %s: %w", c.Procfs, proc.Path("self/mountinfo"), err)
	}
	obs.Mounts = mounts.Latest(ms)
	if b, err := proc.ReadFile("sys/kernel/random/boot_id"); err == nil {
		obs.BootID = strings.TrimSpace(string(b))
	}
	expect := gatherFstab(ctx, env, c, &obs)
	obs.FSs = selectFilesystems(c, obs.Mounts, expect)
	obs.Budget = time.Duration(c.MountTimeout)
	if obs.Budget == 0 {
		obs.Budget = env.Budget(0.3)
	}

	reader := block.NewReader(sys)
	names, err := reader.Names()
	if err != nil {
		return obs, fmt.Errorf("--sysfs %s: %w", c.Sysfs, err)
	}
	for _, n := range names {
		obs.All = append(obs.All, reader.Brief(n))
	}
	obs.Nodes = block.ByDev(obs.All)
	for _, f := range obs.FSs {
		if f.Major != 0 {
			f.Node = obs.Nodes[f.Dev()]
		}
	}
	chosen, named, missing := selectDevices(c, obs.All, obs.Mounts, obs.FSs, obs.Nodes)
	obs.Missing = missing
	obs.T0 = env.Now()
	for _, d := range obs.All {
		if !chosen[d.Name] {
			continue
		}
		full, err := reader.Detail(d)
		if err != nil {
			obs.Notes = append(obs.Notes, err.Error())
			continue
		}
		obs.Devs = append(obs.Devs, devObs{Device: full, Named: named[d.Name]})
	}
	obs.Arrays, err = block.Arrays(proc, sys)
	if err != nil {
		obs.Notes = append(obs.Notes, "md arrays not read: "+err.Error())
	}
	obs.Log, obs.LogProblem = gatherLog(ctx, env, c)
	for _, f := range obs.FSs {
		if f.FSType == "ext4" && f.Node.Name != "" {
			f.Ext4 = readExt4Errors(sys, filepath.Join("fs/ext4", f.Node.Name))
		}
	}
	return obs, nil
}

// sampleAgain reads the counters a second time, so await, %util and a
// stall are measured within this run.
func sampleAgain(obs *observations, reader *block.Reader, now time.Time) {
	obs.T1 = now
	for i := range obs.Devs {
		c, err := reader.Counters(obs.Devs[i].Name)
		if err != nil {
			obs.Notes = append(obs.Notes, err.Error())
			continue
		}
		obs.Devs[i].Second, obs.Devs[i].Has2nd = c, true
	}
	obs.Sampled = true
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

// selectFilesystems picks the mounts to probe: those named with -p, or
// by default every block-backed, network and FUSE one (see wantType).
func selectFilesystems(c *Check, ms []mounts.Mount, expect map[string]string) []*fsObs {
	var out []*fsObs
	add := func(m mounts.Mount, named bool) {
		f := &fsObs{Mount: m, Kind: mounts.KindOf(m), Named: named, ExpectRW: expect[m.MountPoint]}
		if c.ExpectRW {
			f.ExpectRW = "--expect-rw"
		}
		out = append(out, f)
	}
	if len(c.Paths) > 0 {
		byPoint := map[string]mounts.Mount{}
		for _, m := range ms {
			byPoint[m.MountPoint] = m
		}
		seen := map[string]bool{}
		for _, p := range c.Paths {
			p = filepath.Clean(p)
			if seen[p] {
				continue
			}
			seen[p] = true
			if m, ok := byPoint[p]; ok {
				add(m, true)
			} else {
				out = append(out, &fsObs{Mount: mounts.Mount{MountPoint: p}, Named: true, NotFound: true, ExpectRW: expect[p]})
			}
		}
		return out
	}
	if len(c.Devices) > 0 {
		return nil // devices only
	}
	// A filesystem bind-mounted elsewhere (/run/netns, a container's
	// volume) is the same filesystem: probed once, at its own root. A
	// network or FUSE filesystem's anonymous device number names its
	// superblock, so a hung one bound twice gets one stuck probe.
	seenDev := map[string]bool{}
	for _, rootFirst := range []bool{true, false} {
		for _, m := range ms {
			if (m.Root == "/") != rootFirst || contains(c.ExcludePaths, m.MountPoint) || !c.wantType(m) {
				continue
			}
			if k := mounts.KindOf(m); m.Major != 0 || k == mounts.Network || k == mounts.Fuse {
				if seenDev[m.Dev()] {
					continue
				}
				seenDev[m.Dev()] = true
			}
			add(m, false)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// selectDevices picks the devices: those named with -d, those under the
// mounts named with -p, or by default every device but loop, ram, zram.
func selectDevices(c *Check, all []block.Device, ms []mounts.Mount, fss []*fsObs, nodes map[string]block.Node) (chosen, named map[string]bool, missing []string) {
	chosen, named = map[string]bool{}, map[string]bool{}
	for _, want := range c.Devices {
		name, ok := resolveDevice(want, all, ms, nodes)
		if !ok {
			missing = append(missing, want)
			continue
		}
		chosen[name], named[name] = true, true
	}
	for _, f := range fss {
		if f.Named && f.Node.Disk != "" {
			chosen[f.Node.Disk], named[f.Node.Disk] = true, true
		}
	}
	if !c.explicit() {
		for _, d := range all {
			if !d.Virtual() || c.All {
				chosen[d.Name] = true
			}
		}
	}
	return chosen, named, missing
}

// resolveDevice turns "sdb", "/dev/sdb1", "/dev/mapper/vg-lv" or a mount
// point into the name of a whole device in sysfs.
func resolveDevice(want string, all []block.Device, ms []mounts.Mount, nodes map[string]block.Node) (string, bool) {
	for _, m := range ms {
		if m.MountPoint == filepath.Clean(want) && strings.HasPrefix(want, "/") && !strings.HasPrefix(want, "/dev/") {
			n, ok := nodes[m.Dev()]
			return n.Disk, ok
		}
	}
	name := want
	if strings.HasPrefix(want, "/dev/") {
		// /dev is devtmpfs: resolving its symlinks cannot hang.
		if real, err := filepath.EvalSymlinks(want); err == nil {
			name = real
		}
		name = filepath.Base(name)
	}
	for _, d := range all {
		if d.Name == name {
			return d.Name, true
		}
		for _, p := range d.Partitions {
			if p.Name == name {
				return d.Name, true
			}
		}
	}
	return "", false
}

// probeAll probes the selected mounts and runs the path tests. Work on
// one mount is done in sequence, so once a probe of it hangs the others
// are answered at once by the prober ("hung since"): one stuck child per
// mount. Different mounts are probed concurrently.
func probeAll(ctx context.Context, env *plugin.Env, p mounts.Prober, c *Check, obs *observations) {
	done := env.Begin(fmt.Sprintf("probing %s and %s", human.Plural(len(obs.FSs), "mount", "mounts"), human.Plural(len(c.WriteTests)+len(c.ReadTests), "path test", "path tests")))
	defer done()
	type work struct {
		fss   []*fsObs
		tests []*testObs
	}
	byTarget := map[string]*work{}
	var order []string
	at := func(target string) *work {
		w, ok := byTarget[target]
		if !ok {
			w = &work{}
			byTarget[target] = w
			order = append(order, target)
		}
		return w
	}
	for _, f := range obs.FSs {
		if !f.NotFound {
			at(f.MountPoint).fss = append(at(f.MountPoint).fss, f)
		}
	}
	for _, t := range pathTests(c) {
		t.Target = testTarget(env, obs.Mounts, t.Path)
		obs.Tests = append(obs.Tests, t)
		at(t.Target).tests = append(at(t.Target).tests, t)
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, target := range order {
		w := byTarget[target]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, f := range w.fss {
				f.Probe = mounts.Probe(ctx, p, f.MountPoint, target, obs.Budget, mounts.Probes)
			}
			for _, t := range w.tests {
				runTest(ctx, p, t, obs.Budget)
			}
		}()
	}
	wg.Wait()
}

func pathTests(c *Check) []*testObs {
	var out []*testObs
	for _, p := range c.WriteTests {
		out = append(out, &testObs{Op: isolate.WriteTest, Path: filepath.Clean(p)})
	}
	for _, p := range c.ReadTests {
		out = append(out, &testObs{Op: isolate.ReadDirect, Path: filepath.Clean(p)})
	}
	return out
}

// testTarget is the mount a path test locks: the network or FUSE mount
// the path leads to, else the mount the path is on as the mount table
// spells it. A test on a mount already hung (by -p, another test, an
// earlier run or another plugin) is then not started.
func testTarget(env *plugin.Env, ms []mounts.Mount, path string) string {
	m, ok := mounts.Containing(ms, path)
	if ok && (mounts.KindOf(m) == mounts.Network || mounts.KindOf(m) == mounts.Fuse) {
		return m.MountPoint
	}
	if t := env.Files().Target(path); t != path {
		return t
	}
	if ok {
		return m.MountPoint
	}
	return path
}

// runTest stats the path in the prober first: a read test wants a
// regular file or a block device, a write test a directory. O_DIRECT on a
// FIFO would wait for a writer; a missing path is a mistake in the
// command line, not a storage fault.
func runTest(ctx context.Context, p mounts.Prober, t *testObs, budget time.Duration) {
	st := mounts.Probe(ctx, p, t.Path, t.Target, budget, []isolate.Op{isolate.Stat})
	if !st.OK() {
		t.Res = st
		if badInput(st.Errno) {
			t.Bad = fmt.Sprintf("%s: %s", t.Path, st.Errno.Error())
			t.Res = mounts.ProbeResult{}
		}
		return
	}
	mode := uint32(st.Stat.Mode) & 0o170000
	switch {
	case t.Op == isolate.ReadDirect && mode != 0o100000 && mode != 0o060000:
		t.Bad = fmt.Sprintf("%s is %s: give a regular file or a block device", t.Path, fileKind(mode))
		return
	case t.Op == isolate.WriteTest && mode != 0o040000:
		t.Bad = fmt.Sprintf("%s is %s: give a directory", t.Path, fileKind(mode))
		return
	}
	t.Res = mounts.Probe(ctx, p, t.Path, t.Target, budget, []isolate.Op{t.Op})
}
