package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jessevdk/go-flags"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// version is set at build time by the Makefile (packaging/version: the
// git tag, or the next version with -dev+g<hash> between tags). A plain
// `go build` or `go install` leaves it empty: see Version.
var version = ""

// Version returns the version set at build time, else the one the Go
// toolchain recorded: the module version for `go install ...@v0.2.0`, a
// pseudo-version or the VCS revision for a build from a checkout.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return buildInfoVersion(info)
}

// buildInfoVersion prefers the module version; "(devel)" (a build from a
// checkout without VCS stamping) falls back to the revision.
func buildInfoVersion(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "+dirty"
	}
	return "devel+" + rev
}

// Check is one plugin's logic. The value returned by Plugin.New is the
// check's option struct (go-flags tags); the runtime fills it in, then
// calls Run. Run gathers and judges; it never prints and never exits.
type Check interface {
	Run(ctx context.Context, env *Env) (Result, error)
}

// Validator is implemented by checks whose options need checking beyond
// what go-flags does; an error is an UNKNOWN naming the bad option.
type Validator interface {
	Validate() error
}

// ArgsTaker is implemented by checks that accept positional arguments
// (check_cert_expiry's host:port). Without it, an argument is an error.
type ArgsTaker interface {
	TakeArgs(args []string) error
}

// Plugin describes one binary for the runtime.
type Plugin struct {
	Name    string // binary name, "check_load"
	Service string // first word of the status line, "LOAD"
	Summary string // one line: what it checks
	Usage   string // after the name in the usage line
	Group   string // title of the check's own options in --help
	Help    string // printed after the options: notes and examples
	New     func() Check
}

// NewParser builds the go-flags parser for p with a fresh check and
// common options. Exported so that man pages and the Nagios, NRPE and
// Icinga 2 definitions are generated from the same options as the binary.
func NewParser(p Plugin) (*flags.Parser, Check, *Common) {
	check := p.New()
	common := &Common{}
	parser := flags.NewNamedParser(p.Name, flags.HelpFlag|flags.PassDoubleDash)
	parser.Usage = p.Usage
	parser.ShortDescription = p.Summary
	parser.LongDescription = p.Summary
	group := p.Group
	if group == "" {
		group = "Check options"
	}
	if _, err := parser.AddGroup(group, "", check); err != nil {
		panic(fmt.Sprintf("%s: bad option definitions: %v", p.Name, err)) // a programming error, caught by every test
	}
	if _, err := parser.AddGroup("Plugin options", "", common); err != nil {
		panic(fmt.Sprintf("%s: bad option definitions: %v", p.Name, err))
	}
	return parser, check, common
}

// Main runs the plugin as a process: it serves the isolated prober's
// probe mode when re-executed for it, else runs p with os.Args. It returns
// the exit code; exit is called only by the watchdog, when the deadline
// passes while the check is still running.
func Main(p Plugin, exit func(int)) int {
	if isolate.IsChild(os.Args) {
		return isolate.ChildMain(os.Args, os.Stdin, os.Stdout)
	}
	// Libraries log to the standard logger (net/http: "Unsolicited
	// response received on idle HTTP channel"); a plugin prints nothing
	// on stderr, whatever a server sends.
	log.SetOutput(io.Discard)
	return Runner{Args: os.Args[1:], Stdout: os.Stdout, Exit: exit}.Run(p)
}

// minOutput leaves room for a status line that says something.
const minOutput = 128

// Runner runs a plugin with given arguments and output, for Main and for
// tests that drive the whole runtime in-process.
type Runner struct {
	Args   []string
	Stdout io.Writer
	Exit   func(int) // called by the watchdog only; os.Exit when nil
	// Now is the wall clock the check sees; nil is the real one, or the
	// time in $HINDSIGHT_NOW (Unix seconds), which tests and replays of
	// fixture trees set so that ages in a fixture are what they were.
	Now func() time.Time
}

// clock returns the wall clock for the run (see Runner.Now).
func (r Runner) clock() func() time.Time {
	if r.Now != nil {
		return r.Now
	}
	if v := os.Getenv("HINDSIGHT_NOW"); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			return func() time.Time { return time.Unix(secs, 0) }
		}
	}
	return time.Now
}

