package blockdev

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// item collects the problems of one device or filesystem; it becomes one
// line of long output, at the state of its worst problem.
type item struct {
	name     string
	state    plugin.State
	problems []string
	info     []string // what was checked, for OK lines
}

func (it *item) bad(s plugin.State, text string) {
	if plugin.Worse(s, it.state) {
		it.state = s
	}
	it.problems = append(it.problems, text)
}

func (it *item) finding() plugin.Finding {
	text := it.name
	switch {
	case len(it.problems) > 0:
		text += ": " + strings.Join(it.problems, ", ")
	case len(it.info) > 0:
		text += ": " + strings.Join(it.info, ", ")
	}
	return plugin.Finding{State: it.state, Text: text}
}

// judgement is one judge call: the options, what was gathered, the last
// run's state and the state being built for the next.
type judgement struct {
	c        *Check
	obs      observations
	prev     saved
	havePrev bool
	next     saved
	devs     []*devInfo
	fss      []*fsInfo
	logs     []kmsg.Record // kernel log records since the last run
	notes    []string
}

// devInfo is a device as judged: what was read, and what follows.
type devInfo struct {
	block.Device
	named    bool
	cur      block.Counters // the last sample
	delta    block.Delta
	hasDelta bool
	stallFor time.Duration
	stalled  bool
	errGrow  uint64
	logCount int
	logLast  string
	gone     time.Time // set for a device that has gone
}

// fsInfo is a filesystem as judged.
type fsInfo struct {
	fsObs
	xfsDown  string // kernel log line of an XFS shutdown
	logCount int    // filesystem error lines in the kernel log
	logLast  string
}

// judge turns the observations and the last run's state (prev, when
// havePrev) into the result and the state for the next run. Pure: the
// time is obs.Now, nothing is read or written.
func judge(c *Check, obs observations, prev saved, havePrev bool) (plugin.Result, saved) {
	j := &judgement{c: c, obs: obs, prev: prev, havePrev: havePrev}
	if havePrev && prev.BootID != obs.BootID {
		j.prev, j.havePrev = saved{}, false
		j.note("rebooted since the last run: counters start afresh")
	}
	j.next = saved{BootID: obs.BootID, At: obs.Now, KmsgSeq: max(j.prev.KmsgSeq, obs.Log.Last), Devices: map[string]savedDevice{}}
	j.collect()
	return j.result(), j.next
}

func (j *judgement) note(s string) {
	if j.obs.Verbose > 0 {
		j.notes = append(j.notes, s)
	}
}

// collect builds the devices (with those gone since the last run), the
// filesystems and the kernel log records since the last run.
func (j *judgement) collect() {
	present := map[string]bool{}
	for _, d := range j.obs.All {
		present[d.Name] = true
	}
	for _, d := range j.obs.Devs {
		di := &devInfo{Device: d.Device, named: d.Named, cur: d.Counters}
		if j.obs.Sampled && d.Has2nd {
			di.delta = block.Diff(d.Counters, d.Second, j.obs.T1.Sub(j.obs.T0))
			di.hasDelta = di.delta.Valid
			di.cur = d.Second
		}
		j.devs = append(j.devs, di)
	}
	// A device checked last time and absent now has gone: it stays
	// CRITICAL until it is back or --forget-missing is given.
	if !j.c.explicit() && j.havePrev && !j.c.ForgetMissing {
		for name, sd := range j.prev.Devices {
			if present[name] || (isVirtualName(name) && !j.c.All) {
				continue
			}
			since := sd.Gone
			if since.IsZero() {
				since = j.obs.Now
			}
			j.devs = append(j.devs, &devInfo{Device: block.Device{Name: name}, gone: since})
		}
	}
	sort.SliceStable(j.devs, func(a, b int) bool { return j.devs[a].Name < j.devs[b].Name })
	for _, f := range j.obs.FSs {
		j.fss = append(j.fss, &fsInfo{fsObs: *f})
	}
	// Without an earlier run there is no "since": lines from before (of
	// another device that had the same name, perhaps) would make an alert
	// that clears by itself on the next run. Only the position is kept.
	if !j.havePrev {
		if len(j.obs.Log.Records) > 0 {
			j.note("first run: kernel log position recorded; I/O errors logged from now on are reported")
		}
		return
	}
	for _, rec := range j.obs.Log.Records {
		if rec.Seq > j.prev.KmsgSeq {
			j.logs = append(j.logs, rec)
		}
	}
	if j.obs.Log.Dropped > 0 || j.obs.Log.Partial {
		j.notes = append(j.notes, "kernel log larger than this check reads at once: only its newest records were examined")
	}
}

