package engines

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/fusetest"
)

// The soak: a real Nagios 4 runs every plugin as many services at short
// intervals against a hung FUSE mount, a TCP port that accepts and never
// answers, and healthy targets, for HINDSIGHT_SOAK (default 3m; `make soak
// DURATION=1h`). A hung target must cost at most one stuck probe child
// across all runs and all plugins; memory must stay flat; Nagios must
// never have to kill a check, and no service may go stale.

const (
	// probeArg is pkg/isolate's childArg: argv[1] of a probe child.
	probeArg = "__hindsight_probe__"
	// soakPluginTimeout is every service's -t. Nagios' own limit is far
	// above it: a check Nagios kills is a check that overran its -t.
	soakPluginTimeout  = 3 * time.Second
	soakNagiosTimeout  = 20 * time.Second
	soakDefault        = 3 * time.Minute
	soakSampleInterval = 3 * time.Second
	// soakStaleAfter intervals without a result make a service stale.
	soakStaleAfter = 3
	// soakRSSFactor and soakRSSSlack: the mean RSS of the last third of
	// the samples may exceed the first third's by this factor plus slack
	// (plugins in flight at a sample come and go); a pile of stuck
	// children, a few MiB each, grows far past it.
	soakRSSFactor = 1.5
	soakRSSSlack  = 32 << 10 // KiB
	clockTicks    = 100      // USER_HZ, for /proc/PID/stat's starttime
)

// soakLate: a plugin process this old, or a result that took this long,
// is stuck rather than slow. Every run ends by its -t; a machine whose
// CPUs are shared with other tests stretches that (up to 7s seen with
// -t 3), so the limit is three times -t, half of Nagios' own.
const soakLate = 3 * soakPluginTimeout

type soakService struct {
	Name     string
	Plugin   string
	Interval int // seconds
	Args     []string
}

// soakServices: at least two services per plugin. {mnt} is the hung FUSE
// mount, {blackhole} a port that accepts and never answers, {tls} a
// healthy TLS server, {http} a healthy HTTP server, {cert} a valid
// certificate file.
var soakServices = []soakService{
	{"cert_hung_dir", "check_cert_expiry", 5, []string{"-d", "{mnt}/certs"}},
	{"cert_hung_glob", "check_cert_expiry", 7, []string{"-f", "{mnt}/certs/*.pem"}},
	{"cert_hung_file", "check_cert_expiry", 10, []string{"-f", "{mnt}/certs/a.pem", "-f", "{cert}"}},
	{"cert_hung_mixed", "check_cert_expiry", 5, []string{"-d", "{mnt}/certs", "-H", "{tls}", "--insecure", "-f", "{cert}"}},
	{"cert_ok_file", "check_cert_expiry", 10, []string{"-f", "{cert}"}},
	{"cert_blackhole", "check_cert_expiry", 7, []string{"-H", "{blackhole}"}},
	{"cert_tls_ok", "check_cert_expiry", 10, []string{"-H", "{tls}", "--insecure"}},
	{"blockdev_default", "check_blockdev", 10, nil},
	{"blockdev_hung_mount", "check_blockdev", 7, []string{"-p", "{mnt}"}},
	{"blockdev_hung_rw", "check_blockdev", 5, []string{"-p", "{mnt}", "--read-test", "{mnt}/data/block", "--write-test", "{mnt}/data"}},
	{"blockdev_hung_rw_again", "check_blockdev", 10, []string{"-p", "{mnt}", "--read-test", "{mnt}/data/block", "--write-test", "{mnt}/data"}},
	{"stuck_default", "check_stuck_procs", 10, nil},
	{"stuck_in_d", "check_stuck_procs", 7, []string{"-s", "D"}},
	{"load_default", "check_load", 10, nil},
	{"load_percpu", "check_load", 5, []string{"-r", "-w", "5,4,3", "-c", "10,8,6"}},
	{"http_ok", "check_http_status", 5, []string{"-u", "{http}/ok", "-s", "healthy"}},
	{"http_forbidden", "check_http_status", 10, []string{"-u", "{http}/forbidden"}},
	{"http_blackhole", "check_http_status", 7, []string{"-u", "http://{blackhole}/"}},
	{"monitoring_hung_status", "check_monitoring", 7, []string{"--nagios-status", "{mnt}/status.dat", "--no-state-file"}},
	{"monitoring_hung_config", "check_monitoring", 10, []string{"--nagios-config", "{mnt}/nagios.cfg", "--no-state-file"}},
}

