package plugin_test

// Linux only: these plugins do not build elsewhere, and the FreeBSD vet
// of the runtime's packages includes their tests.

import (
	"testing"

	"github.com/hindsight-plugins/hindsight/checks/blockdev"
	"github.com/hindsight-plugins/hindsight/checks/load"
	"github.com/hindsight-plugins/hindsight/checks/monitoring"
	"github.com/hindsight-plugins/hindsight/checks/stuckprocs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// Every stateful plugin's default state file is named as before the
// runtime named it, so that existing users' history is still found; an
// explicit path and --no-state-file are as given.
func TestStatefulPluginsStatePath(t *testing.T) {
	for _, tt := range []struct {
		p    plugin.Plugin
		args []string
		want string
	}{
		{load.Plugin, nil, state.DefaultPath("check_load-2cfabf8a")},
		{load.Plugin, []string{"-w", "4,3,2", "-c", "8,6,4", "-r", "-n", "3", "--psi-warning", "cpu=10", "--psi-critical", "memory=5", "--oom-warning", "1", "--procfs", "/x/proc"}, state.DefaultPath("check_load-d53bfc85")},
		{load.Plugin, []string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{load.Plugin, []string{"--no-state-file"}, ""},
		{blockdev.Plugin, nil, state.DefaultPath("check_blockdev")},
		{blockdev.Plugin, []string{"-d", "sdb", "-d", "nvme0n1", "-p", "/srv", "-p", "/mnt/a", "-N", "nfs4", "--procfs", "/x/proc"}, state.DefaultPath("check_blockdev-aaf71f91")},
		{blockdev.Plugin, []string{"--procfs", "/x/proc", "-N", "nfs4", "-p", "/mnt/a", "-p", "/srv", "-d", "nvme0n1", "-d", "sdb"}, state.DefaultPath("check_blockdev-aaf71f91")},
		{blockdev.Plugin, []string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{stuckprocs.Plugin, nil, state.DefaultPath("check_stuck_procs")},
		{stuckprocs.Plugin, []string{"-C", "nginx"}, state.DefaultPath("check_stuck_procs")},
		{stuckprocs.Plugin, []string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{stuckprocs.Plugin, []string{"--no-state-file"}, ""},
		{monitoring.Plugin, nil, state.DefaultPath("check_monitoring-fa3e523a")},
		{monitoring.Plugin, []string{"--nagios-status", "/var/lib/nagios4/status.dat", "--nagios-log", "/var/log/nagios4/nagios.log"}, state.DefaultPath("check_monitoring-c9f1a809")},
		{monitoring.Plugin, []string{"--nagios-status", "/var/lib/nagios4/status.dat", "--nagios-log", "/var/log/nagios4/nagios.log", "--api-user", "nagios"}, state.DefaultPath("check_monitoring-0beaa228")},
		{monitoring.Plugin, []string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{monitoring.Plugin, []string{"--no-state-file"}, ""},
	} {
		parser, chk, _ := plugin.NewParser(tt.p)
		if _, err := parser.ParseArgs(tt.args); err != nil {
			t.Fatalf("%s %q: %v", tt.p.Name, tt.args, err)
		}
		if got := chk.(plugin.Stateful).StateSpec().Path; got != tt.want {
			t.Errorf("%s %q: state file %q, want %q", tt.p.Name, tt.args, got, tt.want)
		}
	}
}
