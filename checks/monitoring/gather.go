package monitoring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// observations are what gather read, all judge needs: no judge reads the
// host or the clock.
type observations struct {
	Now     time.Time
	Prev    *saved // the last run's state, nil for none
	Nagios  *nagiosObs
	Icinga  *icingaObs
	Verbose int
}

// nagiosObs is what a Nagios 4 or Naemon engine left on disk, and its
// process.
type nagiosObs struct {
	ConfigPath    string // "" when no configuration was read
	Config        nagiosstatus.Config
	StatusPath    string
	StatusMissing bool // no status.dat: Nagios removes it when it stops
	Status        nagiosstatus.Status
	Proc          engineProc
	Log           notifLog
	OOM           []kmsg.Victim
	OOMNote       string // why the kernel log was not read (a note)
	OOMBad        string // an explicit --kmsg that cannot be read (UNKNOWN)
	OOMCount      oomCount
	Lock          lockObs
	Restarted     *saved // the process of the last run, when another one runs now
}

// notifLog is what an engine's log says of notifications.
type notifLog struct {
	Path string // "" when there is no log to read
	Log  *nagiosstatus.Log
	Cut  bool  // the log was longer than read: only its end was read
	Err  error // the log could not be read (UNKNOWN)
	// Missing says why a log named by default is not there (a note).
	Missing string
	// Rotated says the log starts after the last run's read ended: what
	// was logged in between is in the rotated file (a note).
	Rotated string
}

// lockObs is the engine's lock file (lock_file in the configuration):
// the pid of the engine that started last, which tells which process is
// hung or stopped when status.dat, which names its writer, is stale,
// missing, or names another one.
type lockObs struct {
	Path string      // "" when the configuration names none
	PID  int         // 0 when not read
	Proc *engineProc // the lock pid's process, read when status.dat does not name it
	Note string      // why it was not read (a -v note)
}

// oomCount is the kernel's count of OOM kills (oom_kill in vmstat),
// compared with the last run's: it tells that the OOM killer ran even
// when the kernel log, which names its victims, is closed to the user
// the check runs as.
type oomCount struct {
	Known    bool
	Total    uint64 // since boot
	BootID   string // "" when the procfs root has none (a fixture tree)
	Compared bool   // the last run counted too, in the same boot
	Since    uint64 // kills since the last run, when Compared
	Why      string // why there is no count (a -v note)
}

// engineProc is the engine's process as /proc shows it.
type engineProc struct {
	PID     int
	Found   bool   // the pid is the engine's process
	Gone    string // why not, when not Found
	State   byte   // R S D T t Z ...
	Comm    string
	Started int64 // Unix seconds
	RSS     int64 // bytes
	Err     error // /proc could not be read (UNKNOWN)
	// Foreign says the pid is a process of another program: the engine
	// that gave it runs elsewhere (an API on loopback through a tunnel).
	Foreign bool
}

// Alive reports whether the engine's process exists and is not a zombie.
func (p engineProc) Alive() bool { return p.Found && p.State != 'Z' && p.State != 'X' }

// defaultConfigs are tried in order when neither --nagios-config nor
// --nagios-status is given: Debian's nagios4, Naemon, a source install.
var defaultConfigs = []string{"/etc/nagios4/nagios.cfg", "/etc/naemon/naemon.cfg", "/usr/local/nagios/etc/nagios.cfg"}

// firstRunLookBack is how far back the log is read when there is no last
// run to start from.
const firstRunLookBack = time.Hour

func gather(ctx context.Context, env *plugin.Env, o *Options, prev *saved) (observations, error) {
	obs := observations{Now: env.Now(), Prev: prev, Verbose: env.Verbose}
	if o.nagiosWanted() {
		n, err := gatherNagios(ctx, env, o, prev)
		if err != nil {
			return obs, err
		}
		obs.Nagios = n
	}
	if o.IcingaAPI != "" {
		ic, err := gatherIcinga(ctx, env, o, prev)
		if err != nil {
			return obs, err
		}
		obs.Icinga = ic
	}
	return obs, nil
}

func gatherNagios(ctx context.Context, env *plugin.Env, o *Options, prev *saved) (*nagiosObs, error) {
	src := env.Files()
	n := &nagiosObs{Config: nagiosstatus.Config{StatusUpdateInterval: 10, IntervalLength: nagiosstatus.DefaultIntervalLength, Notifications: true}}
	if err := readConfig(ctx, env, o, n); err != nil {
		return nil, err
	}
	n.StatusPath = o.NagiosStatus
	if n.StatusPath == "" {
		n.StatusPath = n.Config.StatusFile
	}
	if n.StatusPath == "" {
		return nil, fmt.Errorf("%s has no status_file: give --nagios-status", n.ConfigPath)
	}
	done := env.Begin("reading " + n.StatusPath)
	err := readStatus(ctx, src, n)
	done()
	if err != nil {
		return nil, err
	}
	if !n.StatusMissing {
		done = env.Begin("reading the engine's process in " + o.Procfs)
		n.Proc = readProc(ctx, env, o, n.Status.Program)
		done()
	}
	readLock(ctx, env, o, n)
	readLog(ctx, env, o, n, prev)
	n.OOMCount = readOOMCount(ctx, env, o, prev)
	readOOM(ctx, env, o, n, prev)
	return n, nil
}