func (j *judgement) result() plugin.Result {
	var res plugin.Result
	j.fileLogs()
	counts := map[string]map[plugin.State]int{"devices": {}, "filesystems": {}}
	for _, name := range j.obs.Missing {
		it := &item{name: name}
		it.bad(plugin.CRITICAL, "no such block device")
		res.Findings = append(res.Findings, it.finding())
		counts["devices"][plugin.CRITICAL]++
	}
	arrays := map[string]block.Array{}
	for _, a := range j.obs.Arrays {
		arrays[a.Name] = a
	}
	for _, d := range j.devs {
		it := j.judgeDevice(d)
		if a, ok := arrays[d.Name]; ok {
			judgeArray(a, it)
			delete(arrays, d.Name)
		}
		res.Findings = append(res.Findings, it.finding())
		counts["devices"][it.state]++
		if d.gone.IsZero() && !unused(d) {
			res.AddPerf(j.devicePerf(d)...)
		}
	}
	for _, a := range j.obs.Arrays {
		if _, ok := arrays[a.Name]; !ok || j.c.explicit() {
			continue // judged with its device, or not asked for
		}
		it := &item{name: a.Name + " (md)"}
		judgeArray(a, it)
		res.Findings = append(res.Findings, it.finding())
		counts["devices"][it.state]++
	}
	for _, f := range j.fss {
		it := j.judgeFilesystem(f)
		res.Findings = append(res.Findings, it.finding())
		counts["filesystems"][it.state]++
	}
	for _, t := range j.obs.Tests {
		it := j.judgeTest(t)
		res.Findings = append(res.Findings, it.finding())
		counts["filesystems"][it.state]++
	}
	for _, p := range j.inputProblems() {
		res.Add(plugin.UNKNOWN, p)
	}
	for _, kind := range []string{"devices", "filesystems"} {
		for _, s := range []plugin.State{plugin.OK, plugin.WARNING, plugin.CRITICAL, plugin.UNKNOWN} {
			p := plugin.NewPerf(kind+"_"+strings.ToLower(plugin.StateName(s)), float64(counts[kind][s]), "").WithBounds(0, nan())
			p.Metric = kind // one metric per kind, a series per state
			res.AddPerf(p)
		}
	}
	if len(res.Problems()) == 0 {
		res.Summary = fmt.Sprintf("%s, %s OK", human.Plural(len(j.devs)+len(j.obs.Arrays), "device", "devices"), human.Plural(len(j.fss)+len(j.obs.Tests), "filesystem", "filesystems"))
	}
	res.Notes = append(res.Notes, j.obs.Notes...)
	res.Notes = append(res.Notes, j.notes...)
	j.remember()
	return res
}

// inputProblems are the inputs that could not be used, each saying what
// is not seen because of it.
func (j *judgement) inputProblems() []string {
	out := append([]string(nil), j.obs.Problems...)
	if j.obs.LogProblem != "" {
		out = append(out, "kernel log "+j.obs.LogProblem+": I/O error and filesystem error lines are not seen (run as root, or give --no-kmsg)")
	}
	return out
}

