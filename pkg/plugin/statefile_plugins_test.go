package plugin_test

import (
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
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
