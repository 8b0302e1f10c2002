package plugin_test

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Every plugin of the suite (every cmd/check_*, so a new one is included
// without being listed) prints a --help that reads at 80 columns through
// a pipe, and keeps the options every plugin has.
func TestEveryPluginHelp(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "cmd", "check_*"))
	if err != nil || len(dirs) < 6 {
		t.Fatalf("found %d plugins in cmd/ (%v), want all of them", len(dirs), err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(testutil.Binary(t, name), "--help")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr // pipes, as a pager or a ticket gets it
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != int(plugin.UNKNOWN) || stderr.Len() > 0 {
				t.Fatalf("--help: %v, stderr %q", err, stderr.String())
			}
			help := stdout.String()
			for _, p := range plugin.HelpProblems(help) {
				t.Error(p)
			}
			for _, opt := range []string{"-h, --help", "-V, --version", "-v, --verbose", "-t, --timeout=", "--extra-opts=", "--output-format="} {
				if !strings.Contains(help, "\n  "+opt) && !strings.Contains(help, "\n      "+opt) {
					t.Errorf("--help does not list %s", opt)
				}
			}
			if t.Failed() {
				t.Logf("--help of %s:\n%s", name, help)
			}
		})
	}
}