// readStatus parses status.dat as it is read; a file that is not there
// is news (the engine removes it when it stops), not an error.
func readStatus(ctx context.Context, src *files.Source, n *nagiosObs) error {
	r, err := src.Open(ctx, files.Status, n.StatusPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		n.StatusMissing = true
		return nil
	case err != nil:
		return err
	}
	defer r.Close()
	var size int64 // a hint: a file that changed since is read as it is
	if info, err := src.Stat(ctx, n.StatusPath); err == nil {
		size = info.Size
	}
	n.Status, err = nagiosstatus.Parse(r, size)
	var ferr *files.Error
	switch {
	case errors.As(err, &ferr):
		return err // names the path already
	case err != nil:
		return fmt.Errorf("%s: %w", n.StatusPath, err)
	}
	return nil
}

// readConfig reads --nagios-config, or the first default configuration
// that exists when no status file is given either.
func readConfig(ctx context.Context, env *plugin.Env, o *Options, n *nagiosObs) error {
	src := env.Files()
	path := o.NagiosConfig
	if path == "" && o.NagiosStatus == "" {
		for _, p := range defaultConfigs {
			if _, err := src.Stat(ctx, p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return fmt.Errorf("no Nagios 4 or Naemon configuration found (tried %s): give --nagios-config, --nagios-status or --icinga-api", joinComma(defaultConfigs))
		}
	}
	if path == "" {
		return nil
	}
	done := env.Begin("reading " + path)
	data, err := src.Read(ctx, files.Config, path)
	done()
	if err != nil {
		return err
	}
	c, err := nagiosstatus.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	n.ConfigPath, n.Config = path, c
	return nil
}

// readProc finds the engine's process by the pid in status.dat; a
// process that started after the engine says it did is another one that
// took the pid. Without a pid, Gone says what status.dat "gives".
func readProc(ctx context.Context, env *plugin.Env, o *Options, prog nagiosstatus.Program) engineProc {
	p := engineProc{PID: prog.PID}
	switch {
	case prog.BadPID != "":
		// An absurd pid (-5, 0, 1e300) is no pid: never read as another
		// number, never cut.
		p.PID, p.Gone = 0, "gives no valid pid ("+prog.BadPID+")"
		return p
	case prog.PID <= 0:
		p.PID, p.Gone = 0, "gives no pid"
		return p
	}
	pfs, err := proc.OpenDir(ctx, env.Files().Dir(ctx, o.Procfs))
	if err != nil {
		p.Err = fmt.Errorf("--procfs %w", err)
		return p
	}
	defer pfs.Close()
	// The boot time first: a root that is no procfs (an empty directory)
	// is an error naming it, not "no process".
	btime, err := pfs.BootTime()
	if err != nil {
		p.Err = err
		return p
	}
	st, err := pfs.ReadStat(prog.PID, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || proc.IsVanished(err) {
			p.Gone = "no process " + strconv.Itoa(prog.PID)
			return p
		}
		p.Err = err
		return p
	}
	p.Comm, p.State = st.Comm, st.State
	p.Started = int64(btime) + int64(st.StartTime/proc.UserHZ)
	p.RSS = st.RSS * int64(unix.Getpagesize())
	if prog.Start > 0 && p.Started > prog.Start+2 {
		p.Gone = "pid " + strconv.Itoa(prog.PID) + " is now " + strconv.Quote(st.Comm) + ", started after the engine"
		p.RSS = 0
		return p
	}
	p.Found = true
	return p
}

// readLock reads the lock file's pid, and that process when status.dat
// does not name it (missing, no pid, another pid). A lock file that is
// not there is a note: the engine removes it when it stops.
func readLock(ctx context.Context, env *plugin.Env, o *Options, n *nagiosObs) {
	l := &n.Lock
	l.Path = n.Config.LockFile
	if l.Path == "" {
		if n.ConfigPath == "" {
			l.Note = "no lock file read: its path is in the engine's configuration (give --nagios-config)"
		}
		return
	}
	done := env.Begin("reading " + l.Path)
	data, err := env.Files().Read(ctx, files.Config, l.Path)
	done()
	if err == nil {
		l.PID, err = nagiosstatus.ParseLock(data)
		if err != nil {
			err = fmt.Errorf("%s: %w", l.Path, err)
		}
	}
	if err != nil {
		l.Note = "lock file not read: " + err.Error()
		return
	}
	if n.StatusMissing || l.PID != n.Status.Program.PID {
		done = env.Begin("reading the lock file's process in " + o.Procfs)
		p := readProc(ctx, env, o, nagiosstatus.Program{PID: l.PID})
		done()
		l.Proc = &p
	}
}

// readLog reads the end of the engine's log for notifications since the
// last run (the last hour on a first run).
func readLog(ctx context.Context, env *plugin.Env, o *Options, n *nagiosObs, prev *saved) {
	n.Log.Path = o.NagiosLog
	if n.Log.Path == "" {
		n.Log.Path = n.Config.LogFile
	}
	since, last := logSince(env.Now(), 0, nil, false)
	if prev != nil {
		since, last = logSince(env.Now(), prev.LogNewest, prev.LogSeen, prev.LogHashed)
	}
	n.Log = readNotifLog(ctx, env, n.Log.Path, "Nagios", since, last, nagiosstatus.ParseLog)
	if o.NagiosLog == "" && errors.Is(n.Log.Err, fs.ErrNotExist) {
		// The configuration's log_file not there yet: the engine never
		// ran here, which the status file already tells.
		n.Log = notifLog{Path: n.Log.Path, Missing: n.Log.Err.Error()}
	}
}

// readNotifLog reads the end of the log at path with parse from since,
// the last run's cursor when last (the newest second it read) is not 0;
// "" reads nothing.
func readNotifLog(ctx context.Context, env *plugin.Env, path, engine string, since nagiosstatus.Cursor, last int64,
	parse func([]byte, nagiosstatus.Cursor) nagiosstatus.Log) notifLog {
	nl := notifLog{Path: path}
	if path == "" {
		return nl
	}
	done := env.Begin("reading " + path)
	data, cut, err := env.Files().ReadTail(ctx, files.Log, path)
	done()
	if err != nil {
		nl.Err = err
		return nl
	}
	l := parse(data, since)
	if l.First == 0 && len(bytes.TrimSpace(nagiosstatus.Complete(data))) > 0 {
		// Text, but not one "[timestamp] message" line: not the engine's log.
		nl.Err = fmt.Errorf("%s: no line of it reads as a%s %s log line (\"[timestamp] message\")", path, article(engine), engine)
		return nl
	}
	nl.Log, nl.Cut = &l, cut
	if last > 0 && !cut && l.First > last {
		// The whole file was read and begins after the line the last
		// run read last: it is a new file.
		nl.Rotated = path + " was rotated since the last run: what the engine logged from " + stampText(last) +
			" to " + stampText(l.First) + " is in the rotated file, not read"
	}
	return nl
}

func article(word string) string {
	if strings.ContainsRune("AEIOU", rune(word[0])) {
		return "n"
	}
	return ""
}

// readOOM reads the kernel log when the engine is gone, or was replaced
// since the last run, to tell whether the OOM killer took it.
func readOOM(ctx context.Context, env *plugin.Env, o *Options, n *nagiosObs, prev *saved) {
	if o.Kmsg != defaultKmsg {
		if _, err := kmsg.Kind(ctx, env.Files(), o.Kmsg); err != nil {
			n.OOMBad = err.Error() + " (--kmsg)"
			return
		}
	}
	var pids []int
	if !n.StatusMissing && !n.Proc.Alive() && n.Proc.Err == nil && n.Proc.PID > 0 {
		pids = append(pids, n.Proc.PID)
	}
	if prev != nil && prev.PID > 0 && (prev.PID != n.Proc.PID || (n.Proc.Found && prev.Started != n.Proc.Started)) {
		n.Restarted = prev
		pids = append(pids, prev.PID)
	}
	if len(pids) == 0 {
		return
	}
	done := env.Begin("reading the kernel log at " + o.Kmsg)
	log, err := kmsg.ReadPath(ctx, env.Files(), o.Kmsg, 0, kmsg.DefaultLimits)
	done()
	if err != nil {
		why := err.Error()
		if errors.Is(err, kmsg.ErrNotPermitted) {
			why = o.Kmsg + " not readable as uid " + strconv.Itoa(os.Geteuid()) + " (dmesg_restrict)"
		}
		if o.Kmsg != defaultKmsg {
			n.OOMBad = why + " (--kmsg)"
		} else {
			n.OOMNote = "whether the OOM killer took the engine is not known: " + why
		}
		return
	}
	for _, v := range kmsg.OOMVictims(log.Records) {
		for _, pid := range pids {
			if v.PID == pid {
				n.OOM = append(n.OOM, v)
			}
		}
	}
}

// readOOMCount reads the kernel's OOM kill count under --procfs (one
// small file) and compares it with the last run's.
func readOOMCount(ctx context.Context, env *plugin.Env, o *Options, prev *saved) oomCount {
	dir := env.Files().Dir(ctx, o.Procfs)
	total, err := kmsg.OOMKills(dir)
	if err != nil {
		return oomCount{Why: "OOM kills not counted: " + err.Error()}
	}
	c := oomCount{Known: true, Total: total, BootID: kmsg.BootID(dir)}
	sameBoot := c.BootID == "" || prev == nil || prev.BootID == "" || c.BootID == prev.BootID
	if prev != nil && prev.OOMCounted && sameBoot && total >= prev.OOMKills {
		c.Compared, c.Since = true, total-prev.OOMKills
	}
	return c
}

// defaultKmsg is --kmsg's default: trouble with it is a note.
const defaultKmsg = "/dev/kmsg"

func joinComma(list []string) string {
	s := ""
	for i, x := range list {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}