// Run parses the options, runs the check under the deadline and writes
// the output. It returns the exit code, 0 to 3.
func (r Runner) Run(p Plugin) int {
	if mode, ok := generateMode(r.Args); ok {
		return r.generate(p, mode) // man page and Nagios/NRPE/Icinga 2 definitions (generate.go)
	}
	start := time.Now()
	san := &Sanitizer{}
	args, locators := splitExtraOpts(r.Args)
	where := func(msg string) string { return msg }
	if len(locators) > 0 {
		extra, origins, err := r.readExtraOpts(p, start, args, locators, san)
		if err != nil {
			// --help and -V answer whatever the ini file holds: they are
			// how one finds out what to write in it.
			if code, done := r.helpOrVersion(p, args); done {
				return code
			}
			io.WriteString(r.Stdout, output{format: requestedFormat(r.Args), plugin: p, z: san}.line(UNKNOWN, err.Error()))
			return int(UNKNOWN)
		}
		cmdline := args
		where = func(msg string) string { return blame(p, extra, origins, cmdline, msg) }
		args = append(extra, args...) // the command line after: it wins
	}
	check, common, code, done := r.parse(p, args, san, where)
	if done {
		return code
	}
	return r.runChecked(p, check, common, start, san)
}

// helpOrVersion answers --help or -V on the command line alone; done is
// false when it asks for neither.
func (r Runner) helpOrVersion(p Plugin, args []string) (code int, done bool) {
	parser, _, common := NewParser(p)
	_, err := parser.ParseArgs(args)
	var ferr *flags.Error
	switch {
	case errors.As(err, &ferr) && ferr.Type == flags.ErrHelp:
		r.writeHelp(p, parser)
		return int(UNKNOWN), true
	case common.Version:
		io.WriteString(r.Stdout, p.Name+" (hindsight) "+Version()+"\n")
		return int(UNKNOWN), true
	}
	return 0, false
}

// parse fills the check's and the common options from args; done means
// the run ends here (help, version, a bad command line) with code. where
// says which ini line a complaint of the check's is about.
func (r Runner) parse(p Plugin, args []string, san *Sanitizer, where func(string) string) (check Check, common *Common, code int, done bool) {
	parser, check, common := NewParser(p)
	rest, err := parser.ParseArgs(args)
	registerSecrets(parser, san)
	if err != nil {
		var ferr *flags.Error
		if errors.As(err, &ferr) && ferr.Type == flags.ErrHelp {
			r.writeHelp(p, parser)
			return nil, nil, int(UNKNOWN), true
		}
		return nil, nil, r.usageError(p, san, requestedFormat(args), flagMessage(err)), true
	}
	fail := func(msg string) (Check, *Common, int, bool) {
		return nil, nil, r.usageError(p, san, common.OutputFormat, msg), true
	}
	if common.MaxOutput < minOutput {
		return fail(fmt.Sprintf("invalid --max-output %d: must be at least %d bytes", common.MaxOutput, minOutput))
	}
	if err := (output{common.OutputFormat, p, san, common.MaxOutput, common.OutputLabel}).checkLabels(); err != nil {
		return fail(err.Error())
	}
	if common.Version {
		io.WriteString(r.Stdout, p.Name+" (hindsight) "+Version()+"\n")
		return nil, nil, int(UNKNOWN), true
	}
	if len(rest) > 0 {
		taker, ok := check.(ArgsTaker)
		if !ok {
			return fail(fmt.Sprintf("unexpected argument %q", rest[0]))
		}
		if err := taker.TakeArgs(rest); err != nil {
			return fail(where(err.Error()))
		}
	}
	if v, ok := check.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fail(where(err.Error()))
		}
	}
	return check, common, 0, false
}

// readExtraOpts reads the options of --extra-opts within the deadline the
// command line sets (an ini file on a dead mount must not outlive it),
// through the one file source: bounded, regular files only, isolated on
// mounts that can hang.
func (r Runner) readExtraOpts(p Plugin, start time.Time, args, locators []string, san *Sanitizer) (extra, origins []string, err error) {
	pre, _, common := NewParser(p)
	pre.ParseArgs(args) // only -t matters here; errors are reported by the real parse
	timeout := common.Timeout.D
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	env := NewEnv(timeout)
	env.Deadline = start.Add(timeout)
	defer env.close()
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline.Add(-min(timeout/10, 250*time.Millisecond)))
	defer cancel()
	return extraOpts(ctx, env.Files(), p, locators, san)
}

