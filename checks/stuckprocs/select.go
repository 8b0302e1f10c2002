package stuckprocs

import (
	"errors"
	"fmt"
	"os/user"
	"path"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// commLen is TASK_COMM_LEN-1: the kernel cuts comm to 15 bytes.
const commLen = 15

// lookupUser resolves a user name or uid. A uid with no passwd entry is
// accepted (containers, NSS not visible to a static binary).
func lookupUser(s string) (int64, string, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		if u, err := user.LookupId(s); err == nil {
			return n, u.Username, nil
		}
		return n, "", nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return 0, "", errors.New("no such user")
	}
	n, err := strconv.ParseInt(u.Uid, 10, 64)
	if err != nil {
		return 0, "", errors.New("no such user")
	}
	return n, u.Username, nil
}

// excluded says whether p is never counted: this plugin, its parent
// shell, other runs of it, kernel threads and -X names.
func (r *run) excluded(p *proc.Process) bool {
	if p.PID == r.self.pid || p.PID == r.self.ppid {
		return true
	}
	if !r.c.KThreads && p.IsKernelThread() {
		return true
	}
	if p.Comm == r.self.comm && r.self.exeOK {
		if id, err := r.fs.ExeID(p.PID); err == nil && id == r.self.exe {
			return true // a sibling check, or our own probe child (the same binary re-executed)
		}
	}
	for name := range r.c.sel.exclude {
		if r.nameIs(p, name) {
			return true
		}
	}
	return false
}

// selected applies the selection, cheapest tests first: the stat line,
// then status, cgroup and cmdline only for what is still in the running.
func (r *run) selected(p *proc.Process) bool {
	s := &r.c.sel
	if s.ppid >= 0 && p.PPID != s.ppid {
		return false
	}
	if s.flags != "" && !r.hasAnyFlag(p, s.flags) {
		return false
	}
	if (s.rss > 0 && r.value(p, "RSS") < s.rss) || (s.vsz > 0 && r.value(p, "VSZ") < s.vsz) || (s.pcpu > 0 && r.value(p, "CPU") < s.pcpu) {
		return false
	}
	if s.command != "" && !r.nameIs(p, s.command) {
		return false
	}
	if s.uid >= 0 {
		uid, err := r.fs.UID(p.PID)
		if err != nil {
			r.unreadable(err)
			return false
		}
		if int64(uid) != s.uid {
			return false
		}
	}
	if s.cgroup != "" && !r.inCgroup(p.PID, s.cgroup) {
		return false
	}
	if s.argument != "" || s.ereg != nil {
		line, ok := r.cmdline(p)
		if !ok {
			return false
		}
		if s.argument != "" && !strings.Contains(line, s.argument) {
			return false
		}
		if s.ereg != nil && !s.ereg.MatchString(line) {
			return false
		}
	}
	return true
}

// nameIs matches a process name in full. comm holds only 15 bytes, so a
// longer name whose first 15 bytes match is confirmed by the executable's
// name or, for a script, by the first two arguments' base names.
func (r *run) nameIs(p *proc.Process, name string) bool {
	if p.Comm == name {
		return true
	}
	if len(p.Comm) != commLen || len(name) <= commLen || !strings.HasPrefix(name, p.Comm) {
		return false
	}
	if exe, err := r.fs.ExeName(p.PID); err == nil && exe == name {
		return true
	}
	args, ok := r.args(p)
	if !ok {
		return false
	}
	for i := 0; i < len(args) && i < 2; i++ {
		if path.Base(args[i]) == name {
			return true
		}
	}
	return false
}

// hasAnyFlag is -s: any one of the flags, as check_procs' help promises.
func (r *run) hasAnyFlag(p *proc.Process, flags string) bool {
	for _, f := range flags {
		switch f {
		case 'D':
			if len(p.D) > 0 {
				return true
			}
		case '<':
			if p.Nice < 0 {
				return true
			}
		case 'N':
			if p.Nice > 0 {
				return true
			}
		case 's':
			if p.Session == p.PID {
				return true
			}
		case 'l':
			if p.NumThreads > 1 {
				return true
			}
		case '+':
			if p.TPGID > 0 && p.PGRP == p.TPGID {
				return true
			}
		case 'L':
			if r.lockedPages(p.PID) {
				return true
			}
		default:
			if byte(f) == p.State {
				return true
			}
		}
	}
	return false
}

