// Package testutil builds and runs plugin binaries for tests that check
// the real process: exit code, output, and how long a caller waits.
package testutil

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Binary builds ./cmd/NAME of this module once per test process and
// returns the path of the binary.
func Binary(t testing.TB, name string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "hindsight-bin-")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755) // the nagios user must reach it in engine tests
		dir = d
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/hindsight-plugins/hindsight/cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, msg)
	}
	built[name] = out
	return out
}

// Result is one finished run of a plugin.
type Result struct {
	Code    int
	Stdout  string
	Stderr  string
	Elapsed time.Duration // until stdout was closed by every holder
	MaxRSS  int64         // peak resident memory of the process, bytes (RunMeasured only)
}

// Run runs bin with args, with a generous safety limit so a test of
// "never hangs" fails rather than hangs.
func Run(t testing.TB, bin string, args ...string) Result {
	t.Helper()
	return RunEnv(t, nil, bin, args...)
}

// RunEnv is Run with extra environment variables.
func RunEnv(t testing.TB, env []string, bin string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		t.Fatalf("run %s: %v", bin, err)
	}
	return res
}

// PathFault is a kind of file every path option must survive (the fault
// matrix): Make puts it at path.
type PathFault struct {
	Name string
	Make func(t testing.TB, path string)
}

// PathFaults are the local faults: what a plugin must answer with one
// UNKNOWN line naming the path, at once, never a hang or a crash.
var PathFaults = []PathFault{
	{"FIFO without writer", func(t testing.TB, p string) { must(t, syscall.Mkfifo(p, 0o600)) }},
	{"/dev/zero", func(t testing.TB, p string) { must(t, os.Symlink("/dev/zero", p)) }},
	{"/dev/urandom", func(t testing.TB, p string) { must(t, os.Symlink("/dev/urandom", p)) }},
	{"/dev/kmsg", func(t testing.TB, p string) { must(t, os.Symlink("/dev/kmsg", p)) }},
	{"1 GB sparse file", func(t testing.TB, p string) {
		f, err := os.Create(p)
		must(t, err)
		must(t, f.Truncate(1<<30)) // sparse: costs no disk
		f.Close()
	}},
	{"directory", func(t testing.TB, p string) { must(t, os.Mkdir(p, 0o755)) }},
	{"symlink loop", func(t testing.TB, p string) { must(t, os.Symlink(filepath.Base(p), p)) }},
	{"dangling symlink", func(t testing.TB, p string) { must(t, os.Symlink(p+".gone", p)) }},
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// RunMeasured is Run that also measures the peak resident memory of bin,
// through GNU time. Go starts children with vfork semantics (CLONE_VM),
// and Linux then counts the parent's high-water mark in the child's
// ru_maxrss: a test process under -race would make every child look 120
// MiB big. GNU time forks from its own small image, so what it reports
// is bin's. Without /usr/bin/time (Debian's time package) the test skips.
func RunMeasured(t testing.TB, bin string, args ...string) Result {
	t.Helper()
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Skip("peak memory needs /usr/bin/time (Debian package time)")
	}
	out := filepath.Join(t.TempDir(), "maxrss")
	res := Run(t, gnuTime, append([]string{"-f", "%M", "-o", out, bin}, args...)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("read GNU time's output: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		t.Fatalf("GNU time's output %q: %v", b, err)
	}
	res.MaxRSS = kib << 10
	return res
}
