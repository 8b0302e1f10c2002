package isolate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Prober runs requests in child processes. The zero value is not usable;
// use NewProber.
type Prober struct {
	once sync.Once
	exe  string
	err  error
}

// NewProber returns a prober that re-executes the running binary.
func NewProber() *Prober { return &Prober{} }

// NewProberFor returns a prober that executes exe in probe mode (tests).
func NewProberFor(exe string) *Prober {
	p := &Prober{exe: exe}
	p.once.Do(func() {})
	return p
}

func (p *Prober) executable() (string, error) {
	p.once.Do(func() {
		p.exe, p.err = os.Executable()
		if p.err != nil {
			p.err = fmt.Errorf("find own executable for the isolated prober: %w", p.err)
		}
	})
	return p.exe, p.err
}

// Do runs req in a child and waits at most budget (and never past ctx's
// deadline). On timeout the child's process group is sent SIGKILL and the
// child abandoned: a task in uninterruptible sleep dies only when the
// filesystem answers, and nothing of ours waits for that. The error is a
// *TimeoutError, an *OpError (the operation failed with an errno) or a
// failure to run the probe at all.
func (p *Prober) Do(ctx context.Context, budget time.Duration, req Request) (Reply, error) {
	exe, err := p.executable()
	if err != nil {
		return Reply{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < budget {
			budget = left
		}
	}
	if budget <= 0 {
		return Reply{}, &TimeoutError{Req: req, Budget: 0}
	}
	path := req.Path
	if !filepath.IsAbs(path) { // the child runs in "/", away from any mount
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return Reply{}, fmt.Errorf("%s: pipe for probe: %w", req, err)
	}
	defer r.Close()
	args := []string{childArg, string(req.Op), path, strconv.Itoa(req.Max)}
	for _, op := range req.Then {
		args = append(args, string(op))
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout = w // stdin and stderr stay nil: /dev/null
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return Reply{}, fmt.Errorf("%s: start probe: %w", req, err)
	}
	w.Close() // only the child holds the write end now
	go cmd.Wait()

	deadline := time.Now().Add(budget)
	r.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { r.SetReadDeadline(time.Now()) })
	defer stop()

	out, readErr := io.ReadAll(io.LimitReader(r, 16<<20))
	reply, done, finished, err := decode(req, string(out))
	if err != nil { // an operation failed: that is the answer, hung or not afterwards
		if !finished {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		return reply, err
	}
	if readErr != nil || !finished {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		ops := append([]Op{req.Op}, req.Then...)
		hung := ops[min(len(done), len(ops)-1)]
		if readErr == nil || errors.Is(readErr, os.ErrDeadlineExceeded) {
			if readErr == nil { // EOF without an answer: the child died
				return reply, fmt.Errorf("%s: probe ended without a reply", req.at(hung))
			}
			return reply, &TimeoutError{Req: req.at(hung), Budget: budget, Pid: cmd.Process.Pid}
		}
		return reply, fmt.Errorf("%s: read probe reply: %w", req.at(hung), readErr)
	}
	return reply, nil
}
