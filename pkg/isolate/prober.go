package isolate

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxReply bounds what the parent reads of one reply: a child can never
// make its parent run out of memory.
const maxReply = 32 << 20

// Prober runs requests in child processes. A child serves one target at
// a time and stays for the next request on the same target, so reading
// many files under one network mount costs one child's start-up. The
// zero value is not usable; use NewProber.
type Prober struct {
	exe     string
	argv0   string
	lockDir string

	mu   sync.Mutex
	idle map[string][]*session // by target
}

// NewProber returns a prober that re-executes the running binary through
// /proc/self/exe: during a package upgrade the file at the binary's path
// is already the new one, and the child must be the same program as its
// parent. lockDir is the per-user directory of target locks shared by all
// plugins ("" for none: then nothing stops a second child from joining a
// stuck one).
func NewProber(lockDir string) *Prober {
	exe := "/proc/self/exe"
	if _, err := os.Lstat(exe); err != nil {
		if p, err := os.Executable(); err == nil {
			exe = p
		}
	}
	return &Prober{exe: exe, argv0: filepath.Base(os.Args[0]), lockDir: lockDir}
}

// NewProberFor returns a prober that executes exe in probe mode (tests).
func NewProberFor(exe, lockDir string) *Prober {
	return &Prober{exe: exe, argv0: filepath.Base(exe), lockDir: lockDir}
}

// Close ends the idle children: their stdin closes and they exit. A child
// stuck in the kernel is not waited for.
func (p *Prober) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ss := range p.idle {
		for _, s := range ss {
			s.close()
		}
	}
	p.idle = nil
}

// Do runs req in a child and waits at most budget (and never past ctx's
// deadline). On timeout the child's process group is sent SIGKILL and the
// child abandoned: a task in uninterruptible sleep dies only when the
// filesystem answers, and nothing of ours waits for that. When a child of
// an earlier request, run or plugin is still stuck on req's target, no
// child is started and the error says since when. The error is a
// *TimeoutError, an *OpError (the operation failed with an errno) or a
// failure to run the probe at all.
func (p *Prober) Do(ctx context.Context, budget time.Duration, req Request) (Reply, error) {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < budget {
			budget = left
		}
	}
	if !filepath.IsAbs(req.Path) { // the child runs in "/", away from any mount
		if abs, err := filepath.Abs(req.Path); err == nil {
			req.Path = abs
		}
	}
	if req.Target == "" {
		req.Target = req.Path
	}
	if p.lockDir != "" {
		if rec, stuck := stuckHolder(p.lockDir, req.Target, time.Now()); stuck {
			return Reply{}, &TimeoutError{Req: req, Budget: budget, Pid: rec.Pid, Since: rec.Since}
		}
	}
	if budget <= 0 {
		return Reply{}, &TimeoutError{Req: req, Budget: 0}
	}
	s, err := p.session(req)
	if err != nil {
		return Reply{}, err
	}
	reply, err := s.do(ctx, budget, req)
	if s.broken {
		s.kill()
	} else {
		p.putIdle(req.Target, s)
	}
	return reply, err
}

func (p *Prober) session(req Request) (*session, error) {
	p.mu.Lock()
	if ss := p.idle[req.Target]; len(ss) > 0 {
		s := ss[len(ss)-1]
		p.idle[req.Target] = ss[:len(ss)-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	return startSession(p.exe, p.argv0, p.lockDir, req)
}

func (p *Prober) putIdle(target string, s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = make(map[string][]*session)
	}
	p.idle[target] = append(p.idle[target], s)
}

// session is one child serving requests over its stdin and stdout.
type session struct {
	cmd    *exec.Cmd
	in     *os.File
	out    *os.File
	rd     *bufio.Reader
	broken bool // timed out or failed: never reused
}

func startSession(exe, argv0, lockDir string, req Request) (*session, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%s: pipe for probe: %w", req, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("%s: pipe for probe: %w", req, err)
	}
	cmd := exec.Command(exe, childArg, lockDir)
	cmd.Args[0] = argv0
	cmd.Stdin, cmd.Stdout = inR, outW // stderr stays nil: /dev/null
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	inR.Close() // only the child holds these ends now
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("%s: start probe: %w", req, err)
	}
	go cmd.Wait()
	return &session{cmd: cmd, in: inW, out: outR, rd: bufio.NewReaderSize(outR, 64<<10)}, nil
}

