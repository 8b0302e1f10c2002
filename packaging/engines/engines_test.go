// Package engines runs the built plugins under the real NRPE, Nagios 4
// and Icinga 2 of Debian, started by the tests without systemd, and checks
// that what each engine recorded is what the plugin printed. The tests
// need root (the engines run plugins as the nagios user) and the packages
// in .ci/apt-engines.txt; without them they skip and say why.
package engines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// Case is one plugin run that every engine performs; see cases.
type Case struct {
	Plugin   string
	Name     string
	Args     []string
	State    int
	Volatile bool
	Setup    func(t *testing.T, lab *Lab)
}

// ID names the case in configs: a Nagios service, an NRPE command, an
// Icinga 2 service.
func (c Case) ID() string { return c.Plugin + "_" + c.Name }

// casePlugins are the plugins the cases use, each once, in the cases'
// order: the ones whose shipped definitions an engine loads.
func casePlugins() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cases {
		if !seen[c.Plugin] {
			seen[c.Plugin] = true
			out = append(out, c.Plugin)
		}
	}
	return out
}

// Lab is a directory the nagios user can read, holding copies of the
// binaries (Plugins/hindsight/NAME, the layout the shipped definitions
// expect under $USER1$ and PluginDir) and of the fixtures.
type Lab struct {
	Dir      string
	Plugins  string
	Vars     map[string]string
	UID, GID int
}

const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// newLab skips unless root with the given programs installed, then builds
// every plugin the cases use and copies binaries and fixtures.
func newLab(t *testing.T, programs ...string) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the engines run plugins as the nagios user and need root to start")
	}
	for _, p := range append(programs, "timeout") {
		if _, err := os.Stat(p); err != nil {
			if _, err := exec.LookPath(p); err != nil {
				t.Skipf("%s is not installed (see .ci/apt-engines.txt)", p)
			}
		}
	}
	u, err := user.Lookup("nagios")
	if err != nil {
		t.Skip("no nagios user: install nagios-nrpe-server (see .ci/apt-engines.txt)")
	}
	dir, err := os.MkdirTemp("", "hindsight-engines-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	lab := &Lab{Dir: dir, Plugins: filepath.Join(dir, "plugins"), Vars: map[string]string{}}
	lab.UID, _ = strconv.Atoi(u.Uid)
	lab.GID, _ = strconv.Atoi(u.Gid)
	must(t, os.Chmod(dir, 0o755))
	must(t, os.MkdirAll(filepath.Join(lab.Plugins, "hindsight"), 0o755))
	copied := map[string]bool{}
	for _, c := range cases {
		if !copied[c.Plugin] {
			must(t, copyFile(testutil.Binary(t, c.Plugin), filepath.Join(lab.Plugins, "hindsight", c.Plugin), 0o755))
			copied[c.Plugin] = true
		}
		for _, a := range c.Args {
			if rest, ok := strings.CutPrefix(a, "{testdata}/"); ok {
				top, _, _ := strings.Cut(rest, "/")
				if !copied["testdata/"+top] {
					must(t, copyTree(filepath.Join("..", "..", "testdata", top), filepath.Join(dir, "testdata", top)))
					copied["testdata/"+top] = true
				}
			}
		}
	}
	for _, c := range cases {
		if c.Setup != nil {
			c.Setup(t, lab)
		}
	}
	return lab
}

// Bin is the path of a plugin binary in the lab.
func (l *Lab) Bin(plugin string) string { return filepath.Join(l.Plugins, "hindsight", plugin) }

// Args expands a case's argument placeholders.
func (l *Lab) Args(c Case) []string {
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		a = strings.ReplaceAll(a, "{testdata}", filepath.Join(l.Dir, "testdata"))
		a = strings.ReplaceAll(a, "{lab}", l.Dir)
		for k, v := range l.Vars {
			a = strings.ReplaceAll(a, "{"+k+"}", v)
		}
		out[i] = a
	}
	return out
}

// Mkdir makes a directory in the lab owned by nagios, for an engine's
// state and logs.
func (l *Lab) Mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{l.Dir}, parts...)...)
	must(t, os.MkdirAll(p, 0o755))
	must(t, os.Chown(p, l.UID, l.GID))
	return p
}

// Direct is what the plugin prints when run as nagios outside any engine:
// the reference every engine's record is compared with.
type Direct struct {
	Code   int
	Stdout string
}

func (l *Lab) direct(t *testing.T, bin string, args ...string) Direct {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = "/", []string{pathEnv}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(l.UID), Gid: uint32(l.GID)}}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return Direct{0, stdout.String()}
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return Direct{exit.ExitCode(), stdout.String()}
	}
	t.Fatalf("run %s as nagios: %v", bin, err)
	return Direct{}
}

// References runs every case directly and checks its expected state.
func (l *Lab) references(t *testing.T) map[string]Direct {
	t.Helper()
	refs := map[string]Direct{}
	for _, c := range cases {
		d := l.direct(t, l.Bin(c.Plugin), l.Args(c)...)
		if d.Code != c.State {
			t.Errorf("%s run directly: exit %d, want %d:\n%s", c.ID(), d.Code, c.State, d.Stdout)
		}
		refs[c.ID()] = d
	}
	return refs
}

