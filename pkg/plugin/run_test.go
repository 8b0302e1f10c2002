package plugin

import (
	"context"
	"errors"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

type fakeCheck struct {
	Warning threshold.Range `short:"w" long:"warning" description:"warn range" unquote:"false"`
	Count   int             `short:"n" long:"count" base:"10" default:"1" description:"count" unquote:"false"`
	Block   bool            `long:"block" description:"block until the deadline"`
	Panic   bool            `long:"panic" description:"panic"`
	Fail    bool            `long:"fail" description:"return an error"`
	verbose int
	timeout time.Duration
}

func (c *fakeCheck) Run(ctx context.Context, env *Env) (Result, error) {
	c.verbose, c.timeout = env.Verbose, env.Timeout
	var r Result
	switch {
	case c.Block:
		done := env.Begin("reading /proc/1234/stat")
		defer done()
		select {}
	case c.Panic:
		panic("boom")
	case c.Fail:
		return r, errors.New("read /proc/loadavg: permission denied")
	}
	st := OK
	if c.Warning.Alerts(float64(c.Count)) {
		st = WARNING
	}
	r.Add(st, "count is "+itoa(c.Count))
	return r, nil
}

var fake = Plugin{Name: "check_fake", Service: "FAKE", Summary: "a test plugin", Usage: "[OPTIONS]",
	Help: "Examples:\n  check_fake -w 5\n", New: func() Check { return &fakeCheck{} }}

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(fake)
	return code, out.String()
}

