package kmsg

import (
	"strconv"
	"strings"
)

// Victim is one process the kernel log says the OOM killer killed.
type Victim struct {
	PID   int
	Comm  string
	Memcg string // the cgroup it was in, "" when not logged
}

func (v Victim) String() string {
	s := v.Comm + " (pid " + strconv.Itoa(v.PID) + ")"
	if v.Memcg != "" && v.Memcg != "/" {
		s += " in " + v.Memcg
	}
	return s
}

// OOMVictims finds the OOM killer's lines: "Out of memory: Killed
// process 1234 (nagios) total-vm:..." (or "Memory cgroup out of memory:
// ..."), and "oom-kill:...,task_memcg=/system.slice/x,task=nagios,pid=1234,..."
// for the cgroup, which the kernel logs just before.
func OOMVictims(recs []Record) []Victim {
	var out []Victim
	memcg := map[int]string{}
	for _, rec := range recs {
		m := rec.Message
		if rest, ok := strings.CutPrefix(m, "oom-kill:"); ok {
			if pid, cg, ok := oomKillLine(rest); ok {
				memcg[pid] = cg
			}
			continue
		}
		_, rest, ok := strings.Cut(m, "Killed process ")
		if !ok {
			continue
		}
		pidText, rest, ok := strings.Cut(rest, " (")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			continue
		}
		end := strings.Index(rest, ") total-vm")
		if end < 0 {
			end = strings.LastIndex(rest, ")")
		}
		if end < 0 {
			continue
		}
		out = append(out, Victim{PID: pid, Comm: rest[:end], Memcg: memcg[pid]})
	}
	return out
}

// oomKillLine reads pid and task_memcg from an oom-kill line's fields.
func oomKillLine(s string) (pid int, memcg string, ok bool) {
	found := false
	for _, f := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "task_memcg":
			memcg = v
		case "pid":
			n, err := strconv.Atoi(v)
			pid, found = n, err == nil
		}
	}
	return pid, memcg, found
}