// Parsed is a plugin output split as Nagios 4 splits it
// (parse_check_output in base/checks.c): line 1 at its first "|" into
// output and perfdata, the rest is long output until a line with "|",
// after which everything is perfdata.
type Parsed struct {
	Output, Long, Perf string
}

func parseNagios(out string) Parsed {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var p Parsed
	first, perf, _ := strings.Cut(lines[0], "|")
	p.Output = strings.TrimSpace(first)
	perfs := []string{strings.TrimSpace(perf)}
	var long []string
	inPerf := false
	for _, line := range lines[1:] {
		if inPerf {
			perfs = append(perfs, line)
			continue
		}
		if text, rest, ok := strings.Cut(line, "|"); ok {
			long = append(long, text)
			perfs = append(perfs, rest)
			inPerf = true
			continue
		}
		long = append(long, line)
	}
	p.Long = strings.Join(long, "\n")
	p.Perf = strings.TrimSpace(strings.Join(perfs, " "))
	return p
}

var digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// compare reports the fields in which an engine's record differs from
// what the plugin printed.
func compare(t *testing.T, engine string, c Case, want Direct, gotState int, got Parsed) {
	t.Helper()
	w := parseNagios(want.Stdout)
	if c.Volatile {
		for _, p := range []*Parsed{&w, &got} {
			p.Output, p.Long, p.Perf = digits.ReplaceAllString(p.Output, "#"), digits.ReplaceAllString(p.Long, "#"), digits.ReplaceAllString(p.Perf, "#")
		}
	}
	if gotState != want.Code {
		t.Errorf("%s %s: state %d, plugin exited %d", engine, c.ID(), gotState, want.Code)
	}
	for _, f := range []struct{ name, got, want string }{
		{"output", got.Output, w.Output},
		{"long output", got.Long, w.Long},
		{"perfdata", got.Perf, w.Perf},
	} {
		if f.got != f.want {
			t.Errorf("%s %s: %s differs from what the plugin printed\n got: %q\nwant: %q", engine, c.ID(), f.name, f.got, f.want)
		}
	}
}

// Daemon is an engine started by a test: in its own session, under
// timeout(1) so that it dies even if the test process is killed, with its
// stdout and stderr in a log file.
type Daemon struct {
	name    string
	cmd     *exec.Cmd
	log     string
	done    chan struct{}
	stopped sync.Once // a test may stop it early, the cleanup then does nothing
}

func startDaemon(t *testing.T, lab *Lab, name string, argv ...string) *Daemon {
	t.Helper()
	return startDaemonFor(t, lab, name, 240*time.Second, argv...)
}

// startDaemonFor is startDaemon with a chosen lifetime, after which
// timeout(1) ends the daemon whatever the test does (the soak runs long).
func startDaemonFor(t *testing.T, lab *Lab, name string, lifetime time.Duration, argv ...string) *Daemon {
	t.Helper()
	logPath := filepath.Join(lab.Dir, name+".out")
	logf, err := os.Create(logPath)
	must(t, err)
	defer logf.Close()
	secs := strconv.Itoa(int(lifetime.Seconds()))
	cmd := exec.Command("timeout", append([]string{"-k", "5", secs}, argv...)...)
	cmd.Dir, cmd.Env = "/", []string{pathEnv}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &Daemon{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop ends the daemon and everything in its session: SIGTERM, then after
// 8 s SIGKILL, then a sweep of whatever is left (plugins that an engine
// abandoned, children that outlived their parent). Only the first call
// does anything.
func (d *Daemon) stop(t *testing.T) { d.stopped.Do(func() { d.stopNow(t) }) }

func (d *Daemon) stopNow(t *testing.T) {
	sid := d.cmd.Process.Pid
	tree := descendants(sid)
	syscall.Kill(-sid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(8 * time.Second):
		t.Logf("%s did not stop on SIGTERM within 8s: killing it", d.name)
	}
	for _, pid := range append(session(sid), tree...) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	syscall.Kill(-sid, syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s: process %d still there 5s after SIGKILL", d.name, sid)
	}
	if t.Failed() {
		if b, err := os.ReadFile(d.log); err == nil && len(b) > 0 {
			t.Logf("%s output:\n%s", d.name, tail(string(b), 3000))
		}
	}
}

// procStat returns the parent pid and session of a process.
func procStat(pid int) (ppid, sid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:])) // state ppid pgrp session ...
	if len(f) < 4 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	sid, _ = strconv.Atoi(f[3])
	return ppid, sid, true
}

func allPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func session(sid int) []int {
	var out []int
	for _, pid := range allPIDs() {
		if _, s, ok := procStat(pid); ok && s == sid && pid != sid {
			out = append(out, pid)
		}
	}
	return out
}

// descendants finds the daemon's process tree, including children that
// left its session (Icinga 2 runs each plugin under setsid).
func descendants(root int) []int {
	parent := map[int]int{}
	for _, pid := range allPIDs() {
		if pp, _, ok := procStat(pid); ok {
			parent[pid] = pp
		}
	}
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// waitFor polls cond until it is true or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shellQuote quotes one word for /bin/sh (NRPE's and Nagios' command lines).
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// copyTree copies regular files, directories and symlinks, world-readable;
// FIFOs and sockets in fixture trees are left out.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(path, target, 0o644)
		}
		return nil
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(content), 0o644))
}

var _ = fmt.Sprintf
