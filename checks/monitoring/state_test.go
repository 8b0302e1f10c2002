package monitoring

import (
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// The default state file is named as before the runtime named it, so
// that existing users' history is still found; an explicit path and
// --no-state-file are as given.
func TestStatePath(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, state.DefaultPath("check_monitoring-fa3e523a")},
		{[]string{"--nagios-status", "/var/lib/nagios4/status.dat", "--nagios-log", "/var/log/nagios4/nagios.log"}, state.DefaultPath("check_monitoring-c9f1a809")},
		{[]string{"--nagios-status", "/var/lib/nagios4/status.dat", "--nagios-log", "/var/log/nagios4/nagios.log", "--api-user", "nagios"}, state.DefaultPath("check_monitoring-0beaa228")},
		{[]string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{[]string{"--no-state-file"}, ""},
	} {
		parser, chk, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs(tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if got := chk.(*Options).StateSpec().Path; got != tt.want {
			t.Errorf("%q: state file %q, want %q", tt.args, got, tt.want)
		}
	}
}