func (j *judgement) judgeDevice(d *devInfo) *item {
	it := &item{name: d.Name}
	if d.Kind != "" && d.Kind != "other" {
		it.name += " (" + d.Kind + ")"
	}
	if !d.gone.IsZero() {
		it.bad(plugin.CRITICAL, "device has gone since "+d.gone.Format("2006-01-02 15:04:05"))
		return it
	}
	if d.SCSIState != "" && d.SCSIState != "running" {
		it.bad(plugin.CRITICAL, "SCSI device state "+d.SCSIState)
	}
	if d.HasVirtio && d.VirtioStatus&(block.VirtioFailed|block.VirtioNeedsReset) != 0 {
		it.bad(plugin.CRITICAL, fmt.Sprintf("virtio status %#x%s", d.VirtioStatus, virtioFlags(d.VirtioStatus)))
	}
	if d.Sectors == 0 && !unused(d) && !d.Removable {
		it.bad(plugin.CRITICAL, "size 0")
	}
	if d.DMSuspended {
		it.bad(plugin.CRITICAL, "device-mapper device "+orName(d.DMName, d.Name)+" is suspended")
	}
	for _, m := range j.obs.Mounts {
		if n, ok := j.obs.Nodes[m.Dev()]; ok && m.Major != 0 && n.Disk == d.Name && n.RO && !m.ReadOnly() {
			it.bad(plugin.CRITICAL, fmt.Sprintf("read-only (ro=1) under read-write mount %s", m.MountPoint))
		}
	}
	j.judgeIO(d, it)
	if d.errGrow > 0 {
		it.bad(plugin.CRITICAL, fmt.Sprintf("%d I/O errors since the last run (ioerr_cnt %d)", d.errGrow, d.IOErrors))
	}
	if d.logCount > 0 {
		it.bad(plugin.CRITICAL, fmt.Sprintf("%s in the kernel log since the last run, last: %s", human.Plural(d.logCount, "I/O error line", "I/O error lines"), d.logLast))
	}
	if len(it.problems) == 0 {
		it.info = append(it.info, deviceInfo(d)...)
	}
	return it
}

// judgeIO judges a stall and await, within the run or against the last.
func (j *judgement) judgeIO(d *devInfo, it *item) {
	prev, hasPrev := j.prev.Devices[d.Name]
	if !j.obs.Sampled && hasPrev && prev.Gone.IsZero() {
		d.delta = block.Diff(prev.Counters, d.cur, j.obs.Now.Sub(prev.At))
		d.hasDelta = d.delta.Valid
	}
	if d.hasDelta && d.delta.Stalled {
		since := j.obs.Now
		if j.obs.Sampled {
			since = j.obs.T0
		}
		// The stall began no later than the last run that saw the same
		// completions with requests in flight.
		if hasPrev && prev.Counters.Completed() == d.Counters.Completed() && prev.Counters.InFlight > 0 {
			since = prev.At
			if !prev.StallSince.IsZero() {
				since = prev.StallSince
			}
		}
		end := j.obs.Now
		if j.obs.Sampled {
			end = j.obs.T1
		}
		d.stalled, d.stallFor = true, end.Sub(since)
		if d.stallFor >= time.Duration(j.c.StallTime) {
			it.bad(plugin.CRITICAL, fmt.Sprintf("I/O stalled on %s for %s, %s in flight", d.Name,
				human.Duration(d.stallFor), human.Plural(int(d.cur.InFlight), "request", "requests")))
		}
	}
	if d.hasDelta && d.delta.Completed > 0 {
		aw := d.delta.AwaitMs
		switch {
		case j.c.AwaitCritical.IsSet() && j.c.AwaitCritical.Alerts(aw):
			it.bad(plugin.CRITICAL, fmt.Sprintf("await %s ms (critical %s)", threshold.FormatNumber(round1(aw)), j.c.AwaitCritical.String()))
		case j.c.AwaitWarning.IsSet() && j.c.AwaitWarning.Alerts(aw):
			it.bad(plugin.WARNING, fmt.Sprintf("await %s ms (warning %s)", threshold.FormatNumber(round1(aw)), j.c.AwaitWarning.String()))
		}
	}
	if prev.HasIOErr && d.HasIOErr && d.IOErrors > prev.IOErrors {
		d.errGrow = d.IOErrors - prev.IOErrors
	}
}