func (r *run) lockedPages(pid int) bool {
	n, err := r.fs.LockedKiB(pid)
	if err != nil {
		r.unreadable(err)
		return false
	}
	return n > 0
}

// inCgroup matches a path prefix at a component boundary, or, for a
// pattern without "/", any one component.
func (r *run) inCgroup(pid int, want string) bool {
	paths, err := r.fs.Cgroups(pid)
	if err != nil {
		r.unreadable(err)
		return false
	}
	for _, p := range paths {
		if strings.HasPrefix(want, "/") {
			w := strings.TrimSuffix(want, "/")
			if p == w || strings.HasPrefix(p, w+"/") || w == "" {
				return true
			}
			continue
		}
		for c := range strings.SplitSeq(p, "/") {
			if c == want {
				return true
			}
		}
	}
	return false
}

// args returns the arguments of p, read once. A process with a task in D
// is read through the isolated prober: the read takes its mmap lock,
// which the blocked task may hold.
func (r *run) args(p *proc.Process) ([]string, bool) {
	if a, ok := r.argsCache[p.PID]; ok {
		return a, a != nil
	}
	var raw []byte
	var err error
	if len(p.D) > 0 {
		raw, err = r.probeCmdline(p.PID)
	} else {
		raw, err = r.fs.Cmdline(p.PID)
	}
	r.storeArgs(p, raw, err) // kernel threads and zombies have no arguments: ps shows [comm]
	a := r.argsCache[p.PID]
	return a, a != nil
}

// cmdline is the command line as one string, arguments joined by spaces.
func (r *run) cmdline(p *proc.Process) (string, bool) {
	a, ok := r.args(p)
	if !ok {
		return "", false
	}
	return strings.Join(a, " "), true
}

// prefetchArgs reads the command lines of processes with a task in D
// through the prober all at once: each read costs a child process and,
// when it hangs, a budget, which must not add up across offenders.
func (r *run) prefetchArgs(ps []*proc.Process) {
	type result struct {
		p   *proc.Process
		raw []byte
		err error
	}
	var todo []*proc.Process
	for _, p := range ps {
		if _, ok := r.argsCache[p.PID]; !ok && len(todo) < maxProbes {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return
	}
	done := r.env.Begin(fmt.Sprintf("reading the command lines of %d processes in D (isolated)", len(todo)))
	defer done()
	budget := min(r.env.Budget(0.2), probeBudget)
	results := make(chan result, len(todo))
	for _, p := range todo {
		go func() {
			reply, err := r.env.Prober().Do(r.ctx, budget, isolate.Request{Op: isolate.Read, Path: r.fs.CmdlinePath(p.PID), Max: 4096})
			results <- result{p, reply.Data, err}
		}()
	}
	for range todo {
		res := <-results
		r.storeArgs(res.p, res.raw, res.err)
	}
}

// storeArgs caches what a cmdline read gave.
func (r *run) storeArgs(p *proc.Process, raw []byte, err error) {
	if err != nil {
		if errors.Is(err, isolate.ErrTimeout) {
			r.notef("reading %s did not answer (%v): its command line is not shown", r.fs.CmdlinePath(p.PID), err)
		} else {
			r.unreadable(err)
		}
		r.argsCache[p.PID] = nil
		return
	}
	a := proc.Args(raw)
	if a == nil {
		a = []string{"[" + p.Comm + "]"}
	}
	r.argsCache[p.PID] = a
}

func (r *run) probeCmdline(pid int) ([]byte, error) {
	if r.probeHung {
		return nil, isolate.ErrTimeout // one read hung: the others likely would, and each costs a budget
	}
	done := r.env.Begin("reading " + r.fs.CmdlinePath(pid) + " (isolated)")
	defer done()
	budget := min(r.env.Budget(0.2), probeBudget)
	reply, err := r.env.Prober().Do(r.ctx, budget, isolate.Request{Op: isolate.Read, Path: r.fs.CmdlinePath(pid), Max: 4096})
	if errors.Is(err, isolate.ErrTimeout) {
		r.probeHung = true
	}
	return reply.Data, err
}
