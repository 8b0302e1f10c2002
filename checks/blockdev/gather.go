package blockdev

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// run is one execution: what was gathered, then judged.
type run struct {
	c   *Check
	env *plugin.Env
	ctx context.Context
	now time.Time

	bootID   string
	prev     saved
	havePrev bool
	next     saved

	all     []block.Device // every device in sysfs
	nodes   map[string]block.Node
	devs    []*devInfo // the devices checked
	missing []string   // named devices that do not exist
	arrays  []block.Array
	mounts  []mounts.Mount // every visible mount
	fss     []*fsInfo
	tests   []*pathTest
	logs    []kmsg.Record
	logErr  error
	notes   []string
	budget  time.Duration
	t0, t1  time.Time
	sampled bool
}

type devInfo struct {
	block.Device
	cur      block.Counters // the last sample
	delta    block.Delta
	hasDelta bool
	stallFor time.Duration
	stalled  bool
	errGrow  uint64
	logCount int
	logLast  string
	gone     time.Time // set for a device that has gone
	named    bool      // asked for with -d or under a -p mount
}

type fsInfo struct {
	mounts.Mount
	kind      mounts.Kind
	node      block.Node
	named     bool
	notFound  bool // named with -p but nothing mounted there
	probe     mounts.ProbeResult
	stillHung *hungMount // known hung, its child still stuck: not probed
	stuckPid  int
	expectRW  string // why it must be rw; "" when not expected
	ext4      ext4Errors
	xfsDown   string // kernel log line of an XFS shutdown
	logCount  int    // filesystem error lines in the kernel log
	logLast   string
}

type pathTest struct {
	op     isolate.Op
	path   string
	res    mounts.ProbeResult
	budget time.Duration
}

func (r *run) gather() error {
	ms, err := mounts.Read(r.c.Procfs)
	if err != nil {
		return err
	}
	r.mounts = mounts.Latest(ms)
	if err := r.selectFilesystems(r.mounts); err != nil {
		return err
	}
	r.budget = time.Duration(r.c.MountTimeout)
	if r.budget == 0 {
		r.budget = r.env.Budget(0.3)
	}
	// The probes' children take milliseconds to start; sysfs and the
	// kernel log are read meanwhile.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.probeAll() }()
	defer wg.Wait()

	reader, err := block.NewReader(r.c.Procfs, r.c.sysAt(0))
	if err != nil {
		return err
	}
	names, err := reader.Names()
	if err != nil {
		return err
	}
	for _, n := range names {
		r.all = append(r.all, reader.Brief(n))
	}
	r.nodes = block.ByDev(r.all)
	for _, f := range r.fss {
		if f.Major != 0 {
			f.node = r.nodes[f.Dev()]
		}
	}
	r.selectDevices(r.mounts)
	r.t0 = r.env.Now()
	kept := r.devs[:0]
	for _, d := range r.devs {
		if d.gone.IsZero() {
			full, err := reader.Detail(d.Device)
			if err != nil {
				r.notes = append(r.notes, err.Error())
				continue
			}
			d.Device, d.cur = full, full.Counters
		}
		kept = append(kept, d)
	}
	r.devs = kept
	r.arrays, err = block.Arrays(r.c.Procfs, r.c.sysAt(0))
	if err != nil {
		r.notes = append(r.notes, err.Error())
	}
	r.readLog()
	for _, f := range r.fss {
		if f.FSType == "ext4" && f.node.Name != "" {
			f.ext4 = readExt4Errors(filepath.Join(r.c.sysAt(0), "fs/ext4", f.node.Name))
		}
	}
	if time.Duration(r.c.SampleInterval) > 0 {
		r.sampleAgain()
	}
	return nil
}

// sampleAgain waits --sample-interval and reads the counters again, so
// await, %util and a stall are measured within this run.
func (r *run) sampleAgain() {
	done := r.env.Begin("waiting between I/O samples")
	err := r.c.sleep(r.ctx, time.Duration(r.c.SampleInterval))
	done()
	if err != nil {
		return
	}
	reader, err := block.NewReader(r.c.Procfs, r.c.sysAt(1))
	if err != nil {
		r.notes = append(r.notes, err.Error())
		return
	}
	r.t1 = r.env.Now()
	for _, d := range r.devs {
		if !d.gone.IsZero() {
			continue
		}
		c, err := reader.Counters(d.Name)
		if err != nil {
			r.notes = append(r.notes, err.Error())
			continue
		}
		d.delta = block.Diff(d.Counters, c, r.t1.Sub(r.t0))
		d.hasDelta = d.delta.Valid
		d.cur = c
	}
	r.sampled = true
}

