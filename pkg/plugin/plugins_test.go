package plugin_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// Every plugin answers a bad option with UNKNOWN, a first line naming it
// and a usage line with no "|" (Nagios would take the rest for perfdata).
func TestEveryPluginUsageError(t *testing.T) {
	for _, name := range plugins(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := testutil.Run(t, testutil.Binary(t, name), "--no-such-option")
			lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
			if res.Code != int(plugin.UNKNOWN) || res.Stderr != "" || !strings.Contains(lines[0], "no-such-option") {
				t.Fatalf("exit %d, stderr %q:\n%s", res.Code, res.Stderr, res.Stdout)
			}
			for _, l := range lines[1:] {
				if strings.Contains(l, "|") {
					t.Errorf("a long-output line holds \"|\": %s", l)
				}
			}
		})
	}
}

// pluginRun is one run of a plugin for TestEveryPluginOutputFormats;
// thing, when set, is a part of the name of each of the several things
// the run checks, which no metric name may hold: things of one kind are
// series of one family, told apart by their label.
type pluginRun struct {
	args  []string
	thing string
}

// manyThings are runs that check several things of one kind: certificate
// files, URLs of a loopback server, devices of a fixture tree.
func manyThings(t *testing.T) map[string][]pluginRun {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)
	testdata := filepath.Join("..", "..", "testdata")
	md := filepath.Join(testdata, "blockdev", "md")
	return map[string][]pluginRun{
		"check_cert_expiry": {{[]string{"-d", filepath.Join(testdata, "certs")}, "certs"}},
		"check_http_status": {{[]string{"-u", srv.URL + "/", "-u", srv.URL + "/missing"}, "127"}},
		"check_blockdev":    {{[]string{"--sysfs", filepath.Join(md, "sys"), "--procfs", filepath.Join(md, "proc")}, "md0"}},
	}
}

// Every plugin, run as it comes (with no target, those that need one say
// so) and on several things where that is easy, speaks each format: json
// is one valid object, openmetrics passes promtool, both with the exit
// code of the run, nothing on stderr.
func TestEveryPluginOutputFormats(t *testing.T) {
	promtool, _ := exec.LookPath("promtool")
	if promtool == "" {
		t.Log("promtool not installed (Debian package prometheus): openmetrics not validated")
	}
	many := manyThings(t)
	for _, name := range plugins(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := testutil.Binary(t, name)
			for _, run := range append([]pluginRun{{}}, many[name]...) {
				for _, format := range []string{"json", "openmetrics"} {
					args := append([]string{"-t", "5", "--output-format", format, "--max-output", "65536"}, run.args...)
					checkFormat(t, bin, name, args, run.thing, promtool)
				}
			}
		})
	}
}

// checkFormat runs bin with args and checks its output in the format
// they ask for.
func checkFormat(t *testing.T, bin, name string, args []string, thing, promtool string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
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
		t.Errorf("%q: exit %d, stderr %q", args, code, stderr.String())
	}
	out := stdout.Bytes()
	if args[3] == "json" {
		var doc struct{ State struct{ Code int } }
		if err := json.Unmarshal(out, &doc); err != nil || doc.State.Code != code {
			t.Errorf("%q: %v, state %d, exit %d:\n%s", args, err, doc.State.Code, code, out)
		}
		return
	}
	if !bytes.Contains(out, []byte("hindsight_check_state{plugin=\""+name+"\"} "+strconv.Itoa(code)+"\n")) {
		t.Errorf("%q: no state %d:\n%s", args, code, out)
	}
	if thing != "" {
		families := 0
		for _, line := range strings.Split(string(out), "\n") {
			if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
				families++
				if strings.Contains(f, thing) {
					t.Errorf("%q: a metric family per thing: %s", args, f)
				}
			}
		}
		if families < 2 {
			t.Errorf("%q: no perfdata:\n%s", args, out)
		}
	}
	if promtool == "" {
		return
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(out)
	if msg, err := check.CombinedOutput(); err != nil {
		t.Errorf("%q: promtool check metrics: %v\n%s\ninput:\n%s", args, err, msg, out)
	}
}

