package certexpiry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// runAt runs the check in-process at a chosen time, the way the runtime
// would (parse, arguments, validate, run, render), and returns the exit
// code and the output. The output bound is generous so that every line
// can be checked.
func runAt(t *testing.T, now time.Time, args ...string) (int, string) {
	t.Helper()
	o, msg := parse(t, args...)
	if o == nil {
		return int(plugin.UNKNOWN), msg
	}
	env := plugin.NewEnv(5 * time.Second)
	env.Now = func() time.Time { return now }
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline)
	defer cancel()
	res, err := o.Run(ctx, env)
	if err != nil {
		return int(plugin.UNKNOWN), plugin.RenderLine(Plugin.Service, plugin.UNKNOWN, err.Error())
	}
	return int(res.State()), plugin.Render(Plugin.Service, res, 1<<20)
}

// parse parses and validates args as the runtime does; on failure the
// options are nil and msg is the status line.
func parse(t *testing.T, args ...string) (o *Options, msg string) {
	t.Helper()
	parser, check, _ := plugin.NewParser(Plugin)
	rest, err := parser.ParseArgs(args)
	if err != nil {
		return nil, plugin.RenderLine(Plugin.Service, plugin.UNKNOWN, err.Error())
	}
	if len(rest) > 0 {
		if err := check.(plugin.ArgsTaker).TakeArgs(rest); err != nil {
			return nil, plugin.RenderLine(Plugin.Service, plugin.UNKNOWN, err.Error())
		}
	}
	if err := check.(plugin.Validator).Validate(); err != nil {
		return nil, plugin.RenderLine(Plugin.Service, plugin.UNKNOWN, err.Error())
	}
	return check.(*Options), ""
}

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runAt(t, time.Now(), args...)
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// expect checks the exit code and that every want string is in the output.
func expect(t *testing.T, name string, code int, out string, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d\n%s", name, code, wantCode, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q\n%s", name, w, out)
		}
	}
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
func contains(s, sub string) bool          { return strings.Contains(s, sub) }
func joinArgs(a []string) string           { return strings.Join(a, " ") }