func deviceInfo(d *devInfo) []string {
	var out []string
	switch {
	case d.SCSIState != "":
		out = append(out, "state "+d.SCSIState)
	case d.HasVirtio:
		out = append(out, fmt.Sprintf("virtio status %#x", d.VirtioStatus))
	case d.LoopBacking != "":
		out = append(out, "backed by "+d.LoopBacking)
	case unused(d):
		out = append(out, "unused")
	}
	if d.Sectors > 0 {
		out = append(out, humanBytes(d.Sectors*512))
	}
	if d.RO {
		out = append(out, "read-only")
	}
	out = append(out, fmt.Sprintf("%d in flight", d.cur.InFlight))
	if d.hasDelta {
		out = append(out, fmt.Sprintf("await %s ms, util %s%%", threshold.FormatNumber(round1(d.delta.AwaitMs)), threshold.FormatNumber(round1(d.delta.UtilPct))))
	}
	if d.stalled {
		out = append(out, fmt.Sprintf("no completions for %s", human.Duration(d.stallFor)))
	}
	return out
}

func (j *judgement) devicePerf(d *devInfo) []plugin.Perf {
	await := plugin.NewPerf(d.Name+"_await", round1(d.delta.AwaitMs), "ms").WithThresholds(j.c.AwaitWarning, j.c.AwaitCritical).WithBounds(0, nan())
	util := plugin.NewPerf(d.Name+"_util", round1(d.delta.UtilPct), "%").WithBounds(0, 100)
	if !d.hasDelta {
		await.Unknown, util.Unknown = true, true
	}
	inflight := plugin.NewPerf(d.Name+"_inflight", float64(d.cur.InFlight), "").WithBounds(0, nan())
	// One metric family per quantity for all devices, told apart by label.
	await.Metric, util.Metric, inflight.Metric = "await", "utilization", "inflight"
	return []plugin.Perf{await, util, inflight}
}

// judgeArray adds an md array's problems to its device's line.
func judgeArray(a block.Array, it *item) {
	if a.Level != "" && a.Level != "unknown" {
		it.name = a.Name + " (md " + a.Level + ")"
	}
	okBefore := len(it.problems) == 0
	switch a.State {
	case "clean", "active", "active-idle", "write-pending", "read-auto", "":
	case "readonly":
		it.bad(plugin.WARNING, "array state readonly")
	default:
		it.bad(plugin.CRITICAL, "array state "+a.State)
	}
	if len(a.Failed) > 0 {
		it.bad(plugin.CRITICAL, "failed members: "+strings.Join(a.Failed, ", "))
	}
	rebuilding := a.SyncAction == "recover" || a.SyncAction == "reshape"
	progress := fmt.Sprintf("%s %s%% done", a.SyncAction, threshold.FormatNumber(round1(a.SyncPct)))
	if a.FinishMin > 0 {
		progress += fmt.Sprintf(", about %s to go", human.Duration(time.Duration(a.FinishMin*float64(time.Minute)).Round(time.Minute)))
	}
	switch {
	case a.Degraded > 0 && rebuilding:
		it.bad(plugin.WARNING, fmt.Sprintf("degraded (%d of %d members missing), rebuilding: %s", a.Degraded, a.Disks, progress))
	case a.Degraded > 0:
		it.bad(plugin.CRITICAL, fmt.Sprintf("degraded: %d of %d members missing", a.Degraded, a.Disks))
	case a.SyncAction == "resync" || rebuilding:
		it.bad(plugin.WARNING, progress)
	case a.SyncAction != "":
		it.info = append(it.info, progress)
	}
	if okBefore && len(it.problems) == 0 {
		it.info = append([]string{fmt.Sprintf("%s, %d/%d members", orName(a.State, "active"), a.Active, a.Disks)}, it.info...)
	} else if okBefore {
		it.info = nil
	}
}

