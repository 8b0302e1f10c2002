package stuckprocs

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
		{nil, state.DefaultPath("check_stuck_procs")},
		{[]string{"-C", "nginx"}, state.DefaultPath("check_stuck_procs")},
		{[]string{"--state-file", "/srv/s.json"}, "/srv/s.json"},
		{[]string{"--no-state-file"}, ""},
	} {
		parser, chk, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs(tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if got := chk.(*Check).StateSpec().Path; got != tt.want {
			t.Errorf("%q: state file %q, want %q", tt.args, got, tt.want)
		}
	}
}
