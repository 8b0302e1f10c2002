package stuckprocs

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// judge is pure: these cases build observations by hand, no host, no
// fixture tree.

var judgeNow = time.Unix(1701000000, 0)

// inD is a process with one task in D that last ran ago, as gather
// leaves it.
func inD(pid int, comm string, ago time.Duration) *dproc {
	st := proc.Stat{PID: pid, Comm: comm, State: 'D', StartTime: uint64(pid) * 100}
	d := &dproc{proc: proc.Process{Stat: st, D: []proc.Stat{st}, Threads: 1}, name: comm, user: "root", cmd: comm + " --arg", args: []string{comm, "--arg"}}
	d.tasks = []*dtask{{Stat: st, pid: pid, lastRan: ago, ranKnown: true, wchan: "request_wait_answer", progOK: true,
		prog: proc.Progress{Voluntary: 3, Involuntary: 1}}}
	return d
}

// waiter is a process asleep (S) in a filesystem wait, as gather leaves it.
func waiter(pid int, comm string, ago time.Duration, wchan, family, mount string) *dproc {
	d := inD(pid, comm, ago)
	d.proc.State, d.proc.D, d.waiting, d.mount = 'S', nil, true, mount
	d.tasks[0].Stat.State, d.tasks[0].wchan, d.tasks[0].fs = 'S', wchan, family
	return d
}

func options(t *testing.T, args ...string) (*Check, selection) {
	t.Helper()
	parser, check, _ := plugin.NewParser(Plugin)
	if _, err := parser.ParseArgs(args); err != nil {
		t.Fatal(err)
	}
	c := check.(*Check)
	sel, err := c.selection()
	if err != nil {
		t.Fatal(err)
	}
	return c, sel
}