// selectFilesystems picks the mounts to probe: those named with -p, or
// by default every block-backed one and those of included types.
func (r *run) selectFilesystems(ms []mounts.Mount) error {
	byPoint := map[string]mounts.Mount{}
	for _, m := range ms {
		byPoint[m.MountPoint] = m
	}
	expect, err := r.expectations()
	if err != nil {
		return err
	}
	add := func(m mounts.Mount, named bool) {
		f := &fsInfo{Mount: m, kind: mounts.KindOf(m), named: named, expectRW: expect[m.MountPoint]}
		if r.c.ExpectRW {
			f.expectRW = "--expect-rw"
		}
		r.fss = append(r.fss, f)
	}
	if len(r.c.Paths) > 0 {
		seen := map[string]bool{}
		for _, p := range r.c.Paths {
			p = filepath.Clean(p)
			if seen[p] {
				continue
			}
			seen[p] = true
			if m, ok := byPoint[p]; ok {
				add(m, true)
			} else {
				r.fss = append(r.fss, &fsInfo{Mount: mounts.Mount{MountPoint: p}, named: true, notFound: true, expectRW: expect[p]})
			}
		}
		return nil
	}
	if len(r.c.Devices) > 0 {
		return nil // devices only
	}
	// A filesystem bind-mounted elsewhere (/run/netns, a container's
	// volume) is the same filesystem: probed once, at its own root.
	seenDev := map[string]bool{}
	for _, rootFirst := range []bool{true, false} {
		for _, m := range ms {
			if (m.Root == "/") != rootFirst || contains(r.c.ExcludePaths, m.MountPoint) || contains(r.c.ExcludeTypes, m.FSType) {
				continue
			}
			if mounts.KindOf(m) != mounts.Block && !contains(r.c.IncludeTypes, m.FSType) {
				continue
			}
			if m.Major != 0 {
				if seenDev[m.Dev()] {
					continue
				}
				seenDev[m.Dev()] = true
			}
			add(m, false)
		}
	}
	sort.SliceStable(r.fss, func(i, j int) bool { return r.fss[i].ID < r.fss[j].ID })
	return nil
}

// expectations maps mount points that fstab mounts read-write to "fstab".
func (r *run) expectations() (map[string]string, error) {
	entries, err := mounts.ReadFstab(r.c.Fstab)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.ReadOnly() && e.MountPoint != "none" && e.FSType != "swap" {
			out[filepath.Clean(e.MountPoint)] = "fstab"
		}
	}
	return out, nil
}

// selectDevices picks the devices: those named with -d, those under the
// mounts named with -p, or by default every device but loop, ram, zram.
func (r *run) selectDevices(ms []mounts.Mount) {
	byName := map[string]block.Device{}
	for _, d := range r.all {
		byName[d.Name] = d
	}
	chosen, named := map[string]bool{}, map[string]bool{}
	explicit := r.explicit()
	for _, want := range r.c.Devices {
		name, ok := r.resolveDevice(want, ms)
		if !ok {
			r.missing = append(r.missing, want)
			continue
		}
		chosen[name], named[name] = true, true
	}
	for _, f := range r.fss {
		if f.named && f.node.Disk != "" {
			chosen[f.node.Disk], named[f.node.Disk] = true, true
		}
	}
	if !explicit {
		for _, d := range r.all {
			if !d.Virtual() || r.c.All {
				chosen[d.Name] = true
			}
		}
	}
	for _, d := range r.all {
		if chosen[d.Name] {
			r.devs = append(r.devs, &devInfo{Device: d, cur: d.Counters, named: named[d.Name]})
		}
	}
	// A device checked last time and absent now has gone: it stays
	// CRITICAL until it is back or --forget-missing is given.
	if !explicit && r.havePrev && !r.c.ForgetMissing {
		for name, sd := range r.prev.Devices {
			if _, ok := byName[name]; ok {
				continue
			}
			if isVirtualName(name) && !r.c.All {
				continue
			}
			since := sd.Gone
			if since.IsZero() {
				since = r.now
			}
			r.devs = append(r.devs, &devInfo{Device: block.Device{Name: name}, gone: since})
		}
	}
	sort.SliceStable(r.devs, func(i, j int) bool { return r.devs[i].Name < r.devs[j].Name })
}

