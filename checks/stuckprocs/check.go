// Package stuckprocs is check_stuck_procs: processes stuck in
// uninterruptible sleep, zombies piling up, jobs running far too long,
// and check_procs' selecting and counting without its limits.
//
// A run is options (options.go), gather (gather*.go: every read of /proc,
// the kernel log and the prober) and judge (judge*.go: pure, from the
// observations and the previous run's state to the result and the next
// state, state.go).
package stuckprocs

import (
	"context"
	"reflect"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Plugin is check_stuck_procs.
var Plugin = plugin.Plugin{
	Name:    "check_stuck_procs",
	Service: "STUCK",
	Summary: "Processes stuck in D, zombies, overdue jobs, and process counts like check_procs",
	Usage:   "[-C NAME] [-a TEXT] [-u USER] [-s FLAGS] [--max-age DURATION] [-w RANGE] [-c RANGE] [OPTIONS]",
	Group:   "Check options",
	Help:    help,
	New:     func() plugin.Check { return &Check{} },
}

const help = `What it finds, all from /proc (never forks ps):
  - tasks in uninterruptible sleep (D), threads included, and for how long:
    the time since the task last ran (se.exec_start in /proc/PID/sched), a
    state file remembering since when each process was seen in D across
    runs, and optionally counters frozen over --sample-interval;
  - tasks asleep (S) in a FUSE, NFS, CIFS, Ceph or 9p wait, threads
    included (at most 4096 threads read a run), for as long:
    as stuck as a task in D, named with the mount they wait on;
  - growth of the kernel's hung-task count since the last run, with the
    kernel's own log line where /dev/kmsg is readable;
  - zombies, and the parents that do not reap them;
  - processes matching a selection that run longer than --max-age;
  - the number of matching processes against -w/-c, as check_procs.
D-state, zombies and hung tasks are judged machine-wide (with
--only-selected, among the selected processes only); the selection (-C -a
--ereg-argument -u --ppid -s --cgroup -r -z -P) picks what -w/-c, -m and
--max-age judge. Kernel threads, -X names, this plugin, its parent shell
and other runs of it are never counted.

Unprivileged (NRPE's nagios user) works: wchan of other users' tasks is
hidden by the kernel (without CAP_SYS_PTRACE) and said so; unreadable or vanished entries are
counted and shown with -v.

Examples:
  check_stuck_procs
      D tasks stuck over 1m warn, over 5m are critical; zombies counted.
  check_stuck_procs -C ansible-playbook --max-age 2h -w 1:3 -c 1:10
      the nightly job: missing, piled up, or running for over two hours.
  check_stuck_procs -s D -w 5 -c 20
      count processes with a task in D, as check_procs -s D.
  check_stuck_procs --zombie-warning 10 --zombie-critical 100 --zombie-parent-warning 5
  check_stuck_procs -C nginx -m RSS -w 500000 -c 1000000
  check_stuck_procs --cgroup /system.slice/postgresql.service -w 1:
  check_stuck_procs --cgroup /system.slice/backup.service --only-selected
      stuck tasks and zombies of one unit only.`

// StateSpec is where the runtime keeps what one run leaves for the next.
func (c *Check) StateSpec() plugin.StateSpec {
	return plugin.StateSpec{
		Path:    plugin.StatePath(c.StateFile, c.NoStateFile, stateKind),
		Kind:    stateKind,
		Version: stateVersion,
		Lost:    "durations in D across runs and hung-task growth",
	}
}

// Run gathers and judges. The state file is written only when it
// changed: a healthy machine's run writes nothing.
func (c *Check) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	sel, err := c.selection()
	if err != nil {
		return plugin.Result{}, err
	}
	var prev saved
	env.PrevState(&prev)
	obs, err := gather(ctx, env, c, sel, prev)
	if err != nil {
		return plugin.Result{}, err
	}
	res, next := judge(c, sel, obs, prev)
	if !reflect.DeepEqual(history(prev, obs.BootTime), next) {
		env.SaveState(next)
	}
	return res, nil
}
