// Package monitoring is check_monitoring: the monitoring itself, so that
// the death of the monitor pages someone. A Nagios 4 or Naemon engine is
// judged from its files (status.dat, nagios.cfg, its log) and its
// process; an Icinga 2 engine through its REST API.
//
// options.go holds the flags, gather*.go reads files, /proc and the API
// through the runtime's sources, judge*.go turns what was read into the
// result without touching the host.
package monitoring

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Plugin is check_monitoring.
var Plugin = plugin.Plugin{
	Name:    "check_monitoring",
	Service: "MONITORING",
	Summary: "check that Nagios or Icinga 2 itself works",
	Usage:   "[--nagios-config FILE] [--icinga-api URL] [OPTIONS]",
	Group:   "Monitoring options",
	Help: `Run it from a second engine, from NRPE on another host, or from cron: an engine
cannot report its own death.

Nagios 4 and Naemon (from their files; without options, Debian's nagios4):
  - the engine's process, by the pid in status.dat: dead (a SIGKILL, the OOM
    killer: the kernel log tells which; when it is closed to the user, a
    rise of the kernel's OOM kill count since the last run says the OOM
    killer likely did) or stopped is CRITICAL; the lock file (lock_file of
    the configuration) naming another process is shown, CRITICAL when that
    one is stopped or a zombie, or runs while status.dat is stale;
  - status.dat older than --stale-factor times status_update_interval: the
    engine is dead or hung, CRITICAL;
  - notifications or active service checks disabled globally: CRITICAL;
  - active checks whose last run is older than --stale-factor times their
    interval (never run since start counts), in percent of all:
    --stale-warning (default any) and --stale-critical (default 10%);
  - notification commands that failed since the last run (the log's worker
    reports): --notify-fail-warning (default any), --notify-fail-critical;
  - problems older than --unnotified with no notification sent: WARNING;
  - the engine's resident memory and its growth since the last run.
Icinga 2 (--icinga-api, password from --api-password-file or
--api-password-env, never the command line): the API answers, the
application's checks and notifications are enabled, late checks as above,
endpoints not connected, problems no notification went out for, and
failed notification commands from its log (--icinga-log): the API keeps
no record of them.

Perfdata: late_checks, oldest_check_age, notifications_sent,
notifications_failed, engine_rss, engine_rss_growth.

Examples:
  check_monitoring   Debian's nagios4, files where Debian puts them
  check_monitoring --nagios-config /etc/nagios4/nagios.cfg   by NRPE, \
      for the other Nagios
  check_monitoring --nagios-config /etc/naemon/naemon.cfg --rss-warning 2048
  check_monitoring --icinga-api https://127.0.0.1:5665 --api-user monitor \
      --api-password-file /etc/nagios/icinga.pass \
      --api-ca /var/lib/icinga2/certs/ca.crt`,
	New: New,
}

// New returns check_monitoring's options, to be filled in by the runtime.
func New() plugin.Check { return &Options{} }

// Run reads the last run's state, gathers what each engine shows,
// judges it and leaves the state for the next run.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	var prev *saved
	if o.keepsState() {
		var p saved
		if env.PrevState(&p) {
			prev = &p
		}
	}
	obs, err := gather(ctx, env, o, prev)
	if err != nil {
		return plugin.Result{}, err
	}
	if o.keepsState() {
		env.SaveState(nextState(obs))
	}
	return judge(o, obs), nil
}
