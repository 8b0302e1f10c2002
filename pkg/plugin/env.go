package plugin

import (
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Env is what the runtime hands a check: verbosity, the deadline, a clock,
// a progress reporter for the watchdog and the isolated prober.
type Env struct {
	Verbose  int
	Timeout  time.Duration
	Deadline time.Time
	Now      func() time.Time

	progress   *progress
	proberOnce sync.Once
	prober     *isolate.Prober
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
// on a dead mount, reading /proc/PID/cmdline of a task in D).
func (e *Env) Prober() *isolate.Prober {
	e.proberOnce.Do(func() { e.prober = isolate.NewProber() })
	return e.prober
}