func TestJudge(t *testing.T) {
	one := uint64(1)
	tests := []struct {
		name   string
		args   []string
		obs    observations
		prev   saved
		state  plugin.State
		want   []string // in the rendered output
		never  []string
		verify func(t *testing.T, next saved)
	}{
		{name: "healthy", obs: observations{Total: 120},
			state: plugin.OK, want: []string{"STUCK OK - 120 processes, none in D, 0 zombies |", "procs_d=0;;;0"}},
		{name: "stuck past --d-critical by the scheduler clock",
			obs:   observations{Total: 5, DProcs: []*dproc{inD(300, "df", 10*time.Minute), inD(301, "vf", 90*time.Second), inD(302, "io", time.Second)}},
			state: plugin.CRITICAL,
			want: []string{"STUCK CRITICAL - 1 process in D for >5m: df (pid 300, 10m, wchan request_wait_answer) / 1 process in D for >1m: vf (pid 301, 1m30s",
				"[CRITICAL] df (pid 300, user root, D for 10m, wchan request_wait_answer): df --arg\n", "procs_d=3;;;0 procs_stuck=2;;;0"},
			verify: func(t *testing.T, next saved) {
				e, ok := next.Tasks["300:30000"]
				if !ok || e.Since != judgeNow.Add(-10*time.Minute).Unix() || strings.Join(e.Cmd, " ") != "df --arg" || e.Switches != 4 {
					t.Errorf("next state for df: %+v", next.Tasks)
				}
			}},
		{name: "the state file carries the duration across runs",
			obs:   observations{Total: 1, DProcs: []*dproc{inD(301, "vf", 90*time.Second)}},
			prev:  saved{BootTime: 1700000000, Tasks: map[string]seen{"301:30100": {Since: judgeNow.Add(-2 * time.Hour).Unix(), At: judgeNow.Add(-time.Minute).Unix(), Switches: 4, Cmd: []string{"remembered"}}}},
			state: plugin.CRITICAL, want: []string{"vf (pid 301, 2h,"},
			verify: func(t *testing.T, next saved) {
				if e := next.Tasks["301:30100"]; e.At != judgeNow.Add(-time.Minute).Unix() || e.Cmd[0] != "remembered" {
					t.Errorf("the entry was rewritten: %+v", e)
				}
			}},
		{name: "a task busy switching is not stuck since the state file's time",
			obs:   observations{Total: 1, DProcs: []*dproc{inD(301, "vf", 90*time.Second)}},
			prev:  saved{BootTime: 1700000000, Tasks: map[string]seen{"301:30100": {Since: judgeNow.Add(-2 * time.Hour).Unix(), At: judgeNow.Add(-10 * time.Second).Unix(), Switches: 0}}},
			state: plugin.WARNING, want: []string{"vf (pid 301, 1m30s,"}},
		{name: "history from another boot is no history", args: []string{"-v"},
			obs:   observations{Total: 1, DProcs: []*dproc{inD(301, "vf", 90*time.Second)}},
			prev:  saved{BootTime: 1600000000, Tasks: map[string]seen{"301:30100": {Since: 1}}},
			state: plugin.WARNING, want: []string{"vf (pid 301, 1m30s,", "state file is from before the last boot"}},
		{name: "a task that moved during the sample is cleared",
			obs: func() observations {
				d := inD(300, "df", time.Hour)
				d.tasks[0].moved = true
				return observations{Total: 1, DProcs: []*dproc{d}}
			}(),
			state: plugin.OK, want: []string{"1 in D, none stuck"},
			verify: func(t *testing.T, next saved) {
				if len(next.Tasks) != 0 {
					t.Errorf("a moving task was remembered: %+v", next.Tasks)
				}
			}},
		{name: "wchan hidden from an unprivileged user",
			obs:   observations{Euid: 1000, Total: 1, DProcs: func() []*dproc { d := inD(301, "vf", 90*time.Second); d.tasks[0].wchan = "0"; return []*dproc{d} }()},
			state: plugin.WARNING, want: []string{"[WARNING] vf (pid 301, user root, D for 1m30s, wchan hidden (not root)): vf --arg"}},
		{name: "wchan unknown to root", obs: observations{Total: 1, DProcs: func() []*dproc { d := inD(301, "vf", 90*time.Second); d.tasks[0].wchan = "0"; return []*dproc{d} }()},
			state: plugin.WARNING, want: []string{"wchan unknown): vf --arg"}},
		{name: "command line unknown: named by comm, no suffix",
			obs:   observations{Total: 1, DProcs: func() []*dproc { d := inD(301, "vf", 90*time.Second); d.cmd, d.args = "", nil; return []*dproc{d} }()},
			state: plugin.WARNING, want: []string{"wchan request_wait_answer)\n"}},
		{name: "our probe children and the cap on command lines, with -v", args: []string{"-v"},
			obs:   observations{Total: 3, OwnProbes: 2, ProbeKeys: []string{"40:1", "41:1"}, ArgsProbed: 8, ArgsNotRead: 3},
			state: plugin.OK,
			want:  []string{"none in D", "left out: 2 probe children of hindsight in D", "8 read through the prober, 3 not (at most 8 a run): named by comm"},
			verify: func(t *testing.T, next saved) {
				if strings.Join(next.Probes, " ") != "40:1 41:1" {
					t.Errorf("probe children not remembered: %v", next.Probes)
				}
			}},
		{name: "hung tasks grew, kernel log quoted",
			obs:   observations{Total: 1, Hung: &hungReport{count: 3, prev: 1, grew: true, seq: 1004, lines: []string{"INFO: task df:300 blocked for more than 241 seconds."}}},
			prev:  saved{BootTime: 1700000000, HungCount: &one, KmsgSeq: 900},
			state: plugin.WARNING, want: []string{"STUCK WARNING - kernel reported 2 hung tasks since the last run: INFO: task df:300 blocked"},
			verify: func(t *testing.T, next saved) {
				if next.HungCount == nil || *next.HungCount != 3 || next.KmsgSeq != 1004 {
					t.Errorf("hung baseline %v, seq %d", next.HungCount, next.KmsgSeq)
				}
			}},
		{name: "hung tasks grew, kernel log unusable: a finding, not silence",
			obs:   observations{Total: 1, Hung: &hungReport{count: 3, prev: 1, grew: true, kmsgProblem: "/tmp/fifo: is a FIFO, not the kernel log device or a file of its records (--kmsg)"}},
			prev:  saved{BootTime: 1700000000, HungCount: &one, KmsgSeq: 900},
			state: plugin.WARNING, want: []string{"[UNKNOWN] the kernel's hung-task reports are not quoted: /tmp/fifo: is a FIFO", "(--kmsg)"},
			verify: func(t *testing.T, next saved) {
				if next.KmsgSeq != 900 {
					t.Errorf("kmsg position lost: %d", next.KmsgSeq)
				}
			}},
		{name: "zombies by parent", args: []string{"--zombie-warning", "2", "--zombie-parent-critical", "2"},
			obs: observations{Total: 9, Zombies: []proc.Stat{{PID: 10, PPID: 600}, {PID: 11, PPID: 600}, {PID: 12, PPID: 600}, {PID: 13, PPID: 800}},
				Comms: map[int]string{600: "buggyd", 800: "bash"}},
			state: plugin.CRITICAL, want: []string{"STUCK CRITICAL - 4 zombies: 3 of buggyd (pid 600), 1 of bash (pid 800)", "[CRITICAL] buggyd (pid 600) has not reaped 3 zombie children"}},
		{name: "overdue job named in full", args: []string{"-C", "ansible-playbook", "--max-age", "2h"},
			obs: observations{Total: 9, Selected: 1, Oldest: 3 * time.Hour,
				Matched: []matched{{pid: 700, comm: "ansible-playboo", age: 3 * time.Hour, name: "ansible-playbook", user: "root", cmd: "/usr/bin/ansible-playbook site.yml"}}},
			state: plugin.CRITICAL, want: []string{"1 process running for >2h: ansible-playbook (pid 700, 3h)", "[CRITICAL] ansible-playbook (pid 700, user root, running for 3h, over 2h): /usr/bin/ansible-playbook site.yml"}},
		{name: "count against -w/-c", args: []string{"-C", "nginx", "-w", "2:", "-c", "1:"},
			obs:   observations{Total: 9, Selected: 1},
			state: plugin.WARNING, want: []string{"STUCK WARNING - 1 process with command name 'nginx'", "procs=1;2:;1:;0"}},
		{name: "asleep in a FUSE wait past --d-critical: stuck all the same",
			obs:   observations{Total: 134, DProcs: []*dproc{waiter(1234, "df", 6*time.Minute, "request_wait_answer", "FUSE", "/mnt/gluster")}},
			state: plugin.CRITICAL,
			want: []string{"STUCK CRITICAL - 1 process blocked on a filesystem for >5m: df (pid 1234) blocked 6m in FUSE request_wait_answer on /mnt/gluster |",
				"[CRITICAL] df (pid 1234, user root) blocked 6m in FUSE request_wait_answer on /mnt/gluster, asleep (S) and stuck all the same: df --arg\n",
				"procs_d=0;;;0 procs_stuck=1;;;0"},
			verify: func(t *testing.T, next saved) {
				if _, ok := next.Tasks["1234:123400"]; !ok {
					t.Errorf("the waiter is not remembered: %+v", next.Tasks)
				}
			}},
		{name: "asleep in an NFS wait past --d-warning, mount unknown",
			obs:   observations{Total: 9, DProcs: []*dproc{waiter(77, "ls", 2*time.Minute, "rpc_wait_bit_killable", "NFS", "")}},
			state: plugin.WARNING,
			want:  []string{"STUCK WARNING - 1 process blocked on a filesystem for >1m: ls (pid 77) blocked 2m in NFS rpc_wait_bit_killable |"},
			never: []string{"killable on"}},
		{name: "a thread asleep in a FUSE wait: named by pid and thread",
			obs: observations{Total: 9, DProcs: func() []*dproc {
				d := waiter(1300, "glusterd", 7*time.Minute, "request_wait_answer", "FUSE", "/mnt/gluster")
				d.proc.NumThreads, d.proc.Threads = 2, 2
				d.tasks[0].Stat.PID = 1301
				return []*dproc{d}
			}()},
			state: plugin.CRITICAL,
			want: []string{"STUCK CRITICAL - 1 process blocked on a filesystem for >5m: glusterd (pid 1300 thread 1301) blocked 7m in FUSE request_wait_answer on /mnt/gluster |",
				"[CRITICAL] glusterd (pid 1300 thread 1301, user root) blocked 7m in FUSE request_wait_answer on /mnt/gluster, asleep (S) and stuck all the same: glusterd --arg\n",
				"procs_d=0;;;0 procs_stuck=1;;;0"},
			verify: func(t *testing.T, next saved) {
				if _, ok := next.Tasks["1301:130000"]; !ok {
					t.Errorf("the waiting thread is not remembered by its tid: %+v", next.Tasks)
				}
			}},
		{name: "a fresh filesystem wait is not stuck, nor counted in D",
			obs:   observations{Total: 9, DProcs: []*dproc{waiter(77, "ls", 10*time.Second, "wait_for_response", "CIFS", "/mnt/share")}},
			state: plugin.OK, want: []string{"STUCK OK - 9 processes, none in D, 0 zombies", "procs_d=0;;;0 procs_stuck=0;;;0"}},
		{name: "in D on a FUSE mount: the mount is named",
			obs: observations{Total: 9, DProcs: func() []*dproc {
				d := inD(300, "df", time.Hour)
				d.mount, d.tasks[0].fs = "/mnt/gluster", "FUSE"
				return []*dproc{d}
			}()},
			state: plugin.CRITICAL, want: []string{"[CRITICAL] df (pid 300, user root, D for 1h, wchan request_wait_answer on /mnt/gluster): df --arg"}},
		{name: "other users' wait channels hidden: said plainly",
			obs:   observations{Euid: 102, Total: 134, WchanHidden: 57},
			state: plugin.OK,
			want:  []string{"STUCK OK - 134 processes, none in D", "wait channels of 57 processes of other users not readable as uid 102: tasks blocked in S on a hung mount are not seen (see README: CAP_SYS_PTRACE or sudo)"}},
		{name: "long command lines are cut, pipes removed",
			obs: observations{Total: 1, DProcs: func() []*dproc {
				d := inD(300, "df", time.Hour)
				d.cmd = "a|b " + strings.Repeat("x", 300)
				return []*dproc{d}
			}()},
			state: plugin.CRITICAL, want: []string{": a b xxx", "xx...\n"}, never: []string{"a|b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sel := options(t, tt.args...)
			obs := tt.obs
			obs.Now, obs.BootTime, obs.Root = judgeNow, 1700000000, "/proc"
			for _, a := range tt.args {
				if a == "-v" {
					obs.Verbose++
				}
			}
			if obs.Comms == nil {
				obs.Comms = map[int]string{}
			}
			res, next := judge(c, sel, &obs, tt.prev)
			out := plugin.Render("STUCK", res, 8192)
			if res.State() != tt.state {
				t.Errorf("state %s, want %s\n%s", plugin.StateName(res.State()), plugin.StateName(tt.state), out)
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
			if next.BootTime != obs.BootTime {
				t.Errorf("next state's boot time %d", next.BootTime)
			}
			if tt.verify != nil {
				tt.verify(t, next)
			}
		})
	}
}

// judge reads no clock: the same observations give the same verdict.
func TestJudgeIsPure(t *testing.T) {
	c, sel := options(t)
	obs := observations{Now: judgeNow, BootTime: 1700000000, Total: 1, DProcs: []*dproc{inD(300, "df", 10*time.Minute)}}
	a, na := judge(c, sel, &obs, saved{})
	time.Sleep(10 * time.Millisecond)
	b, nb := judge(c, sel, &obs, saved{})
	if plugin.Render("STUCK", a, 8192) != plugin.Render("STUCK", b, 8192) || !reflect.DeepEqual(na, nb) {
		t.Error("judge is not a function of its inputs")
	}
}