func (j *judgement) judgeFilesystem(f *fsInfo) *item {
	it := &item{name: fsName(f)}
	if f.NotFound {
		it.bad(plugin.CRITICAL, "nothing mounted here")
		return it
	}
	p := f.Probe
	switch {
	case p.Hung && !p.Since.IsZero():
		it.bad(plugin.CRITICAL, j.stillHung(p))
	case p.Hung:
		it.bad(plugin.CRITICAL, fmt.Sprintf("no answer to %s in %s", p.Op, human.Duration(j.obs.Budget)))
	case p.Errno == syscall.EACCES || p.Errno == syscall.EPERM:
		it.info = append(it.info, fmt.Sprintf("%s not permitted as this user", p.Op))
	case p.Errno != 0:
		it.bad(plugin.CRITICAL, fmt.Sprintf("%s on %s (%s)%s", errnoText(p.Errno), p.Op, errnoName(p.Errno), deadDaemon(f, p.Errno)))
	case p.Err != nil:
		it.bad(plugin.UNKNOWN, "could not probe: "+p.Err.Error())
	}
	if f.EmergencyRO() {
		it.bad(plugin.CRITICAL, "emergency read-only after a filesystem error (emergency_ro)")
	} else if f.ReadOnly() && f.ExpectRW != "" {
		it.bad(plugin.CRITICAL, "mounted read-only, expected read-write ("+f.ExpectRW+")")
	}
	if e := f.Ext4; e.Count > 0 {
		it.bad(plugin.CRITICAL, fmt.Sprintf("%s recorded (first %s in %s, last %s in %s): run e2fsck",
			human.Plural(int(e.Count), "ext4 error", "ext4 errors"), stamp(e.FirstTime), e.FirstFunc, stamp(e.LastTime), e.LastFunc))
	}
	if f.xfsDown != "" {
		it.bad(plugin.CRITICAL, "XFS shut down: "+f.xfsDown)
	}
	if f.logCount > 0 {
		it.bad(plugin.CRITICAL, fmt.Sprintf("%s in the kernel log since the last run, last: %s", human.Plural(f.logCount, "filesystem error line", "filesystem error lines"), f.logLast))
	}
	if len(it.problems) == 0 {
		mode := "rw"
		if f.ReadOnly() {
			mode = "ro"
		}
		it.info = append([]string{mode}, it.info...)
		if p.OK() {
			it.info = append(it.info, fmt.Sprintf("statfs, stat and readdir answered in %s", ms(p.Elapsed)))
		}
	}
	return it
}

// deadDaemon explains ENOTCONN on a FUSE mount: the kernel answers so
// once the daemon serving it has gone, and until it is unmounted.
func deadDaemon(f *fsInfo, e syscall.Errno) string {
	if e != syscall.ENOTCONN || (f.FSType != "fuse" && !strings.HasPrefix(f.FSType, "fuse.")) {
		return ""
	}
	return ": its FUSE daemon has gone; unmount and mount it again"
}

// stillHung says since when a target is hung whose stuck probe, from
// this run, an earlier one or another plugin, keeps it from being probed.
func (j *judgement) stillHung(p mounts.ProbeResult) string {
	ago := j.obs.Now.Sub(p.Since).Round(time.Second)
	if ago < 0 {
		ago = 0
	}
	return fmt.Sprintf("still hung since %s (%s ago): the probe (pid %d) has not returned and is not probed again",
		p.Since.Local().Format("2006-01-02 15:04:05"), human.Duration(ago), p.Pid)
}

func (j *judgement) judgeTest(t *testObs) *item {
	what := "write test in " + t.Path
	if t.Op == isolate.ReadDirect {
		what = "direct read of " + t.Path
	}
	it := &item{name: what}
	p := t.Res
	switch {
	case t.Bad != "":
		flag := "--write-test"
		if t.Op == isolate.ReadDirect {
			flag = "--read-test"
		}
		it.bad(plugin.UNKNOWN, flag+" "+t.Bad)
	case p.Hung && !p.Since.IsZero():
		it.bad(plugin.CRITICAL, j.stillHung(p)+" (mount "+t.Target+")")
	case p.Hung:
		it.bad(plugin.CRITICAL, "no answer in "+human.Duration(j.obs.Budget))
	case p.Errno != 0:
		it.bad(plugin.CRITICAL, fmt.Sprintf("%s (%s)", errnoText(p.Errno), errnoName(p.Errno)))
	case p.Err != nil:
		it.bad(plugin.UNKNOWN, p.Err.Error())
	default:
		it.info = append(it.info, "ok in "+ms(p.Elapsed))
	}
	return it
}