func (s *session) do(ctx context.Context, budget time.Duration, req Request) (Reply, error) {
	deadline := time.Now().Add(budget)
	s.in.SetWriteDeadline(deadline)
	if _, err := io.WriteString(s.in, requestLine(req, deadline)); err != nil {
		s.broken = true
		return Reply{}, fmt.Errorf("%s: send to probe: %w", req, err)
	}
	s.out.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { s.out.SetReadDeadline(time.Now()) })
	defer stop()

	var text strings.Builder
	var readErr error
	finished := false
	for !finished {
		line, err := s.rd.ReadString('\n')
		if text.Len()+len(line) > maxReply {
			readErr = fmt.Errorf("reply over %d bytes", maxReply)
			break
		}
		text.WriteString(line)
		if line == "end=1\n" {
			finished = true
		}
		if err != nil {
			readErr = err
			break
		}
	}
	reply, done, err := decode(req, text.String())
	if err != nil { // an operation failed: that is the answer, hung or not afterwards
		if !finished {
			s.broken = true
		}
		return reply, err
	}
	if finished {
		return reply, nil
	}
	s.broken = true
	ops := append([]Op{req.Op}, req.Then...)
	hung := ops[min(len(done), len(ops)-1)]
	switch {
	case errors.Is(readErr, os.ErrDeadlineExceeded):
		return reply, &TimeoutError{Req: req.at(hung), Budget: budget, Pid: s.cmd.Process.Pid}
	case errors.Is(readErr, io.EOF):
		return reply, fmt.Errorf("%s: probe ended without a reply", req.at(hung))
	}
	return reply, fmt.Errorf("%s: read probe reply: %w", req.at(hung), readErr)
}

func (s *session) close() {
	s.in.Close()
	s.out.Close()
}

// kill ends a child that timed out or misbehaved with SIGKILL, through
// os.Process (a pidfd): once reaped, its pid may be another process's, and
// a kill by number could hit that. The child starts no processes of its
// own, so its group needs no signal. One stuck in uninterruptible sleep
// dies when the filesystem answers; its lock tells later runs the target
// is hung until then.
func (s *session) kill() {
	s.cmd.Process.Kill()
	s.close()
}

// decode reads the child's answers to one request. It returns the merged
// reply, the operations that completed, and the first failure.
func decode(req Request, text string) (r Reply, done []Op, err error) {
	var errno syscall.Errno
	for _, line := range strings.Split(text, "\n") {
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "errno":
			errno = syscall.Errno(n)
		case "done":
			done = append(done, Op(v))
			if errno != 0 && err == nil {
				err = &OpError{Req: req.at(Op(v)), Errno: errno}
			}
		case "elapsed_ns":
			r.Elapsed += time.Duration(n)
		case "f_type":
			r.Statfs.Type = n
		case "f_bsize":
			r.Statfs.Bsize = n
		case "f_blocks":
			r.Statfs.Blocks = n
		case "f_bfree":
			r.Statfs.Bfree = n
		case "f_bavail":
			r.Statfs.Bavail = n
		case "f_files":
			r.Statfs.Files = n
		case "f_ffree":
			r.Statfs.Ffree = n
		case "f_flags":
			r.Statfs.Flags = n
		case "st_mode":
			r.Stat.Mode = n
		case "st_dev":
			r.Stat.Dev = n
		case "st_ino":
			r.Stat.Ino = n
		case "st_size":
			r.Stat.Size = n
		case "st_mtime_ns":
			r.Stat.Mtime = time.Unix(0, int64(n))
		case "name":
			if s, err := strconv.Unquote(v); err == nil {
				r.Names = append(r.Names, s)
			}
		case "link":
			r.Link, _ = strconv.Unquote(v)
		case "entry", "walkerr":
			if e, ok := decodeEntry(k, v); ok {
				r.Entries = append(r.Entries, e)
			}
		case "truncated":
			r.Truncated = true
		case "data":
			data, derr := base64.StdEncoding.DecodeString(v)
			if derr != nil && err == nil {
				err = errors.New(req.String() + ": probe sent a bad reply")
			}
			r.Data = data
		}
	}
	return r, done, err
}

func decodeEntry(k, v string) (Entry, bool) {
	f := strings.SplitN(v, "\t", 3)
	if len(f) != 3 {
		return Entry{}, false
	}
	a, err1 := strconv.ParseUint(f[0], 10, 32)
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	path, err3 := strconv.Unquote(f[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return Entry{}, false
	}
	if k == "walkerr" {
		return Entry{Path: path, Errno: syscall.Errno(a)}, true
	}
	return Entry{Path: path, Mode: uint32(a), Size: size}, true
}
