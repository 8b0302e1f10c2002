package proc

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

func isMalformed(err error) bool { return errors.Is(err, ErrMalformed) }

// TaskDir is the directory of task tid of process pid, relative to the root.
func TaskDir(pid, tid int) string {
	if tid == 0 || tid == pid {
		return strconv.Itoa(pid)
	}
	return strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid)
}

// ReadStat reads the stat of one task again (a second sample).
func (fs *FS) ReadStat(pid, tid int) (Stat, error) {
	rel := TaskDir(pid, tid) + "/stat"
	data, err := fs.read(rel, make([]byte, 1024))
	if err != nil {
		return Stat{}, err
	}
	s, err := ParseStat(data)
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", fs.Path(rel), err)
	}
	return s, nil
}

// ExecStart is se.exec_start of a task from its sched file: the
// scheduler clock (ms) when it last went on a CPU. Compared with the
// reader's own (SelfExecStart), it says how long ago the task last ran.
// The file exists with CONFIG_SCHED_DEBUG, which distributions enable.
func (fs *FS) ExecStart(pid, tid int) (float64, error) {
	return fs.execStart(TaskDir(pid, tid) + "/sched")
}

// SelfExecStart is se.exec_start of the calling thread: "now" on the
// scheduler clock. thread-self, not self: the leader of a Go process may
// be parked and its clock stale.
func (fs *FS) SelfExecStart() (float64, error) {
	v, err := fs.execStart("thread-self/sched")
	if IsVanished(err) {
		return fs.execStart("self/sched")
	}
	return v, err
}

// SelfExecStartOn is SelfExecStart read while running on cpu. The
// scheduler clock behind se.exec_start is per CPU (rq clock_task, which
// leaves out interrupt and steal time), and two CPUs of a VM were seen
// 150 ms apart: a task's clock is only comparable with ours read on the
// CPU it last ran on. When we may not run there (a cpuset), the reading
// comes from wherever we are, and skewed says so.
func (fs *FS) SelfExecStartOn(cpu int) (at float64, skewed bool, err error) {
	if cpu < 0 {
		at, err = fs.SelfExecStart()
		return at, true, err
	}
	return onCPU(cpu, fs.SelfExecStart)
}

func (fs *FS) execStart(rel string) (float64, error) {
	data, err := fs.read(rel, make([]byte, 4096))
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(bytes.TrimSpace(key)) != "se.exec_start" {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(val)), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: se.exec_start %q: %w", fs.Path(rel), bytes.TrimSpace(val), ErrMalformed)
		}
		return v, nil
	}
	return 0, fmt.Errorf("%s: no se.exec_start: %w", fs.Path(rel), ErrMalformed)
}

// Progress is what moves while a task runs and stays frozen while it is
// blocked: its CPU time and wait time (schedstat) and context switches.
type Progress struct {
	RunNs, WaitNs, Slices  uint64
	Voluntary, Involuntary uint64
}

// Progress reads schedstat and status of a task.
func (fs *FS) Progress(pid, tid int) (Progress, error) {
	dir := TaskDir(pid, tid)
	data, err := fs.read(dir+"/schedstat", make([]byte, 128))
	if err != nil {
		return Progress{}, err
	}
	f := strings.Fields(string(data))
	var p Progress
	if len(f) < 3 {
		return p, fmt.Errorf("%s: %w", fs.Path(dir+"/schedstat"), ErrMalformed)
	}
	for i, dst := range []*uint64{&p.RunNs, &p.WaitNs, &p.Slices} {
		if *dst, err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return p, fmt.Errorf("%s: %w", fs.Path(dir+"/schedstat"), ErrMalformed)
		}
	}
	st, err := fs.status(dir)
	if err != nil {
		return p, err
	}
	p.Voluntary, p.Involuntary = st["voluntary_ctxt_switches"], st["nonvoluntary_ctxt_switches"]
	return p, nil
}

// status reads the numeric fields of a status file: the first number of
// each "Key:\tvalue" line (for Uid the real uid, for VmLck the kB).
func (fs *FS) status(dir string) (map[string]uint64, error) {
	data, err := fs.read(dir+"/status", make([]byte, 2048))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			out[key] = n
		}
	}
	return out, nil
}

// Wchan is the kernel function a task sleeps in. It reads "0" when the
// kernel hides it (another user's task, without root) or the task runs;
// that "0" is returned as is, for the caller to explain.
func (fs *FS) Wchan(pid, tid int) (string, error) {
	data, err := fs.read(TaskDir(pid, tid)+"/wchan", make([]byte, 128))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// UID is the real uid of a process, from its status file.
func (fs *FS) UID(pid int) (uint64, error) {
	st, err := fs.status(strconv.Itoa(pid))
	if err != nil {
		return 0, err
	}
	uid, ok := st["Uid"]
	if !ok {
		return 0, fmt.Errorf("%s: no Uid line: %w", fs.Path(strconv.Itoa(pid)+"/status"), ErrMalformed)
	}
	return uid, nil
}

// CmdlinePath is the absolute path of a process's cmdline, for reading it
// through the isolated prober when the process has a task in D.
func (fs *FS) CmdlinePath(pid int) string { return fs.Path(strconv.Itoa(pid) + "/cmdline") }

// Cmdline reads a process's raw cmdline (arguments separated by NULs).
// Only for processes with no task in D: reading it takes the target's
// mmap lock, which a blocked task may hold forever.
func (fs *FS) Cmdline(pid int) ([]byte, error) {
	return fs.read(strconv.Itoa(pid)+"/cmdline", make([]byte, 512))
}

// Args splits a raw cmdline into its arguments. A process that rewrote
// its cmdline into one space-separated string stays one argument.
func Args(raw []byte) []string {
	raw = bytes.TrimRight(raw, "\x00")
	if len(raw) == 0 {
		return nil
	}
	return strings.Split(string(raw), "\x00")
}

// Exe is the path of a process's executable (readlink of exe, which
// does not touch the filesystem the executable is on); the kernel refuses
// it for other users' processes unless root.
func (fs *FS) Exe(pid int) (string, error) {
	target, err := fs.readlink(strconv.Itoa(pid) + "/exe")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(target, " (deleted)"), nil
}

// SelfExe is Exe of "self".
func (fs *FS) SelfExe() (string, error) {
	target, err := fs.readlink("self/exe")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(target, " (deleted)"), nil
}

// ExeName is the base name of the executable.
func (fs *FS) ExeName(pid int) (string, error) {
	exe, err := fs.Exe(pid)
	if err != nil {
		return "", err
	}
	return path.Base(exe), nil
}

// Cgroups are the cgroup paths of a process (one per hierarchy; one line
// on a cgroup v2 machine: "0::/system.slice/nginx.service").
func (fs *FS) Cgroups(pid int) ([]string, error) {
	data, err := fs.read(strconv.Itoa(pid)+"/cgroup", make([]byte, 512))
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			out = append(out, parts[2])
		}
	}
	return out, nil
}

// LockedKiB is VmLck of a process, from its status file.
func (fs *FS) LockedKiB(pid int) (uint64, error) {
	st, err := fs.status(strconv.Itoa(pid))
	if err != nil {
		return 0, err
	}
	return st["VmLck"], nil
}