// soakSample is one look at our processes: those whose executable is one
// of the lab's plugin binaries.
type soakSample struct {
	At      time.Duration  // since Nagios started
	Procs   int            // ours, zombies excluded
	InD     int            // of them in D
	Probes  int            // probe children
	Stuck   int            // probe children whose plugin run is over: abandoned, by definition stuck
	StuckBy map[string]int // stuck probe children by the path they probe
	Overrun int            // plugin processes (not probes) older than soakLate
	RSS     int64          // KiB, summed over ours
	Zombies int            // dead children of ours nobody reaped (this sandbox's PID 1 does not)
	Stale   []string       // services without a result for soakStaleAfter intervals
}

func TestSoak(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the soak: " + why)
	}
	duration := soakDuration(t)
	began := time.Now()
	lab := newLab(t, "nagios4")
	t.Logf("plugins built and lab ready in %v", time.Since(began).Round(time.Second))
	if dl, ok := t.Deadline(); ok && time.Until(dl) < duration+3*time.Minute {
		t.Fatalf("HINDSIGHT_SOAK=%v does not fit in go test's -timeout (%v left): raise -timeout", duration, time.Until(dl).Round(time.Second))
	}
	fsys := soakTargets(t, lab)
	services, hung := soakExpand(lab, fsys)
	t.Logf("soak: %d services, plugins' -t %v, Nagios' service_check_timeout %v, for %v; hung targets (%d): %s",
		len(services), soakPluginTimeout, soakNagiosTimeout, duration, len(hung), strings.Join(hung, " "))

	dir, mainCfg := soakNagiosConfig(t, lab, services)
	bins := map[string]string{}
	for _, s := range services {
		bins[lab.Bin(s.Plugin)] = s.Plugin
	}
	// Cleanups run last registered first: Nagios stops (so no check runs
	// against the mount once it answers again), then the hung requests are
	// answered so that the stuck children can die, then the unmount.
	t.Cleanup(func() { soakRelease(t, fsys, bins) })
	start := time.Now()
	nagios := startDaemonFor(t, lab, "nagios4", duration+2*time.Minute, "nagios4", mainCfg)

	var samples []soakSample
	for time.Since(start) < duration {
		time.Sleep(soakSampleInterval)
		s := soakScan(bins)
		s.At = time.Since(start)
		s.Stale = soakStale(readStatus(filepath.Join(dir, "status.dat")), services, time.Since(start))
		samples = append(samples, s)
	}
	final := readStatus(filepath.Join(dir, "status.dat"))
	nagios.stop(t) // flushes the perfdata file, which holds every result
	soakRelease(t, fsys, bins)
	t.Logf("Nagios stopped and the mount released %v after the run", (time.Since(start) - duration).Round(time.Second))

	t.Log("samples (procs: ours; D: in D; probes: probe children; stuck: probes whose plugin has exited; overrun: plugins older than " + soakLate.String() + "; RSS: ours, MiB):\n" + soakTable(samples))
	results := soakResults(t, filepath.Join(dir, "results.log"))
	t.Log("results by service:\n" + soakServiceTable(services, results))

	soakJudgeProcs(t, samples, hung)
	soakJudgeRSS(t, samples)
	soakJudgeStale(t, samples, services, final, time.Since(start))
	soakJudgeResults(t, services, results, filepath.Join(dir, "nagios.log"))
}