func (r Runner) runChecked(p Plugin, check Check, common *Common, start time.Time, san *Sanitizer) int {
	timeout := common.Timeout.D
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	timeoutState := UNKNOWN
	if common.TimeoutResult.Set {
		timeoutState = common.TimeoutResult.State
	}
	if common.Timeout.StateSet {
		timeoutState = common.Timeout.State
	}
	env := &Env{
		Verbose:   len(common.Verbose),
		Timeout:   timeout,
		Deadline:  start.Add(timeout),
		Now:       r.clock(),
		progress:  &progress{},
		sanitizer: san,
	}
	// Probes get the deadline a little early so they can stop cleanly and
	// the check can say what did not answer; the watchdog is the last resort.
	margin := min(timeout/10, 250*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline.Add(-margin))
	defer cancel()

	out := output{format: common.OutputFormat, plugin: p, z: san, max: common.MaxOutput, labels: common.OutputLabel}
	var printed gate
	watchdog := time.AfterFunc(time.Until(env.Deadline), func() {
		text := "timed out after " + human.Duration(timeout)
		if what := env.progress.describe(); what != "" {
			text += " while " + what
		}
		if printed.claim() {
			io.WriteString(r.Stdout, out.line(timeoutState, text))
			exit := r.Exit
			if exit == nil {
				exit = os.Exit
			}
			exit(int(timeoutState))
		}
	})
	defer watchdog.Stop()
	defer env.close()

	stateful, hasState := check.(Stateful)
	if hasState {
		env.loadState(ctx, stateful.StateSpec())
	}
	res, err := runSafely(ctx, check, env)
	if err == nil && hasState {
		env.saveState(ctx, &res)
	}
	if err == nil && env.lockErr != nil {
		// Without the lock directory a hung mount may gain a stuck child
		// at every run: say so where the sysadmin will look.
		res.Note("hung-target registry off, a hung mount may gain a stuck probe child at every run: " + env.lockErr.Error())
	}
	if !printed.claim() {
		select {} // the watchdog is printing and exiting
	}
	if err != nil {
		io.WriteString(r.Stdout, out.line(UNKNOWN, err.Error()))
		return int(UNKNOWN)
	}
	io.WriteString(r.Stdout, out.result(res))
	return int(res.State())
}

// runSafely turns a panic in the check into an error: a monitor must
// answer with a status line, never a stack trace.
func runSafely(ctx context.Context, check Check, env *Env) (res Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
		}
	}()
	return check.Run(ctx, env)
}

// usageError reports a bad command line. In the nagios format a usage
// line follows; in the others the output stays one parseable document.
func (r Runner) usageError(p Plugin, san *Sanitizer, format, msg string) int {
	out := output{format: format, plugin: p, z: san}
	io.WriteString(r.Stdout, out.line(UNKNOWN, msg))
	if format == formatNagios || format == "" {
		// A second line is long output: a "|" there would start perfdata
		// for Nagios and Icinga, so the usage's alternatives read "or".
		usage := strings.Join(strings.Fields(strings.ReplaceAll(p.Usage, "|", " or ")), " ")
		io.WriteString(r.Stdout, "Usage: "+p.Name+" "+usage+" (see "+p.Name+" --help)\n")
	}
	return int(UNKNOWN)
}

func (r Runner) writeHelp(p Plugin, parser *flags.Parser) {
	io.WriteString(r.Stdout, renderHelp(p, parser))
}

// flagMessage makes go-flags' messages one line that names the option:
// "invalid argument for flag `-w, --warning' (expected ...): ..." keeps
// its substance, the backquotes go.
func flagMessage(err error) string {
	// "(expected threshold.Triplet)" names a Go type, not anything a user
	// typed or can look up: the text after it says what is wrong.
	msg := err.Error()
	if i := strings.Index(msg, " (expected "); i >= 0 {
		if j := strings.IndexByte(msg[i:], ')'); j >= 0 {
			msg = msg[:i] + msg[i+j+1:]
		}
	}
	msg = strings.ReplaceAll(msg, "`", "")
	msg = strings.ReplaceAll(msg, "'", "")
	return strings.Join(strings.Fields(numberWords(msg)), " ")
}

// numberWords rewords the strconv error go-flags passes on for a number
// option, `strconv.ParseInt: parsing "x": invalid syntax`, as what the
// value should have been: `"x" is not a whole number`.
func numberWords(msg string) string {
	const parse = "strconv.Parse"
	i := strings.Index(msg, parse)
	if i < 0 {
		return msg
	}
	kind, rest, ok := strings.Cut(msg[i+len(parse):], ": parsing ")
	j := strings.LastIndex(rest, ": ")
	if !ok || j < 0 {
		return msg
	}
	value, why := rest[:j], rest[j+2:]
	what := map[string]string{"Int": "a whole number", "Uint": "a whole number of 0 or more", "Float": "a number", "Bool": "true or false"}[kind]
	switch {
	case why == "value out of range":
		return msg[:i] + value + " is out of range"
	case what == "":
		return msg
	}
	return msg[:i] + value + " is not " + what
}

// gate lets exactly one of the main path and the watchdog print.
type gate struct {
	mu      sync.Mutex
	claimed bool
}

func (g *gate) claim() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.claimed {
		return false
	}
	g.claimed = true
	return true
}
