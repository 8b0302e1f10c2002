// Package load is check_load: the load average, absolute or per CPU
// (affinity- and cgroup-quota-aware), pressure stall information, and
// the OOM kills since the last run.
//
// options.go holds the flags, gather*.go reads the --procfs and --sysfs
// trees through the runtime's file source, judge*.go turns what was read
// into the result without touching the host.
package load

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Default thresholds when neither -w nor -c is given, judged per CPU: a
// 15-minute load of 1.5 runnable (or D-state) tasks per CPU is sustained
// queueing; 3 per CPU is saturation. The 1-minute values allow bursts.
const (
	defaultWarning  = "3,2,1.5"
	defaultCritical = "5,4,3"
)

// Plugin is check_load.
var Plugin = plugin.Plugin{
	Name:    "check_load",
	Service: "LOAD",
	Summary: "check the load average (absolute or per CPU), pressure stall information and OOM kills",
	Usage:   "[-r] [-w W1,W5,W15] [-c C1,C5,C15] [-n N] [--psi-warning SPEC] [--psi-critical SPEC] [--oom-warning RANGE] [OPTIONS]",
	Group:   "Load options",
	Help: `Thresholds are lists for the 1, 5 and 15 minute averages ("15,10,5"), or one
value for all three; each value is a plain number (alert above it) or a range.
With -r they apply to the load per CPU. The CPU count honours the process's CPU
affinity and the cgroup CPU quota (v1 and v2), so a container limited to 2 CPUs
on a 64-core host is judged by 2.

Without -w and -c the load is judged per CPU against warning ` + defaultWarning + ` and
critical ` + defaultCritical + ` (the C check_load refuses to run without thresholds).

Pressure stall information (/proc/pressure: cpu, io, memory; some and full;
avg10/avg60/avg300) is reported as perfdata. Thresholds on it are optional:
--psi-warning RESOURCE[:some|full][:avg10|avg60|avg300]=RANGE (default some,
avg60; values in percent of time). On kernels without PSI, -v says so and the
load is still checked.

OOM kills: the kernel's count (oom_kill in /proc/vmstat) is compared with the
last run's, kept in a state file (one per set of options, so two services do
not take each other's news; across a reboot, the kills of this boot count).
Any kill since the last run is a WARNING (--oom-warning 0); --oom-warning and
--oom-critical take ranges over that number ("--oom-warning ~:" never warns).
The first run only records the count. When the count grew, the kernel log
(--kmsg) names the killed processes and their cgroups; it needs root (or
CAP_SYSLOG) where dmesg_restrict=1, and without it the long output says the
names are not shown. Perfdata: oom_kills (since the last run), oom_kills_total.

Examples:
  check_load -w 5,4,3 -c 10,8,6          absolute thresholds, as the C plugin
  check_load -r -w 2,1.5,1 -c 4,3,2      per CPU
  check_load                             per CPU with the defaults
  check_load -r -w 2 -c 4 -n 5           and the top 5 CPU consumers when not OK
  check_load --psi-warning io=20 --psi-critical io:full:avg10=50
  check_load --oom-warning 0 --oom-critical 2   critical at the third OOM kill
  check_load --procfs /host/proc --sysfs /host/sys    from a container`,
	New: New,
}

// New returns check_load's options, to be filled in by the runtime.
func New() plugin.Check { return &Options{} }

// Run gathers the load, CPUs, pressure and OOM kills and judges them. The top CPU
// consumers (-n) cost a sampling interval, so they are gathered only when
// the first judgement is not OK, and the whole is judged again with them.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	obs, err := gather(ctx, env, o)
	if err != nil {
		return plugin.Result{}, err
	}
	res := judge(o, obs)
	if o.ProcsToShow > 0 && res.State() != plugin.OK {
		obs.Top = gatherTop(ctx, env, o)
		res = judge(o, obs)
	}
	return res, nil
}
