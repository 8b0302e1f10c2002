package plugin

import (
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// Env is what the runtime hands a check: verbosity, the deadline, a clock,
// a progress reporter for the watchdog, the isolated prober, the one
// source of file reads, and the state the last run left.
type Env struct {
	Verbose  int
	Timeout  time.Duration
	Deadline time.Time
	Now      func() time.Time

	progress   *progress
	proberOnce sync.Once
	prober     *isolate.Prober
	lockErr    error
	filesOnce  sync.Once
	files      *files.Source
	state      stateSlot
	sanitizer  *Sanitizer
}

// NewEnv returns an Env for driving a check without the runtime (tests).
func NewEnv(timeout time.Duration) *Env {
	return &Env{Timeout: timeout, Deadline: time.Now().Add(timeout), Now: time.Now, progress: &progress{}}
}

// Begin records that the check is now doing what ("reading
// /proc/1234/stat"); call the returned func when done. The watchdog names
// the oldest unfinished activity when the deadline passes.
func (e *Env) Begin(what string) (done func()) {
	if e.progress == nil {
		e.progress = &progress{}
	}
	return e.progress.begin(what)
}

// Remaining is the time left before the deadline.
func (e *Env) Remaining() time.Duration {
	return time.Until(e.Deadline)
}

// Budget is the time one probe may take: fraction of -t, but never past
// the deadline, so a hung target is a finding before the watchdog fires.
func (e *Env) Budget(fraction float64) time.Duration {
	b := time.Duration(float64(e.Timeout) * fraction)
	if r := e.Remaining() - e.Timeout/20; r < b {
		b = r
	}
	if b < 0 {
		b = 0
	}
	return b
}

// Prober returns the isolated prober for syscalls that can hang (statfs
// on a dead mount, reading /proc/PID/cmdline of a task in D). Its
// children take per-target locks in the user's private directory, shared
// by every plugin and run, so a hung target gets one stuck child at most.
func (e *Env) Prober() *isolate.Prober {
	e.proberOnce.Do(func() {
		dir, err := state.PrivateDir("probes")
		e.lockErr = err
		e.prober = isolate.NewProber(dir)
	})
	return e.prober
}

// Files returns the source every file read and walk of a check goes
// through: bounded, regular files only, isolated on mounts that can hang.
// One isolated operation may take half of -t.
func (e *Env) Files() *files.Source {
	e.filesOnce.Do(func() {
		e.files = files.New(e.Prober(), func() time.Duration { return e.Budget(0.5) }, "/proc/self/mountinfo")
	})
	return e.files
}

// RegisterSecret makes the runtime mask s wherever it would be printed:
// call it for every password, token or key a check reads.
func (e *Env) RegisterSecret(s string) {
	if e.sanitizer == nil {
		e.sanitizer = &Sanitizer{}
	}
	e.sanitizer.RegisterSecret(s)
}

// close ends what the run started: idle probe children exit.
func (e *Env) close() {
	if e.prober != nil {
		e.prober.Close()
	}
}
