package load

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
		{nil, state.DefaultPath("check_load-2cfabf8a")},
		{[]string{"-w", "4,3,2", "-c", "8,6,4", "-r", "-n", "3", "--psi-warning", "cpu=10", "--psi-critical", "memory=5", "--oom-warning", "1", "--procfs", "/x/proc"}, state.DefaultPath("check_load-d53bfc85")},
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