// The openmetrics output of plugins, written where node_exporter's
// textfile collector reads, is served by a real node_exporter with no
// scrape error: the format, the families shared by plugins
// (hindsight_check_state) and two runs of one plugin, each in its own
// file with its own --output-label, are what the collector accepts. The
// same two runs without labels are the gathering error the option avoids.
func TestTextfileCollector(t *testing.T) {
	exporter, err := exec.LookPath("prometheus-node-exporter")
	if err != nil {
		t.Skip("skipping: prometheus-node-exporter not installed (Debian package prometheus-node-exporter; CI installs it)")
	}
	dir := t.TempDir()
	certs := filepath.Join("..", "..", "testdata", "certs")
	write := func(file, name string, args ...string) {
		t.Helper()
		args = append([]string{"-t", "5", "--output-format", "openmetrics", "--max-output", "65536"}, args...)
		out, _ := exec.Command(testutil.Binary(t, name), args...).Output()
		if err := os.WriteFile(filepath.Join(dir, file), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("check_load.prom", "check_load")
	write("check_route.prom", "check_route")
	write("certs-formats.prom", "check_cert_expiry", "--output-label", "set=formats", "-d", filepath.Join(certs, "formats"))
	write("certs-all.prom", "check_cert_expiry", "--output-label", "set=all", "--output-label", "site=lab", "-d", certs)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(exporter, "--web.listen-address="+addr, "--collector.disable-defaults",
		"--collector.textfile", "--collector.textfile.directory="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	scrape := func() string {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		t.Fatal("node_exporter does not answer")
		return ""
	}
	// A duplicate series fails the gathering: node_exporter logs "was
	// collected before with the same name and label values", drops it and
	// counts the error, which the next scrape shows.
	gatherErrors := `promhttp_metric_handler_errors_total{cause="gathering"} 0` + "\n"
	scrape()
	body := scrape()
	for _, want := range []string{
		"node_textfile_scrape_error 0\n",
		gatherErrors,
		`hindsight_check_state{plugin="check_load"} `,
		`hindsight_check_state{plugin="check_route"} `,
		`hindsight_load_load1{label="load1",plugin="check_load"} `,
		`hindsight_check_state{plugin="check_cert_expiry",set="formats"} `,
		`hindsight_check_state{plugin="check_cert_expiry",set="all",site="lab"} `,
		`hindsight_cert_expiry_expires_in_seconds{label="` + filepath.Join(certs, "formats", "leaf.pem") + `#0",plugin="check_cert_expiry",set="formats"} `,
		`hindsight_cert_expiry_expires_in_seconds{label="` + filepath.Join(certs, "formats", "leaf.pem") + `#0",plugin="check_cert_expiry",set="all",site="lab"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("node_exporter does not serve %q; it serves:\n%s", want, body)
		}
	}

	write("certs-formats.prom", "check_cert_expiry", "-d", filepath.Join(certs, "formats"))
	write("certs-all.prom", "check_cert_expiry", "-d", certs)
	scrape()
	if body := scrape(); strings.Contains(body, gatherErrors) {
		t.Errorf("two runs without --output-label: no scrape error, the test proves nothing; node_exporter serves:\n%s", body)
	}
}

// maxInitAllocs bounds what the package initialisers of our own code may
// allocate. Nagios starts each plugin afresh, thousands of times a minute:
// a regexp compiled at init cost every run of every plugin about a third
// of its instructions. The small map literals of pkg/plugin (20 allocations)
// fit under it.
const maxInitAllocs = 32

// No plugin does work at init: GODEBUG=inittrace=1 reports each package's
// initialiser, and ours stay under maxInitAllocs.
func TestEveryPluginStartsWithoutInitWork(t *testing.T) {
	const ours = "github.com/hindsight-plugins/hindsight/"
	for _, name := range plugins(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(testutil.Binary(t, name), "-V")
			cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Run()
			seen := 0
			for _, line := range strings.Split(stderr.String(), "\n") {
				// "init PKG @0.5 ms, 0.01 ms clock, 3120 bytes, 10 allocs"
				f := strings.Fields(line)
				if len(f) < 11 || f[0] != "init" || f[10] != "allocs" {
					continue
				}
				seen++
				allocs, err := strconv.Atoi(f[9])
				if err != nil {
					t.Fatalf("cannot read %q", line)
				}
				if strings.HasPrefix(f[1], ours) && allocs > maxInitAllocs {
					t.Errorf("%s: %s allocates %d times at init (at most %d): compile or build it on first use", name, f[1], allocs, maxInitAllocs)
				}
			}
			if seen == 0 {
				t.Fatalf("no inittrace output: %q", stderr.String())
			}
		})
	}
}