// soakDuration is HINDSIGHT_SOAK, a Go duration, or soakDefault.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("HINDSIGHT_SOAK")
	if v == "" {
		return soakDefault
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 30*time.Second {
		t.Fatalf("HINDSIGHT_SOAK=%q: want a Go duration of at least 30s (3m, 1h)", v)
	}
	return d
}

// soakTargets mounts the FUSE filesystem, hung from the start, and starts
// the loopback servers.
func soakTargets(t *testing.T, lab *Lab) *fusetest.FS {
	backing := filepath.Join(lab.Dir, "soak-backing")
	for _, d := range []string{"certs", "data"} {
		must(t, os.MkdirAll(filepath.Join(backing, d), 0o777))
	}
	cert := certtest.New(t, certtest.Spec{CN: "127.0.0.1", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	writeFile(t, filepath.Join(backing, "certs", "a.pem"), string(cert.PEM()))
	writeFile(t, filepath.Join(backing, "data", "block"), strings.Repeat("x", 4096))
	mnt := filepath.Join(lab.Dir, "soak-mnt")
	must(t, os.MkdirAll(mnt, 0o755))
	fsys, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fsys.Close(); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	fsys.Set("all", fusetest.Hang)
	lab.Vars["mnt"] = mnt
	lab.Vars["blackhole"] = blackhole(t)
	lab.Vars["tls"] = certtest.ServeTLS(t, cert.TLS())
	return fsys
}

// blackhole listens on loopback, accepts every connection and never
// answers: the port of a wedged server.
func blackhole(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// soakExpand fills in the placeholders and -t, and lists the hung
// targets: the mount and every path under it that a service names.
func soakExpand(lab *Lab, fsys *fusetest.FS) ([]soakService, []string) {
	seen := map[string]bool{fsys.Mountpoint: true}
	var out []soakService
	for _, s := range soakServices {
		args := lab.Args(Case{Args: s.Args})
		for _, a := range args {
			if strings.HasPrefix(a, fsys.Mountpoint) {
				seen[a] = true
			}
		}
		s.Args = append(args, "-t", strconv.Itoa(int(soakPluginTimeout.Seconds())))
		out = append(out, s)
	}
	var hung []string
	for p := range seen {
		hung = append(hung, p)
	}
	sort.Strings(hung)
	return out, hung
}

// soakNagiosConfig writes and checks nagios.cfg (TestNagios' settings,
// with Nagios' timeout far above -t and every result appended to
// results.log) and one service per soakService through the shipped
// command definitions.
func soakNagiosConfig(t *testing.T, lab *Lab, services []soakService) (dir, mainCfg string) {
	dir = nagiosDir(t, lab, "soak-nagios")
	conf := nagiosConf{Edits: map[string]string{
		"service_check_timeout=30\n": fmt.Sprintf("service_check_timeout=%d\n", int(soakNagiosTimeout.Seconds())),
		"process_performance_data=0\n": "process_performance_data=1\n" +
			"service_perfdata_file=" + dir + "/results.log\n" +
			"service_perfdata_file_mode=a\n" +
			`service_perfdata_file_template=$TIMET$\t$SERVICEDESC$\t$SERVICESTATEID$\t$SERVICEEXECUTIONTIME$\t$SERVICEOUTPUT$` + "\n" +
			"service_perfdata_file_processing_interval=0\n",
	}}
	for _, s := range services {
		conf.Plugins = append(conf.Plugins, s.Plugin)
		conf.Objects += nagiosService(t, s.Name, s.Plugin, s.Args, s.Interval, "\tprocess_perf_data     1\n")
	}
	return dir, writeNagios(t, lab, dir, conf)
}

// ourProc is a process whose executable is one of the lab's binaries.
type ourProc struct {
	PID, PPID int
	Probe     bool
	ProbePath string // argv[3] of a probe child: the path it works on
	State     byte
	Age       time.Duration
	RSS       int64 // KiB
}

// soakScan looks at every process of ours. A probe child whose parent is
// one of our live plugin processes is in progress; any other was
// abandoned by its run and counts as stuck, whatever its age or state.
func soakScan(bins map[string]string) soakSample {
	s := soakSample{StuckBy: map[string]int{}}
	comms := map[string]bool{}
	for _, plugin := range bins {
		comms[plugin[:min(len(plugin), 15)]] = true
	}
	uptime := readUptime()
	var ours []ourProc
	plugins := map[int]bool{}
	for _, pid := range allPIDs() {
		p, comm, ok := readOurProc(pid, bins, uptime)
		if !ok {
			if comm != "" && comms[comm] {
				s.Zombies++
			}
			continue
		}
		ours = append(ours, p)
		if !p.Probe {
			plugins[p.PID] = true
		}
	}
	for _, p := range ours {
		s.Procs++
		s.RSS += p.RSS
		if p.State == 'D' {
			s.InD++
		}
		switch {
		case p.Probe:
			s.Probes++
			if !plugins[p.PPID] {
				s.Stuck++
				s.StuckBy[p.ProbePath]++
			}
		case p.Age > soakLate:
			s.Overrun++
		}
	}
	return s
}

// readOurProc reads pid if it is ours and alive. Otherwise it returns the
// command name of a zombie, so the caller can count ours. It reads
// /proc/PID/cmdline only of our own processes: their binaries are not on
// the hung mount, so no page fault of theirs holds the memory map lock
// that reading it takes.
func readOurProc(pid int, bins map[string]string, uptime float64) (p ourProc, zombieComm string, ok bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return p, "", false
	}
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return p, "", false
	}
	f := strings.Fields(string(stat[end+1:])) // field 3 (state) onwards
	if len(f) < 20 {
		return p, "", false
	}
	if f[0] == "Z" {
		return p, string(stat[open+1 : end]), false
	}
	exe, err := os.Readlink(dir + "/exe")
	if err != nil {
		return p, "", false
	}
	if _, mine := bins[strings.TrimSuffix(exe, " (deleted)")]; !mine {
		return p, "", false
	}
	p.PID, p.State = pid, f[0][0]
	p.PPID, _ = strconv.Atoi(f[1])
	if ticks, err := strconv.ParseFloat(f[19], 64); err == nil { // field 22, starttime
		p.Age = time.Duration((uptime - ticks/clockTicks) * float64(time.Second))
	}
	p.RSS = statusKiB(dir+"/status", "VmRSS:")
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil {
		argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(argv) > 1 && argv[1] == probeArg {
			p.Probe = true
			if len(argv) > 3 {
				p.ProbePath = argv[3]
			}
		}
	}
	return p, "", true
}

func readUptime() float64 {
	b, _ := os.ReadFile("/proc/uptime")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// statusKiB reads a "Key:   N kB" line of /proc/PID/status.
func statusKiB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// soakStale lists the services whose last result (status.dat's
// last_check) is more than soakStaleAfter intervals old; a service never
// checked counts from Nagios' start.
func soakStale(status map[string]map[string]string, services []soakService, sinceStart time.Duration) []string {
	now := time.Now().Unix()
	var stale []string
	for _, s := range services {
		limit := int64(soakStaleAfter * s.Interval)
		st := status[s.Name]
		if st == nil || st["has_been_checked"] != "1" {
			if int64(sinceStart.Seconds()) > limit {
				stale = append(stale, s.Name+" (never checked)")
			}
			continue
		}
		last, _ := strconv.ParseInt(st["last_check"], 10, 64)
		if age := now - last; age > limit {
			stale = append(stale, fmt.Sprintf("%s (last check %ds ago, interval %ds)", s.Name, age, s.Interval))
		}
	}
	return stale
}

// soakRelease answers every hung request, so that stuck children leave D,
// then kills what is left of ours by pid and waits for it to go. Called
// after the run and again by the cleanup, which then finds nothing.
func soakRelease(t *testing.T, fsys *fusetest.FS, bins map[string]string) {
	fsys.Release()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var left []int
		uptime := readUptime()
		for _, pid := range allPIDs() {
			if _, _, ok := readOurProc(pid, bins, uptime); ok {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d processes of ours still alive 15s after the mount answered again: %v", len(left), left)
			return
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// soakResult is one check result, as Nagios appended it to results.log.
type soakResult struct {
	At     int64
	State  string
	Exec   float64 // seconds
	Output string
}

func soakResults(t *testing.T, path string) map[string][]soakResult {
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("results of the soak: %v", err)
		return nil
	}
	defer f.Close()
	out := map[string][]soakResult{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), "\t", 5)
		if len(fields) < 5 {
			continue
		}
		at, _ := strconv.ParseInt(fields[0], 10, 64)
		exec, _ := strconv.ParseFloat(fields[3], 64)
		out[fields[1]] = append(out[fields[1]], soakResult{At: at, State: fields[2], Exec: exec, Output: fields[4]})
	}
	return out
}

// soakTable is the samples as a compact table, at most about 60 rows.
func soakTable(samples []soakSample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%7s %6s %5s %7s %6s %7s %8s %8s %6s\n", "t", "procs", "D", "probes", "stuck", "overrun", "RSS MiB", "zombies", "stale")
	step := max(1, len(samples)/60)
	for i, s := range samples {
		if i%step != 0 && i != len(samples)-1 {
			continue
		}
		fmt.Fprintf(&b, "%7s %6d %5d %7d %6d %7d %8.1f %8d %6d\n", s.At.Round(time.Second), s.Procs, s.InD, s.Probes, s.Stuck, s.Overrun, float64(s.RSS)/1024, s.Zombies, len(s.Stale))
	}
	return b.String()
}

// soakServiceTable: per service, the number of results, the states seen,
// the longest execution, how many took longer than twice -t (slow, under
// load), and its distinct outputs (digits masked) with their counts.
func soakServiceTable(services []soakService, results map[string][]soakResult) string {
	var b strings.Builder
	for _, s := range services {
		states := map[string]int{}
		outputs := map[string]int{}
		longest, slow := 0.0, 0
		for _, r := range results[s.Name] {
			states[r.State]++
			outputs[digits.ReplaceAllString(r.Output, "#")]++
			longest = max(longest, r.Exec)
			if r.Exec > 2*soakPluginTimeout.Seconds() {
				slow++
			}
		}
		fmt.Fprintf(&b, "%s (%s every %ds): %d results, states %v, longest %.2fs, %d over %v\n",
			s.Name, s.Plugin, s.Interval, len(results[s.Name]), states, longest, slow, 2*soakPluginTimeout)
		var distinct []string
		for o, n := range outputs {
			distinct = append(distinct, fmt.Sprintf("    %3dx %s", n, tail(o, 200)))
		}
		sort.Strings(distinct)
		if len(distinct) > 4 {
			distinct = append(distinct[:4], fmt.Sprintf("    ... %d more", len(distinct)-4))
		}
		b.WriteString(strings.Join(distinct, "\n") + "\n")
	}
	return b.String()
}

// soakJudgeProcs: at every sample, at most one stuck probe child per hung
// target and no more than there are hung targets; no plugin process
// past its deadline.
func soakJudgeProcs(t *testing.T, samples []soakSample, hung []string) {
	worst, overrun := -1, -1
	for i, s := range samples {
		bad := s.Stuck > len(hung)
		for _, n := range s.StuckBy {
			bad = bad || n > 1
		}
		if bad && (worst < 0 || s.Stuck > samples[worst].Stuck) {
			worst = i
		}
		if s.Overrun > 0 && overrun < 0 {
			overrun = i
		}
	}
	if worst >= 0 {
		s := samples[worst]
		var by []string
		for p, n := range s.StuckBy {
			by = append(by, fmt.Sprintf("%4d  %s", n, p))
		}
		sort.Strings(by)
		t.Errorf("stuck probe children pile up: %d at %v (%d in D of %d of ours, %.0f MiB), want at most one per hung target (%d); by target:\n%s\nat the end: %d stuck",
			s.Stuck, s.At.Round(time.Second), s.InD, s.Procs, float64(s.RSS)/1024, len(hung), strings.Join(by, "\n"), samples[len(samples)-1].Stuck)
	}
	if overrun >= 0 {
		t.Errorf("%d plugin processes (not probe children) older than %v at %v: a run overran its -t", samples[overrun].Overrun, soakLate, samples[overrun].At.Round(time.Second))
	}
}

// soakJudgeRSS: the summed RSS of ours must not grow along the run.
func soakJudgeRSS(t *testing.T, samples []soakSample) {
	if len(samples) < 6 {
		t.Errorf("only %d samples: too few to judge memory", len(samples))
		return
	}
	third := len(samples) / 3
	mean := func(ss []soakSample) float64 {
		var sum int64
		for _, s := range ss {
			sum += s.RSS
		}
		return float64(sum) / float64(len(ss))
	}
	first, last := mean(samples[:third]), mean(samples[len(samples)-third:])
	limit := first*soakRSSFactor + soakRSSSlack
	t.Logf("RSS of ours: first third %.1f MiB, last third %.1f MiB (limit %.1f MiB)", first/1024, last/1024, limit/1024)
	if last > limit {
		t.Errorf("RSS of our processes grows: mean %.1f MiB in the last third of the run, %.1f MiB in the first (limit %.1f MiB)", last/1024, first/1024, limit/1024)
	}
}

// soakJudgeStale: no sample saw a stale service, and every service has a
// recent result at the end.
func soakJudgeStale(t *testing.T, samples []soakSample, services []soakService, final map[string]map[string]string, sinceStart time.Duration) {
	seen := map[string]time.Duration{}
	var order []string
	for _, s := range samples {
		for _, name := range s.Stale {
			key, _, _ := strings.Cut(name, " ")
			if _, ok := seen[key]; !ok {
				seen[key] = s.At
				order = append(order, fmt.Sprintf("%s first at %v", name, s.At.Round(time.Second)))
			}
		}
	}
	if len(order) > 0 {
		t.Errorf("services went stale (no result within %d intervals):\n%s", soakStaleAfter, strings.Join(order, "\n"))
	}
	if stale := soakStale(final, services, sinceStart); len(stale) > 0 {
		t.Errorf("stale at the end: %s", strings.Join(stale, "; "))
	}
}

// soakJudgeResults: Nagios never had to kill a check (its timeout is far
// above -t) nor saw a bad exit, and no result took soakLate or longer.
func soakJudgeResults(t *testing.T, services []soakService, results map[string][]soakResult, logPath string) {
	nagiosMarks := []string{"Service check timed out", "out of bounds", "(No output on stdout)"}
	for _, s := range services {
		late := 0
		var longest soakResult
		for _, r := range results[s.Name] {
			for _, m := range nagiosMarks {
				if strings.Contains(r.Output, m) {
					t.Errorf("%s: Nagios recorded %q", s.Name, r.Output)
				}
			}
			if r.Exec > soakLate.Seconds() {
				late++
				if r.Exec > longest.Exec {
					longest = r
				}
			}
		}
		if late > 0 {
			t.Errorf("%s: %d of %d results took longer than %v (longest %.2fs: %s)", s.Name, late, len(results[s.Name]), soakLate, longest.Exec, longest.Output)
		}
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Errorf("Nagios log: %v", err)
		return
	}
	var bad []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "Check of service") && strings.Contains(line, "timed out") || strings.Contains(line, "was out of bounds") {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("Nagios killed or rejected %d checks; first lines:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
}