func isVirtualName(n string) bool {
	return block.Device{Name: n, Kind: kindByName(n)}.Virtual()
}

func kindByName(n string) string {
	for _, k := range []string{"loop", "zram", "ram"} {
		if strings.HasPrefix(n, k) {
			return k
		}
	}
	return ""
}

// resolveDevice turns "sdb", "/dev/sdb1", "/dev/mapper/vg-lv" or a mount
// point into the name of a whole device in sysfs.
func (r *run) resolveDevice(want string, ms []mounts.Mount) (string, bool) {
	for _, m := range ms {
		if m.MountPoint == filepath.Clean(want) && strings.HasPrefix(want, "/") && !strings.HasPrefix(want, "/dev/") {
			n, ok := r.nodes[m.Dev()]
			return n.Disk, ok
		}
	}
	name := want
	if strings.HasPrefix(want, "/dev/") {
		if real, err := filepath.EvalSymlinks(want); err == nil {
			name = real
		}
		name = filepath.Base(name)
	}
	for _, d := range r.all {
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

// probeAll probes the selected mounts and path tests concurrently, each
// mount's operations in sequence within its budget.
func (r *run) probeAll() {
	done := r.env.Begin(fmt.Sprintf("probing %d mounts", len(r.fss)))
	defer done()
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, f := range r.fss {
		if f.notFound {
			continue
		}
		h, knownHung := r.prev.Hung[f.MountPoint]
		if knownHung {
			if c, ok := h.stuck(r.c.Procfs); ok {
				f.stillHung, f.stuckPid = &h, c.Pid
				r.next.Hung[f.MountPoint] = h
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f.probe = mounts.Probe(r.ctx, r.prober(), f.MountPoint, r.budget, mounts.Probes)
		}()
	}
	for _, p := range r.c.WriteTests {
		r.tests = append(r.tests, &pathTest{op: isolate.WriteTest, path: p, budget: r.budget})
	}
	for _, p := range r.c.ReadTests {
		r.tests = append(r.tests, &pathTest{op: isolate.ReadDirect, path: p, budget: r.budget})
	}
	for _, t := range r.tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.res = mounts.Probe(r.ctx, r.prober(), t.path, t.budget, []isolate.Op{t.op})
		}()
	}
	wg.Wait()
	for _, f := range r.fss {
		if f.probe.Hung || len(f.probe.Pids) > 0 {
			h := hungMount{Since: r.now, Op: string(f.probe.Op)}
			if old, ok := r.prev.Hung[f.MountPoint]; ok {
				h.Since = old.Since
			}
			for _, pid := range f.probe.Pids {
				start, _ := procStart(r.c.Procfs, pid)
				h.Children = append(h.Children, probeChild{Pid: pid, Start: start})
			}
			r.next.Hung[f.MountPoint] = h
		}
	}
}

// readLog reads the kernel log since the last run and files the lines
// about I/O errors under the devices and filesystems they name.
func (r *run) readLog() {
	recs, err := kmsg.Read(r.c.Kmsg, r.next.KmsgSeq)
	if err != nil {
		r.logErr = err
		if r.env.Verbose > 0 {
			if errors.Is(err, kmsg.ErrNotPermitted) {
				r.notes = append(r.notes, "kernel log not read: not permitted as this user (dmesg_restrict); I/O error lines are only seen as root")
			} else {
				r.notes = append(r.notes, "kernel log not read: "+err.Error())
			}
		}
	}
	for _, rec := range recs {
		if rec.Seq > r.next.KmsgSeq {
			r.next.KmsgSeq = rec.Seq
		}
	}
	// Without an earlier run there is no "since": lines from before (of
	// another device that had the same name, perhaps) would make an alert
	// that clears by itself on the next run. Only the position is kept.
	if !r.havePrev {
		if len(recs) > 0 && r.env.Verbose > 0 {
			r.notes = append(r.notes, "first run: kernel log position recorded; I/O errors logged from now on are reported")
		}
		return
	}
	r.logs = recs
}

// explicit reports whether devices or paths were chosen on the command line.
func (r *run) explicit() bool { return len(r.c.Devices) > 0 || len(r.c.Paths) > 0 }

func (r *run) prober() mounts.Prober {
	if r.c.prober != nil {
		return r.c.prober
	}
	return r.env.Prober()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
