package stuckprocs

import (
	"path"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// commLen is TASK_COMM_LEN-1: the kernel cuts comm to 15 bytes.
const commLen = 15

// ours says whether p is never counted, whatever it does: this plugin,
// its parent shell, other runs of it (and their probe children, the
// same binary) and, unless --kthreads, kernel threads. The executable is
// compared by its link, which readlink(2) gives without touching the
// filesystem it is on.
func (g *gatherer) ours(p *proc.Process) bool {
	if p.PID == g.self.pid || p.PID == g.self.ppid {
		return true
	}
	if (!g.c.KThreads || g.c.NoKThreads) && p.IsKernelThread() { // -k, check_procs' spelling, wins
		return true
	}
	if p.Comm == g.self.comm && g.self.exe != "" && !g.c.Traditional {
		if exe, err := g.fs.Exe(p.PID); err == nil && exe == g.self.exe {
			return true
		}
	}
	return false
}

// excluded says whether p has one of the -X names.
func (g *gatherer) excluded(p *proc.Process) bool {
	for name := range g.sel.exclude {
		if g.nameIs(p, name) {
			return true
		}
	}
	return false
}

// selected applies the selection, cheapest tests first: the stat line,
// then status, cgroup and cmdline only for what is still in the running.
func (g *gatherer) selected(p *proc.Process) bool {
	s := &g.sel
	if s.ppid >= 0 && p.PPID != s.ppid {
		return false
	}
	if s.flags != "" && !g.hasAnyFlag(p, s.flags) {
		return false
	}
	if (s.rss > 0 && g.value(p, "RSS") < s.rss) || (s.vsz > 0 && g.value(p, "VSZ") < s.vsz) || (s.pcpu > 0 && g.value(p, "CPU") < s.pcpu) {
		return false
	}
	if s.command != "" && !g.nameIs(p, s.command) {
		return false
	}
	if s.uid >= 0 {
		uid, err := g.fs.UID(p.PID)
		if err != nil {
			g.unreadable(err)
			return false
		}
		if int64(uid) != s.uid {
			return false
		}
	}
	if s.cgroup != "" && !g.inCgroup(p.PID, s.cgroup) {
		return false
	}
	if s.argument != "" || s.ereg != nil {
		line, ok := g.cmdline(p)
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
func (g *gatherer) nameIs(p *proc.Process, name string) bool {
	if p.Comm == name {
		return true
	}
	if len(p.Comm) != commLen || len(name) <= commLen || !strings.HasPrefix(name, p.Comm) {
		return false
	}
	if exe, err := g.fs.ExeName(p.PID); err == nil && exe == name {
		return true
	}
	args, ok := g.args(p)
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
func (g *gatherer) hasAnyFlag(p *proc.Process, flags string) bool {
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
			if g.lockedPages(p.PID) {
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

func (g *gatherer) lockedPages(pid int) bool {
	n, err := g.fs.LockedKiB(pid)
	if err != nil {
		g.unreadable(err)
		return false
	}
	return n > 0
}

// inCgroup matches a path prefix at a component boundary, or, for a
// pattern without "/", any one component.
func (g *gatherer) inCgroup(pid int, want string) bool {
	paths, err := g.fs.Cgroups(pid)
	if err != nil {
		g.unreadable(err)
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

// args returns the arguments of p, read once. Those of a process with a
// task in D are read through the prober, before the scan is judged
// (readDArgs): here they come from that cache or are unknown.
func (g *gatherer) args(p *proc.Process) ([]string, bool) {
	if a, ok := g.argv[p.PID]; ok || len(p.D) > 0 {
		return a, a != nil
	}
	raw, err := g.fs.Cmdline(p.PID)
	g.storeArgs(p, raw, err) // kernel threads and zombies have no arguments: ps shows [comm]
	a := g.argv[p.PID]
	return a, a != nil
}

// cmdline is the command line as one string, arguments joined by spaces.
func (g *gatherer) cmdline(p *proc.Process) (string, bool) {
	a, ok := g.args(p)
	if !ok {
		return "", false
	}
	return strings.Join(a, " "), true
}

// storeArgs caches what a cmdline read gave.
func (g *gatherer) storeArgs(p *proc.Process, raw []byte, err error) {
	if err != nil {
		g.unreadable(err)
		g.argv[p.PID] = nil
		return
	}
	g.argv[p.PID] = argsOf(raw, p.Comm)
}

// argsOf splits a raw cmdline; an empty one (kernel threads, zombies)
// shows as [comm], as ps does.
func argsOf(raw []byte, comm string) []string {
	if a := proc.Args(raw); a != nil {
		return a
	}
	return []string{"[" + comm + "]"}
}