func TestRunStates(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-n", "3"}, 0, "FAKE OK - count is 3\n"},
		{[]string{"-w", "2", "-n", "3"}, 1, "FAKE WARNING - count is 3\n"},
		{[]string{"-w", "-10:-5"}, 1, "FAKE WARNING - count is 1\n"},
		{[]string{"--warning", "-10:9", "-n", "010"}, 1, "FAKE WARNING - count is 10\n"},
		{[]string{"--fail"}, 3, "FAKE UNKNOWN - read /proc/loadavg: permission denied\n"},
		{[]string{"--panic"}, 3, "FAKE UNKNOWN - internal error: boom\n"},
	}
	for _, tt := range tests {
		code, out := run(t, tt.args...)
		if code != tt.code || out != tt.out {
			t.Errorf("%v: exit %d, %q; want %d, %q", tt.args, code, out, tt.code, tt.out)
		}
	}
}

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-w", ""}, `invalid range ""`},
		{[]string{"-w", "2:1"}, `invalid range "2:1"`},
		{[]string{"-w"}, "expected argument for flag -w, --warning"},
		{[]string{"--bogus"}, "unknown flag bogus"},
		{[]string{"-n", "x"}, "invalid argument for flag -n, --count"},
		{[]string{"-t", "0"}, `invalid timeout "0"`},
		{[]string{"-t", ""}, `invalid argument for flag -t, --timeout: invalid timeout "": empty`},
		{[]string{"-t", ":"}, `invalid timeout ":"`},
		{[]string{"-t", " 5"}, `invalid timeout " 5": SECONDS " 5" is not a number`},
		{[]string{"-t", "5 "}, `invalid timeout "5 "`},
		{[]string{"-t", "inf"}, `invalid timeout "inf"`},
		{[]string{"-t", "nan"}, `invalid timeout "nan"`},
		{[]string{"-t", "0x1p4"}, `invalid timeout "0x1p4"`},
		{[]string{"-t", "1_0"}, `invalid timeout "1_0"`},
		{[]string{"-t", "86401"}, `invalid timeout "86401": SECONDS must be above 0 and at most 86400`},
		{[]string{"-t", "-5"}, "expected argument for flag -t, --timeout, but got option -5"},
		{[]string{"-w", "5%"}, `invalid argument for flag -w, --warning: invalid range "5%": "5%" is not a number`},
		{[]string{"-w", " 5"}, `invalid range " 5"`},
		{[]string{"-w", "1_000"}, `invalid range "1_000"`},
		{[]string{"-w", "-v"}, `invalid argument for flag -w, --warning: invalid range "-v"`},
		{[]string{"-t", "10:SOMETIMES"}, `invalid state "SOMETIMES"`},
		{[]string{"--timeout-result", "maybe"}, `invalid state "maybe"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--max-output", "5"}, "invalid --max-output 5: must be at least 128 bytes"},
	}
	for _, tt := range tests {
		code, out := run(t, tt.args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 3 || !strings.HasPrefix(lines[0], "FAKE UNKNOWN - ") || !strings.Contains(lines[0], tt.want) {
			t.Errorf("%v: exit %d, first line %q; want UNKNOWN naming %q", tt.args, code, lines[0], tt.want)
		}
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "Usage: check_fake") {
			t.Errorf("%v: want a usage line after the status line, got %q", tt.args, out)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out := run(t, "--help")
	if code != 3 || !strings.HasPrefix(out, "check_fake (hindsight) "+Version()+" - a test plugin") ||
		!strings.Contains(out, "-t, --timeout=SECONDS[:STATE]") || !strings.Contains(out, "Examples:\n  check_fake -w 5") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	code, out = run(t, "-V")
	if code != 3 || out != "check_fake (hindsight) "+Version()+"\n" {
		t.Errorf("-V: exit %d, %q", code, out)
	}
}

// TestBuildInfoVersion: what `go install` and `go build` record stands in
// for a version the Makefile did not set.
func TestBuildInfoVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	dirty := append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, tt := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v0.2.0", rev, "v0.2.0"},
		{"v0.1.1-0.20261130091500-0123456789ab", nil, "v0.1.1-0.20261130091500-0123456789ab"},
		{"(devel)", rev, "devel+0123456789ab"},
		{"", dirty, "devel+0123456789ab+dirty"},
		{"(devel)", nil, "unknown"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Version: tt.main}, Settings: tt.settings}
		if got := buildInfoVersion(info); got != tt.want {
			t.Errorf("%q %v: %q, want %q", tt.main, tt.settings, got, tt.want)
		}
	}
	if Version() == "" {
		t.Error("Version() is empty")
	}
}

func TestTimeoutOptions(t *testing.T) {
	tests := []struct {
		args  []string
		d     time.Duration
		state State
	}{
		{nil, 10 * time.Second, UNKNOWN},
		{[]string{"-t", "3"}, 3 * time.Second, UNKNOWN},
		{[]string{"-t", "2.5:CRITICAL"}, 2500 * time.Millisecond, CRITICAL},
		{[]string{"-t", ":warning"}, 10 * time.Second, WARNING},
		{[]string{"-t", "1e1"}, 10 * time.Second, UNKNOWN},
		{[]string{"-t", ".5"}, 500 * time.Millisecond, UNKNOWN},
		{[]string{"-t", "86400:2"}, 24 * time.Hour, CRITICAL},
		{[]string{"--timeout-result", "critical", "-t", "4"}, 4 * time.Second, CRITICAL},
		{[]string{"--timeout-result", "2", "-t", "4:ok"}, 4 * time.Second, OK},
	}
	for _, tt := range tests {
		parser, _, common := NewParser(fake)
		if _, err := parser.ParseArgs(tt.args); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		st := UNKNOWN
		if common.TimeoutResult.Set {
			st = common.TimeoutResult.State
		}
		if common.Timeout.StateSet {
			st = common.Timeout.State
		}
		if common.Timeout.D != tt.d || st != tt.state {
			t.Errorf("%v: %v %v, want %v %v", tt.args, common.Timeout.D, st, tt.d, tt.state)
		}
	}
}

func TestVerboseCount(t *testing.T) {
	parser, check, _ := NewParser(fake)
	_ = parser
	var out strings.Builder
	code := Runner{Args: []string{"-vvv"}, Stdout: &out}.Run(Plugin{Name: "check_fake", Service: "FAKE", New: func() Check { return check }})
	if code != 0 || check.(*fakeCheck).verbose != 3 {
		t.Errorf("-vvv: exit %d, verbose %d", code, check.(*fakeCheck).verbose)
	}
}

// The watchdog, in-process: the check blocks, the watchdog prints one
// line naming what was in progress and calls Exit with the timeout state.
func TestWatchdog(t *testing.T) {
	var out strings.Builder
	exited := make(chan int, 1)
	start := time.Now()
	go Runner{Args: []string{"--block", "-t", "0.3:CRITICAL"}, Stdout: &out, Exit: func(c int) { exited <- c }}.Run(fake)
	select {
	case code := <-exited:
		if el := time.Since(start); el < 300*time.Millisecond || el > 1200*time.Millisecond { // room for a loaded CI machine
			t.Errorf("watchdog fired after %v, want about 300ms", el)
		}
		if code != 2 || out.String() != "FAKE CRITICAL - timed out after 300ms while reading /proc/1234/stat\n" {
			t.Errorf("watchdog: exit %d, %q", code, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog did not fire")
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

func TestNumberWords(t *testing.T) {
	for in, want := range map[string]string{
		`invalid argument for flag --min-certs: strconv.ParseInt: parsing "x": invalid syntax`:               `invalid argument for flag --min-certs: "x" is not a whole number`,
		`invalid argument for flag -n: strconv.ParseInt: parsing "99999999999999999999": value out of range`: `invalid argument for flag -n: "99999999999999999999" is out of range`,
		`invalid argument for flag --factor: strconv.ParseFloat: parsing "1,5": invalid syntax`:              `invalid argument for flag --factor: "1,5" is not a number`,
		`invalid argument for flag -x: strconv.ParseUint: parsing "-1": invalid syntax`:                      `invalid argument for flag -x: "-1" is not a whole number of 0 or more`,
		`unknown flag --nope`: `unknown flag --nope`,
	} {
		if got := numberWords(in); got != want {
			t.Errorf("numberWords(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
