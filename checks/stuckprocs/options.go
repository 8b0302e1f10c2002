package stuckprocs

// go-flags takes one choice tag per allowed value, its documented form
// (`choice:"cat" choice:"dog"`); SA5008 knows only reflect.StructTag.Get,
// which sees the first.
//lint:file-ignore SA5008 repeated choice tags are go-flags' syntax

import (
	"errors"
	"fmt"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// Check holds the options; Run gathers and judges.
type Check struct {
	plugin.ProcRoot
	Warning  threshold.Range `short:"w" long:"warning" value-name:"RANGE" description:"Range for the metric (-m): the count of matching processes by default, e.g. 1:20" unquote:"false"`
	Critical threshold.Range `short:"c" long:"critical" value-name:"RANGE" description:"Critical range for the metric (-m), e.g. 1:30" unquote:"false"`
	Metric   string          `short:"m" long:"metric" default:"PROCS" choice:"PROCS" choice:"ELAPSED" choice:"RSS" choice:"VSZ" choice:"CPU" value-name:"METRIC" description:"What -w/-c judge: PROCS counts matching processes; ELAPSED (s), RSS, VSZ (KiB) and CPU (% over its lifetime) judge each one, as check_procs" unquote:"false"`

	Command       string           `short:"C" long:"command" value-name:"NAME" description:"Select processes named NAME: the full name from comm and the executable, no 15-character limit" unquote:"false"`
	Argument      string           `short:"a" long:"argument" value-name:"TEXT" description:"Select processes whose command line contains TEXT" unquote:"false"`
	ArgumentArray string           `long:"argument-array" value-name:"TEXT" description:"check_procs' spelling of -a/--argument" unquote:"false"`
	EregArgument  string           `long:"ereg-argument" value-name:"REGEX" description:"Select processes whose command line matches REGEX (Go syntax, a superset of POSIX ERE)" unquote:"false"`
	EregArray     string           `long:"ereg-argument-array" value-name:"REGEX" description:"check_procs' spelling of --ereg-argument" unquote:"false"`
	User          string           `short:"u" long:"user" value-name:"USER|UID" description:"Select processes of this user (real uid)" unquote:"false"`
	PPID          string           `short:"p" long:"ppid" value-name:"PID" description:"Select children of PID" unquote:"false"`
	State         string           `short:"s" long:"state" value-name:"FLAGS" description:"Select processes with any of these flags: R S D Z T t X I (state; D if any thread is in D), < N (nice), s (session leader), l (threaded), + (foreground), L (locked pages)" unquote:"false"`
	Status        string           `long:"status" hidden:"true" value-name:"FLAGS" description:"check_procs' name for --state" unquote:"false"`
	Cgroup        string           `long:"cgroup" value-name:"PATH" description:"Select processes in this cgroup: a path prefix (/system.slice/nginx.service) or one component (nginx.service, a container id)" unquote:"false"`
	RSS           threshold.Number `short:"r" long:"rss" value-name:"KIB" description:"Select processes with a resident set of at least KIB" unquote:"false"`
	VSZ           threshold.Number `short:"z" long:"vsz" value-name:"KIB" description:"Select processes with a virtual size of at least KIB" unquote:"false"`
	PCPU          threshold.Number `short:"P" long:"pcpu" value-name:"PERCENT" description:"Select processes that used at least PERCENT of a CPU over their lifetime (as ps)" unquote:"false"`
	Exclude       []string         `short:"X" long:"exclude" value-name:"NAME[,NAME...]" description:"Never count processes with these names (repeatable)" unquote:"false"`
	OnlySelected  bool             `long:"only-selected" description:"Judge tasks in D and zombies only among the selected processes (a unit, a container, a user), not machine-wide"`
	KThreads      bool             `long:"kthreads" description:"Count kernel threads too (excluded by default)"`
	NoKThreads    bool             `short:"k" long:"no-kthreads" description:"check_procs' option: kernel threads are left out (the default here; --kthreads counts them)"`
	Traditional   bool             `short:"T" long:"traditional" description:"check_procs' option: leave out this process by pid only, so other runs of this plugin are counted (by default they are left out by executable)"`

	MaxAge        threshold.Duration `long:"max-age" value-name:"DURATION" description:"Critical when a selected process has been running longer than this (2h, 1d): the job that never finished" unquote:"false"`
	MaxAgeWarning threshold.Duration `long:"max-age-warning" value-name:"DURATION" description:"Warning when a selected process has been running longer than this" unquote:"false"`

	DWarning       threshold.Duration `long:"d-warning" default:"1m" value-name:"DURATION" description:"Warning when a task has been in uninterruptible sleep (D) this long" unquote:"false"`
	DCritical      threshold.Duration `long:"d-critical" default:"5m" value-name:"DURATION" description:"Critical when a task has been in D this long" unquote:"false"`
	SampleInterval threshold.Duration `long:"sample-interval" default:"0s" value-name:"DURATION" description:"When tasks are in D, look again after this long: counters frozen across it are evidence of being stuck, moving ones clear the task (0 = off; the run takes that much longer only when something is in D)" unquote:"false"`

	ZombieWarning  threshold.Range `long:"zombie-warning" value-name:"RANGE" description:"Range for the number of zombies, e.g. 10" unquote:"false"`
	ZombieCritical threshold.Range `long:"zombie-critical" value-name:"RANGE" description:"Critical range for the number of zombies" unquote:"false"`
	// Per parent: one daemon that stops reaping its children is a bug to
	// page on even while the machine-wide count looks harmless.
	ZombieParentWarning  threshold.Range `long:"zombie-parent-warning" value-name:"RANGE" description:"Range for the zombies of any one parent, e.g. 5" unquote:"false"`
	ZombieParentCritical threshold.Range `long:"zombie-parent-critical" value-name:"RANGE" description:"Critical range for the zombies of any one parent" unquote:"false"`

	StateFile   plugin.StateFile `long:"state-file" value-name:"PATH" description:"Where to remember since when tasks are in D and the kernel's hung-task count (default /var/tmp/hindsight-UID/check_stuck_procs.json)" unquote:"false"`
	NoStateFile bool             `long:"no-state-file" description:"Keep no state between runs (durations then rest on the scheduler clock alone)"`
	Kmsg        string           `long:"kmsg" default:"/dev/kmsg" value-name:"PATH" description:"Kernel log to quote hung-task reports from (needs root where dmesg_restrict=1)" unquote:"false"`
}

// selection is the parsed form of the selecting options.
type selection struct {
	command  string
	argument string
	ereg     *regexp.Regexp
	uid      int64 // -1: any
	userName string
	ppid     int // -1: any
	flags    string
	cgroup   string
	rss      float64 // KiB; 0: any
	vsz      float64
	pcpu     float64
	exclude  map[string]bool
}

func (s *selection) any() bool {
	return s.command != "" || s.argument != "" || s.ereg != nil || s.uid >= 0 || s.ppid >= 0 || s.flags != "" || s.cgroup != "" ||
		s.rss > 0 || s.vsz > 0 || s.pcpu > 0
}

const knownFlags = "RSDZTtXIWKP<Nsl+L"

// Validate checks the options; errors name the option.
func (c *Check) Validate() error {
	if err := c.StateFile.Check(); err != nil {
		return fmt.Errorf("invalid --state-file: %w (use --no-state-file to keep none)", err)
	}
	_, err := c.selection()
	return err
}

// selection parses the selecting options (and checks the rest); errors
// name the option.
func (c *Check) selection() (selection, error) {
	s, err := c.parseSelection()
	if err != nil {
		return selection{}, err
	}
	if c.OnlySelected && !s.any() {
		return selection{}, errors.New("--only-selected needs a selection (-C, -a, --ereg-argument, -u, --ppid, -s, --cgroup, -r, -z or -P)")
	}
	if (c.MaxAge > 0 || c.MaxAgeWarning > 0) && !s.any() {
		return selection{}, errors.New("--max-age needs a selection (-C, -a, --ereg-argument, -u, --ppid, -s, --cgroup, -r, -z or -P): every machine has processes running since boot")
	}
	if c.DCritical > 0 && c.DWarning > c.DCritical {
		return selection{}, fmt.Errorf("--d-warning %s is longer than --d-critical %s", human.Duration(time.Duration(c.DWarning)), human.Duration(time.Duration(c.DCritical)))
	}
	return s, nil
}

func (c *Check) parseSelection() (selection, error) {
	sel := selection{uid: -1, ppid: -1, command: c.Command, cgroup: c.Cgroup}
	sel.argument = firstNonEmpty(c.Argument, c.ArgumentArray)
	if re := firstNonEmpty(c.EregArgument, c.EregArray); re != "" {
		rx, err := regexp.Compile(re)
		if err != nil {
			return sel, fmt.Errorf("--ereg-argument %q: %v", re, err)
		}
		sel.ereg = rx
	}
	if c.User != "" {
		uid, name, err := lookupUser(c.User)
		if err != nil {
			return sel, fmt.Errorf("-u %q: %v", c.User, err)
		}
		sel.uid, sel.userName = uid, name
	}
	if c.PPID != "" {
		n, err := strconv.Atoi(c.PPID)
		if err != nil || n < 0 {
			return sel, fmt.Errorf("--ppid %q: not a process id", c.PPID)
		}
		sel.ppid = n
	}
	for _, v := range []struct {
		name string
		val  float64
	}{{"--rss", float64(c.RSS)}, {"--vsz", float64(c.VSZ)}, {"--pcpu", float64(c.PCPU)}} {
		if v.val < 0 || v.val != v.val {
			return sel, fmt.Errorf("%s %v: must be a number of at least 0", v.name, v.val)
		}
	}
	sel.rss, sel.vsz, sel.pcpu = float64(c.RSS), float64(c.VSZ), float64(c.PCPU)
	sel.flags = firstNonEmpty(c.State, c.Status)
	for _, f := range sel.flags {
		if !strings.ContainsRune(knownFlags, f) {
			return sel, fmt.Errorf("-s %q: unknown flag %q (known: %s)", sel.flags, f, knownFlags)
		}
	}
	sel.exclude = map[string]bool{}
	for _, x := range c.Exclude {
		for n := range strings.SplitSeq(x, ",") {
			if n = strings.TrimSpace(n); n != "" {
				sel.exclude[n] = true
			}
		}
	}
	return sel, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookupUser resolves a user name or uid. A uid with no passwd entry is
// accepted (containers, NSS not visible to a static binary).
func lookupUser(s string) (int64, string, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		if u, err := user.LookupId(s); err == nil {
			return n, u.Username, nil
		}
		return n, "", nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return 0, "", errors.New("no such user")
	}
	n, err := strconv.ParseInt(u.Uid, 10, 64)
	if err != nil {
		return 0, "", errors.New("no such user")
	}
	return n, u.Username, nil
}
