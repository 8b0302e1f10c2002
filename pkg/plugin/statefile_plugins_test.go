package plugin_test

import (
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/checks/blockdev"
	"github.com/hindsight-plugins/hindsight/checks/load"
	"github.com/hindsight-plugins/hindsight/checks/monitoring"
	"github.com/hindsight-plugins/hindsight/checks/stuckprocs"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// An explicitly empty --state-file is a usage error in every plugin that
// keeps state, never a quiet fall back to the default file: the user
// meant something, and the hint says how to keep none.
func TestEveryStatefulPluginEmptyStateFile(t *testing.T) {
	for _, tt := range []struct{ name, none string }{
		{"check_load", "--no-state-file"},
		{"check_blockdev", "--state-file /dev/null"}, // it has no --no-state-file
		{"check_stuck_procs", "--no-state-file"},
		{"check_monitoring", "--no-state-file"},
	} {
		for _, args := range [][]string{{"--state-file", ""}, {"--state-file="}} {
			t.Run(tt.name+" "+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				res := testutil.Run(t, testutil.Binary(t, tt.name), args...)
				first, _, _ := strings.Cut(res.Stdout, "\n")
				want := "UNKNOWN - invalid --state-file: empty path (use " + tt.none + " to keep none)"
				if res.Code != int(plugin.UNKNOWN) || res.Stderr != "" || !strings.HasSuffix(first, want) {
					t.Fatalf("exit %d, stderr %q, first line %q, want it to end in %q", res.Code, res.Stderr, first, want)
				}
			})
		}
	}
}

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
