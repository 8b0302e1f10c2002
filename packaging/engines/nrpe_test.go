package engines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const checkNRPE = "/usr/lib/nagios/plugins/check_nrpe"

// nrpeLimit is what Debian's NRPE 4.1 passes of a plugin's stdout with v3
// and v4 packets (nagios-lab.md §2), and nrpeV2Limit with v2 packets.
const (
	nrpeLimit   = 65504
	nrpeV2Limit = 1023
)

// NRPE is a running nrpe with a generated config.
type NRPE struct {
	port int
}

// startNRPE runs nrpe on loopback with one command[] line per entry.
func startNRPE(t *testing.T, lab *Lab, commands map[string]string) *NRPE {
	t.Helper()
	dir := lab.Mkdir(t, "nrpe")
	port := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, `log_facility=daemon
debug=0
disable_syslog=1
log_file=%[1]s/nrpe.log
pid_file=%[1]s/nrpe.pid
server_address=127.0.0.1
server_port=%[2]d
nrpe_user=nagios
nrpe_group=nagios
allowed_hosts=127.0.0.1
dont_blame_nrpe=0
allow_bash_command_substitution=0
command_timeout=30
connection_timeout=60
`, dir, port)
	for name, line := range commands {
		fmt.Fprintf(&b, "command[%s]=%s\n", name, line)
	}
	cfg := filepath.Join(dir, "nrpe.cfg")
	writeFile(t, cfg, b.String())
	startDaemon(t, lab, "nrpe", "nrpe", "-c", cfg, "-f")
	n := &NRPE{port: port}
	waitFor(t, "nrpe answering on 127.0.0.1:"+strconv.Itoa(port), 10*time.Second, func() bool {
		out, code := n.call(t, "")
		return code == 0 && strings.HasPrefix(out, "NRPE v")
	})
	return n
}

// call runs check_nrpe for a command ("" asks for the version) and
// returns what it printed and its exit code.
func (n *NRPE) call(t *testing.T, command string, extra ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := append([]string{"-H", "127.0.0.1", "-p", strconv.Itoa(n.port), "-t", "35"}, extra...)
	if command != "" {
		args = append(args, "-c", command)
	}
	cmd := exec.CommandContext(ctx, checkNRPE, args...)
	cmd.Env = []string{pathEnv}
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return string(out), exit.ExitCode()
	}
	t.Errorf("check_nrpe -c %s: %v", command, err) // not Fatal: called from goroutines
	return "", -1
}

// TestNRPE: every case through nrpe (as the nagios user) and check_nrpe.
// NRPE is transport only, so check_nrpe must print exactly the plugin's
// output and exit with its code.
// staleOption matches the runtime's messages for options it cannot parse.
var staleOption = regexp.MustCompile(`(unknown flag|expected argument for flag|invalid argument for flag|unexpected argument)`)

func TestNRPE(t *testing.T) {
	lab := newLab(t, "nrpe", checkNRPE)
	refs := lab.references(t)
	commands := map[string]string{}
	for _, c := range cases {
		commands[c.ID()] = shellJoin(append([]string{lab.Bin(c.Plugin)}, lab.Args(c)...))
	}
	shipped := shippedNRPELines(t, lab)
	for name, line := range shipped {
		commands[name] = line
	}
	n := startNRPE(t, lab, commands)
	// The shipped example lines, uncommented, run on this machine: any
	// state, but a valid status line and no option the binary no longer
	// parses (an example in --help that went stale). A file an example
	// names (req.json) need not exist here.
	// At most 4 at once: nrpe listens with a backlog of 5 and resets
	// the connections beyond it, which would fail a line for nothing.
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for name := range shipped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			out, code := n.call(t, name)
			if code > 3 || !statusLine.MatchString(out) || staleOption.MatchString(out) {
				t.Errorf("shipped NRPE line %s (%s): exit %d:\n%s", name, shipped[name], code, out)
			}
		}()
	}
	wg.Wait()
	for _, c := range cases {
		out, code := n.call(t, c.ID())
		want := refs[c.ID()]
		compare(t, "nrpe", c, want, code, parseNagios(out))
		if !c.Volatile && strings.TrimRight(out, "\n") != strings.TrimRight(want.Stdout, "\n") {
			t.Errorf("nrpe %s: check_nrpe printed\n%s\nthe plugin printed\n%s", c.ID(), out, want.Stdout)
		}
	}
}

var statusLine = regexp.MustCompile(`^[A-Z0-9_]+ (OK|WARNING|CRITICAL|UNKNOWN) - `)

