package stuckprocs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// The test binary doubles as the isolated prober's child: cmdlines of
// fixture tasks in D are read through it, as on a real machine.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	if len(os.Args) == 3 && os.Args[1] == statfsThreadArg {
		statfsThreadMain(os.Args[2]) // never returns
	}
	os.Exit(m.Run())
}

const (
	fixtureNow = "1701000000" // boot time 1700000000 plus 1e6 s, as testdata/stuckprocs was generated
	testdata   = "../../testdata/stuckprocs"
)

func fixture(name string) string { return filepath.Join(testdata, name, "proc") }

// runFixture runs the plugin on a fixture tree through the runtime, as
// the binary would: options, state file, rendering.
func runFixture(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	args, now := withoutNow(args)
	r := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) { t.Errorf("watchdog fired") }}
	if now != "" {
		secs, err := strconv.ParseInt(now, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		r.Now = func() time.Time { return time.Unix(secs, 0) }
	}
	code := r.Run(Plugin)
	return code, out.String()
}

// withoutNow takes "--now UNIXTIME" out of args: the tests name the
// fixture's clock next to the options, the runtime takes it as its clock
// (Runner.Now, or $HINDSIGHT_NOW for the binary), not as an option.
func withoutNow(args []string) (rest []string, now string) {
	for i := 0; i < len(args); i++ {
		if args[i] == "--now" && i+1 < len(args) {
			now = args[i+1]
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	return rest, now
}

// runBin runs the built binary, with the fixture's clock (see withoutNow)
// in $HINDSIGHT_NOW.
func runBin(t *testing.T, bin string, args ...string) testutil.Result {
	t.Helper()
	args, now := withoutNow(args)
	var env []string
	if now != "" {
		env = append(env, "HINDSIGHT_NOW="+now)
	}
	return testutil.RunEnv(t, env, bin, args...)
}

// base are the options every fixture run gets: the fixture's clock, no
// state file, the fixture kernel log.
func base(tree string, more ...string) []string {
	return append([]string{"--procfs", fixture(tree), "--now", fixtureNow, "--no-state-file", "--kmsg", filepath.Join(testdata, "kmsg.txt")}, more...)
}

// quiet silences the fixture's processes in D, to test selectors alone.
var quiet = []string{"--d-warning", "100d", "--d-critical", "100d"}

func TestFixtures(t *testing.T) {
	tests := []struct {
		name  string
		tree  string
		args  []string
		code  int
		want  []string
		never []string
	}{
		{name: "healthy", tree: "healthy", code: 0,
			want:  []string{"STUCK OK - 3 processes, none in D, 0 zombies |", "procs=3;;;0 procs_d=0;;;0 procs_stuck=0;;;0 zombies=0;;;0"},
			never: []string{"\n["}},
		{name: "busy: D by thread, zombie leader with a thread in D, kernel threads left out", tree: "busy", code: 2,
			want: []string{
				"STUCK CRITICAL - 3 processes in D for >5m: df (pid 300, 6d2h, wchan request_wait_answer), gostuck (pid 500 thread 501, 20m, wchan request_wait_answer), +1 more / 1 process in D for >1m: vf (pid 301, 1m30s, wchan unknown) |",
				"[CRITICAL] java (pid 400 thread 402, user ",
				"[CRITICAL] df (pid 300, user root, D for 6d2h, wchan request_wait_answer): df -h /mnt/builder1\n",
				"[WARNING] vf (pid 301, user ", "D for 1m30s, wchan unknown): ./vf 90\n",
				"procs_d=4;;;0 procs_stuck=4;;;0 zombies=4;;;0",
			},
			never: []string{"jbd2", "check_stuck_pro"}},
		{name: "fusewait: df asleep in FUSE, its cwd on the mount", tree: "fusewait", code: 2,
			want: []string{
				"STUCK CRITICAL - 1 process blocked on a filesystem for >5m: df (pid 1234) blocked 6m in FUSE request_wait_answer on /mnt/gluster |",
				"[CRITICAL] df (pid 1234, user root) blocked 6m in FUSE request_wait_answer on /mnt/gluster, asleep (S) and stuck all the same: df -h\n",
				"procs_d=0;;;0 procs_stuck=1;;;0"},
			never: []string{"/mnt/other"}},
		{name: "fusewait: -s D does not count a task in S", tree: "fusewait", args: []string{"-s", "D", "-w", "0"}, code: 2,
			want: []string{"0 processes with status 'D'", "procs=0;0;;0"}},
		// The postmortem's leftovers: etcd and glusterfsd left running by a
		// test suite, counted by name pattern and age (README).
		{name: "leftovers by pattern and age", tree: "fusewait",
			args: append([]string{"--ereg-argument-array", "^/usr/s?bin/(etcd|glusterfsd)", "--max-age", "1h", "-w", "0", "-c", "10"}, quiet...), code: 2,
			want: []string{"STUCK CRITICAL - 3 processes running for >1h: glusterfsd (pid 2003, 2h46m), etcd (pid 2001, 2h), etcd (pid 2002, 2h) / 4 processes with regex args",
				"[CRITICAL] glusterfsd (pid 2003, user root, running for 2h46m, over 1h): /usr/sbin/glusterfsd -s localhost\n",
				"procs=4;0;10;0"},
			never: []string{"pid 2004,"}},
		{name: "check_procs' -a spelling", tree: "fusewait", args: append([]string{"--argument-array=--data-dir", "-w", "2:2"}, quiet...), code: 1,
			want: []string{"STUCK WARNING - 3 processes with args '--data-dir'"}},
		{name: "check_procs' --ereg-argument-array", tree: "fusewait", args: append([]string{"--ereg-argument-array", "t[12]$", "-c", "2:2"}, quiet...), code: 0,
			want: []string{"STUCK OK - 2 processes with regex args 't[12]$'"}},
		{name: "check_procs' -k: kernel threads left out, even with --kthreads", tree: "busy", args: []string{"--kthreads", "-k", "-s", "D"}, code: 2,
			never: []string{"jbd2"}},
		{name: "check_procs' -T: other runs of this plugin counted, this one not", tree: "busy", args: append([]string{"-T", "-C", "check_stuck_pro", "-w", "0"}, quiet...), code: 1,
			want: []string{"STUCK WARNING - 2 processes with command name 'check_stuck_pro'"}}, // without -T: 1 (sibling left out by exe)
		{name: "d thresholds", tree: "busy", args: []string{"--d-warning", "15m", "--d-critical", "1d"}, code: 2,
			want: []string{"STUCK CRITICAL - 1 process in D for >1d: df (pid 300", "1 process in D for >15m: gostuck (pid 500 thread 501", "procs_stuck=2;"}},
		{name: "kernel threads on request", tree: "busy", args: []string{"--kthreads", "-s", "D"}, code: 2,
			want: []string{"jbd2/vda-8 (pid 50, user root, D for 6m40s, wchan jbd2_journal_commit_transaction)", "procs=5;"}},
		{name: "-C full name beyond 15 characters", tree: "busy", args: append([]string{"-C", "ansible-playbook", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"STUCK OK - 1 process with command name 'ansible-playbook' / 4 in D, none stuck, 4 zombies |", "procs=1;1:1;;0"}},
		{name: "-C the cut comm itself", tree: "busy", args: append([]string{"-C", "ansible-playboo", "-c", "1"}, quiet...), code: 2,
			want: []string{"STUCK CRITICAL - 2 processes with command name 'ansible-playboo'"}},
		{name: "-C comm with spaces and parentheses", tree: "busy", args: append([]string{"-C", "my (weird) proc", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with command name 'my (weird) proc'"}},
		{name: "-C never counts itself, its parent shell or sibling checks", tree: "busy", args: append([]string{"-C", "check_stuck_pro", "-w", "0"}, quiet...), code: 1,
			want: []string{"1 process with command name 'check_stuck_pro'"}},
		{name: "-C parent shell", tree: "busy", args: append([]string{"-C", "sh", "-w", "0"}, quiet...), code: 0,
			want: []string{"0 processes with command name 'sh'"}},
		{name: "-a substring of a rewritten cmdline", tree: "busy", args: append([]string{"-a", "daemon on;", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with args 'daemon on;'"}},
		{name: "-a across an argument with a space", tree: "busy", args: append([]string{"--argument=--flag=a b", "-c", "0"}, quiet...), code: 2,
			want: []string{"1 process with args '--flag=a b'"}},
		{name: "--argument-array (check_procs' name)", tree: "busy", args: append([]string{"--argument-array", "ConnectTimeout", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with args 'ConnectTimeout'"}},
		{name: "--ereg-argument", tree: "busy", args: append([]string{"--ereg-argument", "^nginx: (worker|master)", "-w", "3:3"}, quiet...), code: 0,
			want: []string{"3 processes with regex args '^nginx: (worker master)'"}}, // the runtime replaces "|"
		{name: "-u by uid", tree: "busy", args: append([]string{"-u", "33", "-w", "2:2"}, quiet...), code: 0,
			want: []string{"2 processes with UID 33"}},
		{name: "-u and -C combined", tree: "busy", args: append([]string{"-u", "0", "-C", "nginx", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with command name 'nginx', UID 0 (root)"}},
		{name: "--ppid", tree: "busy", args: append([]string{"--ppid", "700", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with PPID 700"}},
		{name: "-s D counts processes with any thread in D", tree: "busy", args: append([]string{"-s", "D", "-w", "4:4"}, quiet...), code: 0,
			want: []string{"4 processes with status 'D'"}},
		{name: "-s is any of the flags", tree: "busy", args: append([]string{"-s", "DZ", "-w", "8:8"}, quiet...), code: 0,
			want: []string{"8 processes with status 'DZ'"}},
		{name: "-s N nice", tree: "busy", args: append([]string{"-s", "N", "-C", "ssh", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with command name 'ssh', status 'N'"}},
		{name: "-s < L R", tree: "busy", args: append([]string{"-s", "<", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with status '<'"}},
		{name: "-s L locked pages", tree: "busy", args: append([]string{"-s", "L", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with status 'L'"}},
		{name: "-s + foreground", tree: "busy", args: append([]string{"-s", "+", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with status '+'"}},
		{name: "-s l threaded", tree: "busy", args: append([]string{"-s", "l", "-w", "2:2"}, quiet...), code: 0,
			want: []string{"2 processes with status 'l'"}},
		{name: "--cgroup path prefix", tree: "busy", args: append([]string{"--cgroup", "/system.slice/nginx.service", "-w", "3:3"}, quiet...), code: 0,
			want: []string{"3 processes with cgroup '/system.slice/nginx.service'"}},
		{name: "--cgroup one component", tree: "busy", args: append([]string{"--cgroup", "cron.service", "-w", "3:3"}, quiet...), code: 0,
			want: []string{"3 processes with cgroup 'cron.service'"}},
		{name: "--cgroup prefix stops at a component boundary", tree: "busy", args: append([]string{"--cgroup", "/system.sl", "-w", "0"}, quiet...), code: 0,
			want: []string{"0 processes with cgroup '/system.sl'"}},
		{name: "-X excludes by name, long names too", tree: "busy", args: append([]string{"-X", "nginx,ansible-playbook", "--ppid", "1", "-C", "nginx", "-w", "0"}, quiet...), code: 0,
			want: []string{"0 processes with command name 'nginx', PPID 1"}},
		{name: "-X a long name", tree: "busy", args: append([]string{"-X", "ansible-playbook", "-C", "ansible-playboo", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with command name 'ansible-playboo'"}},
		{name: "-r RSS at least", tree: "busy", args: append([]string{"-r", "190000", "-w", "4:4"}, quiet...), code: 0,
			want: []string{"4 processes with RSS >= 190000"}}, // the nginx workers (200000 KiB), java and stress
		{name: "-z VSZ and -P PCPU", tree: "busy", args: append([]string{"-z", "1000000", "-P", "50", "-w", "1:1"}, quiet...), code: 0,
			want: []string{"1 process with VSZ >= 1000000, PCPU >= 50"}},
		{name: "-m ELAPSED", tree: "busy", args: append([]string{"-m", "ELAPSED", "-C", "nginx", "-w", "1000", "-c", "100000"}, quiet...), code: 1,
			want: []string{"STUCK WARNING - ELAPSED: 0 crit, 3 warn out of 3 processes with command name 'nginx'", "[WARNING] nginx (pid 201): ELAPSED 90000", "procs_warn=3;;;0 procs_crit=0;;;0"}},
		{name: "-m RSS in KiB", tree: "busy", args: append([]string{"-m", "RSS", "-C", "nginx", "-w", "100000"}, quiet...), code: 1,
			want: []string{"RSS: 0 crit, 2 warn out of 3 processes"}},
		{name: "-m VSZ", tree: "busy", args: append([]string{"-m", "VSZ", "-C", "stress", "-c", "1000000"}, quiet...), code: 2,
			want: []string{"[CRITICAL] stress (pid 950): VSZ 8388608"}},
		{name: "-m CPU over the lifetime", tree: "busy", args: append([]string{"-m", "CPU", "-C", "stress", "-w", "50"}, quiet...), code: 1,
			want: []string{"[WARNING] stress (pid 950): CPU 100"}},
		{name: "postmortem 000: overdue job named in full", tree: "busy", args: []string{"-C", "ansible-playbook", "--max-age", "2h"}, code: 2,
			want: []string{"STUCK CRITICAL - 3 processes in D for >5m: df (pid 300, 6d2h, wchan request_wait_answer)",
				"1 process running for >2h: ansible-playbook (pid 700, 6d)",
				"[CRITICAL] ansible-playbook (pid 700, user root, running for 6d, over 2h): /usr/bin/python3 /usr/bin/ansible-playbook site.yml"}},
		{name: "--max-age-warning", tree: "busy", args: append([]string{"-C", "ansible-playboo", "--max-age", "7d", "--max-age-warning", "20m"}, quiet...), code: 1,
			want: []string{"STUCK WARNING - 2 processes running for >20m: ansible-playbook (pid 700, 6d), ansible-playbook-other (pid 702, 30m)"}},
		{name: "long output strips | from cmdlines", tree: "busy", args: append([]string{"-C", "my (weird) proc", "--max-age", "1m"}, quiet...), code: 2,
			want: []string{"[CRITICAL] my (weird) proc (pid 101, user ", "running for 11m40s, over 1m): ./weird --flag=a b   pipe\n"}},
		{name: "--only-selected judges D and zombies among the selection", tree: "busy", args: []string{"-u", "1000", "--only-selected"}, code: 2,
			want:  []string{"STUCK CRITICAL - 1 process in D for >5m: java (pid 400 thread 402, 10m, wchan io_schedule) / 1 process in D for >1m: vf (pid 301, 1m30s", "procs_d=2;;;0 procs_stuck=2;;;0 zombies=1;;;0"},
			never: []string{"df (pid 300"}},
		{name: "--only-selected needs a selection", tree: "busy", args: []string{"--only-selected"}, code: 3, want: []string{"--only-selected needs a selection"}},
		{name: "zombies by parent", tree: "busy", args: append([]string{"--zombie-warning", "2", "--zombie-critical", "10"}, quiet...), code: 1,
			want: []string{"STUCK WARNING - 4 zombies: 3 of buggyd (pid 600), 1 of bash (pid 800)", "zombies=4;2;10;0"}},
		{name: "zombies of one parent", tree: "busy", args: append([]string{"--zombie-parent-warning", "2", "--zombie-parent-critical", "5"}, quiet...), code: 1,
			want:  []string{"STUCK WARNING - 4 zombies: 3 of buggyd (pid 600), 1 of bash (pid 800)", "[WARNING] buggyd (pid 600) has not reaped 3 zombie children"},
			never: []string{"bash (pid 800) has not reaped"}},
		{name: "zombies of one parent, critical", tree: "busy", args: append([]string{"--zombie-warning", "100", "--zombie-parent-critical", "2"}, quiet...), code: 2,
			want: []string{"[CRITICAL] buggyd (pid 600) has not reaped 3 zombie children"}},
		{name: "verbose counts unreadable and vanished entries", tree: "busy", args: append([]string{"-v"}, quiet...), code: 0,
			want: []string{"1 vanished mid-scan, 1 unreadable, 1 malformed", "unreadable: ", "901/stat: is a directory, not a regular file",
				"df in D: pid 300: last ran 6d2h ago (scheduler clock)"}},
		{name: "bad -s flag", tree: "busy", args: []string{"-s", "Q"}, code: 3, want: []string{`-s "Q": unknown flag`}},
		{name: "unknown user", tree: "busy", args: []string{"-u", "no-such-user-here"}, code: 3, want: []string{`-u "no-such-user-here": no such user`}},
		{name: "--max-age without a selection", tree: "busy", args: []string{"--max-age", "1h"}, code: 3, want: []string{"--max-age needs a selection"}},
		{name: "bad regex", tree: "busy", args: []string{"--ereg-argument", "("}, code: 3, want: []string{"--ereg-argument"}},
		{name: "missing procfs", tree: "nonexistent", code: 3, want: []string{"STUCK UNKNOWN - open procfs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out := runFixture(t, base(tt.tree, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

// stateArgs is base() with a state file instead of none.
func stateArgs(path, now string, more ...string) []string {
	return append([]string{"--procfs", fixture("busy"), "--now", now, "--state-file", path, "--kmsg", filepath.Join(testdata, "kmsg.txt")}, more...)
}

func TestStateFileCarriesDurations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	// vf has last run 90 s ago by the scheduler clock: WARNING only.
	code, out := runFixture(t, stateArgs(path, fixtureNow)...)
	if code != 2 || !strings.Contains(out, "vf (pid 301, user ") || !strings.Contains(out, "D for 1m30s") {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	// Ten minutes later the fixture's clock has not moved, but the state
	// file remembers since when vf has been in D.
	code, out = runFixture(t, stateArgs(path, "1701000600", "-v")...)
	if !strings.Contains(out, "D for 11m30s") || !strings.Contains(out, "(state file)") {
		t.Errorf("second run did not carry the duration: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "4 processes in D for >5m") {
		t.Errorf("vf should now be critical:\n%s", out)
	}
}

func TestStateFileRejectsReusedPid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	// pid 301 seen in D a day ago, but with another start time: another process.
	prev := saved{BootTime: 1700000000, Tasks: map[string]seen{"301:1": {Since: 1700900000, At: 1700999000, Switches: 6}}}
	if err := state.Save(path, stateKind, stateVersion, prev); err != nil {
		t.Fatal(err)
	}
	_, out := runFixture(t, stateArgs(path, fixtureNow)...)
	if !strings.Contains(out, "D for 1m30s") {
		t.Errorf("a reused pid inherited an old duration:\n%s", out)
	}
}

func TestStateFileResetsABusyTask(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	// vf's counters moved by far more than blocked waits explain: it is busy, not stuck.
	prev := saved{BootTime: 1700000000, Tasks: map[string]seen{"301:" + startOf(t, 301): {Since: 1700900000, At: 1700999940, Switches: 0}}}
	prev.Tasks["301:"+startOf(t, 301)] = seen{Since: 1700900000, At: 1700999990, Switches: 0}
	if err := state.Save(path, stateKind, stateVersion, prev); err != nil {
		t.Fatal(err)
	}
	_, out := runFixture(t, stateArgs(path, fixtureNow)...)
	if !strings.Contains(out, "D for 1m30s") {
		t.Errorf("a task that kept switching kept its old duration:\n%s", out)
	}
	// And one whose counters stood still keeps it.
	prev.Tasks["301:"+startOf(t, 301)] = seen{Since: 1700900000, At: 1700999990, Switches: 6}
	if err := state.Save(path, stateKind, stateVersion, prev); err != nil {
		t.Fatal(err)
	}
	_, out = runFixture(t, stateArgs(path, fixtureNow)...)
	if !strings.Contains(out, "vf (pid 301, 1d3h") {
		t.Errorf("a frozen task lost its duration:\n%s", out)
	}
}

// A file that is not a state file of ours is reported and kept; one of
// ours with data it cannot use starts afresh.
func TestCorruptStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(path, []byte("{not json"), 0o600)
	code, out := runFixture(t, stateArgs(path, fixtureNow, "-v")...)
	if code != 2 || !strings.Contains(out, "state file "+path+": not a hindsight state file; not overwritten") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Errorf("the file was overwritten: %q", b)
	}
	os.WriteFile(path, []byte(`{"kind":"`+stateKind+`","version":`+strconv.Itoa(stateVersion)+`,"data":"x"}`), 0o600)
	code, out = runFixture(t, stateArgs(path, fixtureNow, "-v")...)
	if code != 2 || !strings.Contains(out, "has bad data, starting afresh") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestHungTaskCountGrowth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	one := uint64(1)
	if err := state.Save(path, stateKind, stateVersion, saved{BootTime: 1700000000, HungCount: &one}); err != nil {
		t.Fatal(err)
	}
	_, out := runFixture(t, stateArgs(path, fixtureNow)...)
	want := "[WARNING] kernel reported 2 hung tasks since the last run: INFO: task df:300 blocked for more than 241 seconds. / INFO: task gostuck:501 blocked for more than 120 seconds."
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	// The next run has the new baseline: no news.
	_, out = runFixture(t, stateArgs(path, fixtureNow)...)
	if strings.Contains(out, "hung task") {
		t.Errorf("growth reported twice:\n%s", out)
	}
}

func TestHungTaskFirstRunIsBaseline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	_, out := runFixture(t, stateArgs(path, fixtureNow)...)
	if strings.Contains(out, "hung task") {
		t.Errorf("first run reported growth:\n%s", out)
	}
}

func TestSampleIntervalFrozenCounters(t *testing.T) {
	code, out := runFixture(t, base("busy", "--sample-interval", "50ms", "-v")...)
	if code != 2 || !strings.Contains(out, "counters frozen over 50ms") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func startOf(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixture("busy"), itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))[19]
}

func itoa(n int) string { return strconv.Itoa(n) }

// A run that finds the same tasks in D as the last one writes nothing:
// the state file is not rewritten (and fsynced) on every run.
func TestStateFileUnchangedIsNotRewritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	runFixture(t, stateArgs(path, fixtureNow)...)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	old := before.ModTime().Add(-time.Hour)
	os.Chtimes(path, old, old)
	runFixture(t, stateArgs(path, "1701000060")...)
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(old) {
		t.Errorf("state file rewritten although nothing changed")
	}
}

// The command line of a stuck task is read through a probe child once,
// then remembered: later runs spawn nothing for it.
func TestStateFileRemembersCommandLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	runFixture(t, stateArgs(path, fixtureNow)...)
	var got saved
	if ok, why, _ := state.Load(path, stateKind, stateVersion, &got); !ok {
		t.Fatal(why)
	}
	key := "300:" + startOf(t, 300)
	if c := got.Tasks[key].Cmd; strings.Join(c, " ") != "df -h /mnt/builder1" {
		t.Fatalf("remembered %q for df", c)
	}
	e := got.Tasks[key]
	e.Cmd = []string{"df", "remembered"}
	got.Tasks[key] = e
	if err := state.Save(path, stateKind, stateVersion, got); err != nil {
		t.Fatal(err)
	}
	_, out := runFixture(t, stateArgs(path, fixtureNow)...)
	if !strings.Contains(out, "wchan request_wait_answer): df remembered\n") {
		t.Errorf("the remembered command line was not used:\n%s", out)
	}
}

// A task in D whose counters move during --sample-interval is busy, not
// stuck: it is cleared, whatever its scheduler clock said.
func TestSampleIntervalMovingTask(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(testdata, "busy"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "busy", "proc")
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.WriteFile(filepath.Join(root, "301", "schedstat"), []byte("9999999 0 9\n"), 0o644)
	}()
	args := []string{"--procfs", root, "--now", fixtureNow, "--no-state-file", "--sample-interval", "1s", "-v"}
	_, out := runFixture(t, args...)
	if !strings.Contains(out, "vf in D: pid 301: ran or left D during the sample: not stuck") || strings.Contains(out, "vf (pid 301") {
		t.Errorf("a moving task was judged stuck:\n%s", out)
	}
	if !strings.Contains(out, "df in D: pid 300: last ran 6d2h ago (scheduler clock), counters frozen over 1s") {
		t.Errorf("a frozen task lost its evidence:\n%s", out)
	}
}

// fakeThread is one task of a multi-threaded fixture process.
type fakeThread struct {
	tid     int
	state   string
	wchan   string
	lastRan time.Duration
}

// writeThreaded adds to a tree from writeProcfs a process with threads,
// its cwd on a FUSE mount of its mountinfo.
func writeThreaded(t testing.TB, root string, pid int, comm string, threads ...fakeThread) {
	t.Helper()
	put := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat := func(tid int, state string) string {
		return fmt.Sprintf("%d (%s) %s 1 %d %d 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 %d 0 %d 10485760 256"+
			" 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", tid, comm, state, pid, pid, len(threads), 1000+tid)
	}
	dir := strconv.Itoa(pid)
	for _, th := range threads {
		task := dir + "/task/" + strconv.Itoa(th.tid)
		for _, d := range []string{task, dir} {
			if d == dir && th.tid != pid {
				continue
			}
			put(d+"/stat", stat(th.tid, th.state))
			put(d+"/wchan", th.wchan)
			put(d+"/sched", fmt.Sprintf("se.exec_start : %d.000000\n", 999999000-th.lastRan.Milliseconds()))
			put(d+"/schedstat", "1203300 0 1\n")
			put(d+"/status", "Name:\t"+comm+"\nUid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n")
		}
	}
	put(dir+"/cmdline", comm+"\x00--serve\x00")
	put(dir+"/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"+
		"40 22 0:45 / /mnt/gluster rw,nosuid,nodev,relatime shared:30 - fuse.glusterfs gl1:/vol0 rw,user_id=0,group_id=0\n"+
		"41 22 0:46 / /mnt/other rw,nosuid,nodev,relatime shared:31 - fuse.sshfs me@host: rw,user_id=0,group_id=0\n")
	if err := os.Symlink("/mnt/gluster/data", filepath.Join(root, dir, "cwd")); err != nil {
		t.Fatal(err)
	}
}

// A thread of a multi-threaded process asleep (S) in a FUSE wait is as
// stuck as a single-threaded df in one: judged by its own scheduler
// clock, named by pid and thread, with the mount its process is in. Its
// idle sibling (futex) is not.
func TestThreadInFUSEWait(t *testing.T) {
	tests := []struct {
		name    string
		threads []fakeThread
		code    int
		want    []string
		never   []string
	}{
		{name: "worker thread blocked 10m", code: 2,
			threads: []fakeThread{{tid: 1300, state: "S", wchan: "futex_wait_queue"}, {tid: 1301, state: "S", wchan: "request_wait_answer", lastRan: 10 * time.Minute}},
			want: []string{"STUCK CRITICAL - 1 process blocked on a filesystem for >5m: gluster-client (pid 1300 thread 1301) blocked 10m in FUSE request_wait_answer on /mnt/gluster |",
				"[CRITICAL] gluster-client (pid 1300 thread 1301, user root) blocked 10m in FUSE request_wait_answer on /mnt/gluster, asleep (S) and stuck all the same: gluster-client --serve\n",
				"procs_d=0;;;0 procs_stuck=1;;;0"},
			never: []string{"/mnt/other"}},
		{name: "leader blocked, worker running", code: 1,
			threads: []fakeThread{{tid: 1300, state: "S", wchan: "request_wait_answer", lastRan: 2 * time.Minute}, {tid: 1301, state: "R", wchan: "0"}},
			want:    []string{"STUCK WARNING - 1 process blocked on a filesystem for >1m: gluster-client (pid 1300) blocked 2m in FUSE request_wait_answer on /mnt/gluster |"}},
		{name: "a fresh wait is not stuck", code: 0,
			threads: []fakeThread{{tid: 1300, state: "S", wchan: "futex_wait_queue"}, {tid: 1301, state: "S", wchan: "request_wait_answer", lastRan: 10 * time.Second}},
			want:    []string{"STUCK OK - 1 process, none in D", "procs_stuck=0;;;0"}},
		{name: "idle threads only", code: 0,
			threads: []fakeThread{{tid: 1300, state: "S", wchan: "futex_wait_queue"}, {tid: 1301, state: "S", wchan: "ep_poll", lastRan: time.Hour}},
			want:    []string{"STUCK OK - 1 process, none in D"}},
		// A thread in R is not read: its wchan means nothing, and a stale
		// file here must not make it a waiter.
		{name: "a running thread's wchan is not read", code: 0,
			threads: []fakeThread{{tid: 1300, state: "S", wchan: "futex_wait_queue"}, {tid: 1301, state: "R", wchan: "request_wait_answer", lastRan: time.Hour}},
			want:    []string{"STUCK OK - 1 process, none in D"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "proc")
			writeProcfs(t, root, 0)
			writeThreaded(t, root, 1300, "gluster-client", tc.threads...)
			code, out := runFixture(t, fixedArgs(root, "--no-state-file")...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in\n%s", n, out)
				}
			}
		})
	}
}

// The wait channels of sleeping threads are read up to a cap a run; -v
// says how many were left unread.
func TestThreadWchanCap(t *testing.T) {
	defer func(n int) { maxThreadWchans = n }(maxThreadWchans)
	maxThreadWchans = 1
	root := filepath.Join(t.TempDir(), "proc")
	writeProcfs(t, root, 0)
	writeThreaded(t, root, 1300, "gluster-client",
		fakeThread{tid: 1300, state: "S", wchan: "futex_wait_queue"}, fakeThread{tid: 1301, state: "S", wchan: "request_wait_answer", lastRan: 10 * time.Minute})
	code, out := runFixture(t, fixedArgs(root, "--no-state-file", "-v")...)
	if code != 0 || !strings.Contains(out, "wait channels of 1 sleeping threads not read (at most 1 a run)") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
