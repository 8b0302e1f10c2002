package plugin_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// plugins lists every plugin of the suite: every cmd/check_*, so that a
// new one is included without being listed.
func plugins(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "cmd", "check_*"))
	if err != nil || len(dirs) < 6 {
		t.Fatalf("found %d plugins in cmd/ (%v), want all of them", len(dirs), err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(d))
	}
	return names
}

// Every plugin of the suite (every cmd/check_*, so a new one is included
// without being listed) prints a --help that reads at 80 columns through
// a pipe, and keeps the options every plugin has.
func TestEveryPluginHelp(t *testing.T) {
	for _, name := range plugins(t) {
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

// Every plugin, run as it comes (with no target, those that need one say
// so), speaks each format: json is one valid object, openmetrics passes
// promtool, both with the exit code of the run, nothing on stderr.
func TestEveryPluginOutputFormats(t *testing.T) {
	promtool, _ := exec.LookPath("promtool")
	for _, name := range plugins(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := testutil.Binary(t, name)
			for _, format := range []string{"json", "openmetrics"} {
				cmd := exec.Command(bin, "-t", "5", "--output-format", format, "--max-output", "65536")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code > 3 || stderr.Len() > 0 {
					t.Errorf("%s: exit %d, stderr %q", format, code, stderr.String())
				}
				out := stdout.Bytes()
				if format == "json" {
					var doc struct{ State struct{ Code int } }
					if err := json.Unmarshal(out, &doc); err != nil || doc.State.Code != code {
						t.Errorf("json: %v, state %d, exit %d:\n%s", err, doc.State.Code, code, out)
					}
					continue
				}
				if !bytes.Contains(out, []byte("hindsight_check_state{plugin=\""+name+"\"} "+strconv.Itoa(code)+"\n")) {
					t.Errorf("openmetrics: no state %d:\n%s", code, out)
				}
				if promtool == "" {
					t.Log("promtool not installed (Debian package prometheus): format not validated")
					continue
				}
				check := exec.Command(promtool, "check", "metrics")
				check.Stdin = bytes.NewReader(out)
				if msg, err := check.CombinedOutput(); err != nil {
					t.Errorf("promtool check metrics: %v\n%s\ninput:\n%s", err, msg, out)
				}
			}
		})
	}
}