// shippedNRPELines are the fixed-argument command lines of
// packaging/nrpe/*.cfg, uncommented and pointed at the lab's binaries.
func shippedNRPELines(t *testing.T, lab *Lab) map[string]string {
	t.Helper()
	lines := map[string]string{}
	for _, plugin := range casePlugins() {
		b, err := os.ReadFile(shippedFile(t, "nrpe", plugin+".cfg"))
		must(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			rest, ok := strings.CutPrefix(line, "#command[")
			if !ok || strings.Contains(line, "$ARG") {
				continue
			}
			name, cmd, ok := strings.Cut(rest, "]=")
			if !ok {
				t.Fatalf("bad line in packaging/nrpe/%s.cfg: %s", plugin, line)
			}
			lines[name] = strings.Replace(cmd, "/usr/lib/nagios/plugins/hindsight/", lab.Plugins+"/hindsight/", 1)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no command lines in packaging/nrpe")
	}
	return lines
}

// TestNRPEOutputBound: a plugin output larger than NRPE can pass. NRPE
// cuts silently at 64 KiB (1 KiB with v2 packets) and keeps the exit code;
// --max-output keeps the whole output under the limit, ending with a line
// that says how much was left out, and the perfdata (on line 1) intact.
func TestNRPEOutputBound(t *testing.T) {
	lab := newLab(t, "nrpe", checkNRPE)
	procfs := bigProcfs(t, lab, 500)
	base := []string{lab.Bin("check_load"), "--warning", "1", "--critical", "2", "--procs-to-show", "500",
		"--sample-interval", "0", "--procfs", procfs}
	runs := []struct {
		name      string
		maxOutput int
		v2        bool
		whole     bool // arrives whole through NRPE
	}{
		{"default", 0, false, true},
		{"near_limit", nrpeLimit - 100, false, true},
		{"over_limit", 4 * nrpeLimit, false, false},
		{"v2_packets", nrpeV2Limit, true, true},
	}
	commands := map[string]string{}
	argv := map[string][]string{}
	for _, r := range runs {
		args := append([]string{}, base...)
		if r.maxOutput > 0 {
			args = append(args, "--max-output", strconv.Itoa(r.maxOutput))
		}
		argv[r.name] = args
		commands["big_"+r.name] = shellJoin(args)
	}
	n := startNRPE(t, lab, commands)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			want := lab.direct(t, argv[r.name][0], argv[r.name][1:]...)
			if want.Code != 2 {
				t.Fatalf("plugin exited %d, want 2:\n%.300s", want.Code, want.Stdout)
			}
			bound := r.maxOutput
			if bound == 0 {
				bound = 4096
			}
			if len(want.Stdout) > bound || (r.whole && !strings.Contains(want.Stdout, " not shown)\n")) {
				t.Fatalf("plugin printed %d bytes with a bound of %d, ending %q", len(want.Stdout), bound, tail(want.Stdout, 80))
			}
			var extra []string
			if r.v2 {
				extra = []string{"-2"}
			}
			out, code := n.call(t, "big_"+r.name, extra...)
			if code != want.Code {
				t.Errorf("check_nrpe exited %d, the plugin %d", code, want.Code)
			}
			wantLines, gotLines := strings.Split(want.Stdout, "\n"), strings.Split(out, "\n")
			if gotLines[0] != wantLines[0] || !strings.Contains(gotLines[0], "| load1=24;1;2;0 ") {
				t.Errorf("first line with perfdata changed:\n got: %.300s\nwant: %.300s", gotLines[0], wantLines[0])
			}
			if r.whole {
				if strings.TrimRight(out, "\n") != strings.TrimRight(want.Stdout, "\n") {
					t.Errorf("%d bytes arrived of %d: ends %q", len(out), len(want.Stdout), tail(out, 80))
				}
				return
			}
			// Over the limit NRPE drops the tail silently: only the bound
			// protects it, which is why the default is 4 KiB.
			if len(out) >= len(want.Stdout) || len(out) > nrpeLimit+1 {
				t.Errorf("expected NRPE to cut %d bytes of output to about %d, got %d", len(want.Stdout), nrpeLimit, len(out))
			}
			t.Logf("plugin printed %d bytes, NRPE passed %d (first line and perfdata intact)", len(want.Stdout), len(out))
		})
	}
}

// bigProcfs is an overloaded /proc with n processes, all with a long
// command line and no CPU time (so the listing is sorted by pid and the
// output is the same on every run).
func bigProcfs(t *testing.T, lab *Lab, n int) string {
	t.Helper()
	root := filepath.Join(lab.Dir, "bigproc")
	must(t, os.MkdirAll(root, 0o755))
	writeFile(t, filepath.Join(root, "loadavg"), "24.00 20.00 16.00 5/900 9999\n")
	writeFile(t, filepath.Join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n")
	cmdline := strings.Repeat("x", 60) + "\x00--option\x00" + strings.Repeat("y", 40) + "\x00"
	for i := range n {
		pid := strconv.Itoa(10000 + i)
		dir := filepath.Join(root, pid)
		must(t, os.MkdirAll(dir, 0o755))
		writeFile(t, filepath.Join(dir, "stat"), pid+" (worker) S 1 "+pid+" "+pid+" 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
		writeFile(t, filepath.Join(dir, "status"), "Name:\tworker\nUid:\t0\t0\t0\t0\n")
		writeFile(t, filepath.Join(dir, "cmdline"), "/usr/bin/worker-"+pid+"\x00"+cmdline)
	}
	return root
}