// fileLogs files kernel log lines under devices and filesystems.
func (j *judgement) fileLogs() {
	diskOf := map[string]string{}
	for _, n := range j.obs.Nodes {
		diskOf[n.Name] = n.Disk
	}
	for _, rec := range j.logs {
		node, kind := classifyLog(rec.Message)
		if kind == logNone {
			continue
		}
		if kind == logXFSShutdown || kind == logFSError {
			for _, f := range j.fss {
				if f.Node.Name != node {
					continue
				}
				if kind == logXFSShutdown {
					f.xfsDown = rec.Message
				} else {
					f.logCount++
					f.logLast = rec.Message
				}
			}
			continue
		}
		disk := diskOf[node]
		if disk == "" {
			disk = node
		}
		for _, d := range j.devs {
			// An unused loop device's lines are about an earlier attachment.
			if d.Name == disk && !unused(d) {
				d.logCount++
				d.logLast = rec.Message
			}
		}
	}
}

// remember records this run's counters for the next.
func (j *judgement) remember() {
	for _, d := range j.devs {
		if !d.gone.IsZero() {
			j.next.Devices[d.Name] = savedDevice{Gone: d.gone, At: j.obs.Now}
			continue
		}
		sd := savedDevice{Counters: d.cur, At: j.obs.Now, IOErrors: d.IOErrors, HasIOErr: d.HasIOErr}
		if j.obs.Sampled {
			sd.At = j.obs.T1
		}
		if d.stalled {
			sd.StallSince = sd.At.Add(-d.stallFor)
		}
		j.next.Devices[d.Name] = sd
	}
}

func fsName(f *fsInfo) string {
	var where []string
	switch {
	case f.Node.Name != "":
		where = append(where, f.Node.Name)
	case f.Source != "" && f.Kind != mounts.Block:
		where = append(where, f.Source)
	}
	if f.FSType != "" {
		where = append(where, f.FSType)
	}
	if len(where) == 0 {
		return f.MountPoint
	}
	return f.MountPoint + " (" + strings.Join(where, ", ") + ")"
}

// errnoText is strerror with a capital: "Input/output error".
func errnoText(e syscall.Errno) string {
	s := e.Error()
	if s == "" {
		return "error"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var errnoNames = map[syscall.Errno]string{
	syscall.EIO: "EIO", syscall.ENOTCONN: "ENOTCONN", syscall.ESTALE: "ESTALE", syscall.EROFS: "EROFS",
	syscall.ENOENT: "ENOENT", syscall.ENOTDIR: "ENOTDIR", syscall.EUCLEAN: "EUCLEAN", syscall.ENOSPC: "ENOSPC",
	syscall.EDQUOT: "EDQUOT", syscall.ENODEV: "ENODEV", syscall.ENXIO: "ENXIO", syscall.EINVAL: "EINVAL",
	syscall.EACCES: "EACCES", syscall.EPERM: "EPERM", syscall.EHOSTDOWN: "EHOSTDOWN", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.ENOMEDIUM: "ENOMEDIUM", syscall.EREMOTEIO: "EREMOTEIO", syscall.ECONNABORTED: "ECONNABORTED",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

func virtioFlags(s uint64) string {
	var f []string
	if s&block.VirtioFailed != 0 {
		f = append(f, "FAILED")
	}
	if s&block.VirtioNeedsReset != 0 {
		f = append(f, "NEEDS_RESET")
	}
	return " " + strings.Join(f, "|")
}

// unused is a loop, ram or zram device set up by nobody: size 0 there is
// normal unless the device was asked for by name.
func unused(d *devInfo) bool {
	return d.Virtual() && !d.named && d.Sectors == 0
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func ms(d time.Duration) string {
	return threshold.FormatNumber(round1(float64(d)/float64(time.Millisecond))) + " ms"
}

func round1(f float64) float64 {
	return float64(int64(f*10+0.5)) / 10
}

func humanBytes(b uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return threshold.FormatNumber(round1(v)) + " " + units[i]
}

func nan() float64 {
	var z float64
	return z / z
}
