package proc

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Process is one thread group as the scan saw it.
type Process struct {
	Stat        // the leader's stat
	D    []Stat // tasks in state D, the leader included if it is one
	// S: of a process whose task directory was listed (more than one
	// thread), the tasks asleep in S, the leader included if it is one: a
	// thread blocked on a hung FUSE or NFS mount sleeps in S, and only its
	// wait channel tells it from an idle one. Nil for a single thread,
	// whose stat is the leader's.
	S       []Stat
	Threads int  // tasks seen (1 unless the task directory was listed)
	Zombie  bool // leader Z with no live thread left: waiting for its parent
}

// ScanStats counts what the scan could not read. None of it is an error:
// processes exit mid-scan, and an unprivileged user cannot read everything.
type ScanStats struct {
	Processes  int
	Tasks      int
	Vanished   int      // exited between listing and reading
	Unreadable int      // permission denied or another read error
	Malformed  int      // a stat line that did not parse
	Problems   []string // the first few unreadable or malformed entries, for -v

	fatal error // the tree stopped answering: the scan ends with it
}

const maxProblems = 5

func (st *ScanStats) problem(err error) {
	switch {
	case Fatal(err):
		if st.fatal == nil {
			st.fatal = err
		}
		return
	case IsVanished(err):
		st.Vanished++
		return
	case isMalformed(err):
		st.Malformed++
	default:
		st.Unreadable++
	}
	if len(st.Problems) < maxProblems {
		st.Problems = append(st.Problems, err.Error())
	}
}

// Scan calls fn for every process under the root. It reads one stat
// file per process, plus the task directory of a process with more than
// one thread: a leader can show S or Z while another of its threads is
// stuck in D. A big table is read by a few goroutines at once (the cost
// is all in open and read), but fn is always called from the caller's
// goroutine, one process at a time. The error is for a root that cannot
// be listed at all, or a tree that stopped answering (a hung mount, the
// run's deadline): then the scan stops at once, rather than wait on every
// remaining process in turn.
func (fs *FS) Scan(fn func(p *Process)) (ScanStats, error) {
	var st ScanStats
	names, err := fs.pids()
	if err != nil {
		return st, err
	}
	workers := 1
	if len(names) >= parallelFrom && !fs.Isolated() { // one prober child serves a mount: no use in more readers
		workers = min(runtime.GOMAXPROCS(0), maxWorkers)
	}
	if workers == 1 {
		buf := make([]byte, 1024)
		var p Process
		for _, name := range names {
			if st.fatal != nil {
				break
			}
			if fs.readProcess(name, buf, &p, &st) {
				st.Processes++
				st.Tasks += p.Threads
				fn(&p)
			}
		}
		return st, st.fatal
	}
	return fs.scanParallel(names, workers, fn)
}

const (
	parallelFrom = 512 // below this, goroutines cost more than they save
	maxWorkers   = 4
	chunk        = 128
)

type batch struct {
	procs []Process
	st    ScanStats
}

func (fs *FS) scanParallel(names []string, workers int, fn func(p *Process)) (ScanStats, error) {
	var next atomic.Int64
	var stop atomic.Bool
	out := make(chan batch, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1024)
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(names) || stop.Load() {
					return
				}
				b := batch{procs: make([]Process, 0, chunk)}
				var p Process
				for _, name := range names[lo:min(lo+chunk, len(names))] {
					if fs.readProcess(name, buf, &p, &b.st) {
						b.procs = append(b.procs, p)
					}
				}
				if b.st.fatal != nil {
					stop.Store(true)
				}
				out <- b
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	var st ScanStats
	for b := range out {
		st.Vanished += b.st.Vanished
		st.Unreadable += b.st.Unreadable
		st.Malformed += b.st.Malformed
		if st.fatal == nil {
			st.fatal = b.st.fatal
		}
		for _, pr := range b.st.Problems {
			if len(st.Problems) < maxProblems {
				st.Problems = append(st.Problems, pr)
			}
		}
		for i := range b.procs {
			st.Processes++
			st.Tasks += b.procs[i].Threads
			fn(&b.procs[i])
		}
	}
	return st, st.fatal
}

// pids lists the numeric entries of the root.
func (fs *FS) pids() ([]string, error) {
	names, err := fs.list(".")
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if n != "" && n[0] >= '0' && n[0] <= '9' {
			out = append(out, n)
		}
	}
	return out, nil
}

// readProcess fills p for the process directory name; false when it
// could not be read (counted in st).
func (fs *FS) readProcess(name string, buf []byte, p *Process, st *ScanStats) bool {
	data, err := fs.read(name+"/stat", buf)
	if err != nil {
		st.problem(err)
		return false
	}
	s, err := ParseStat(data)
	if err != nil {
		st.problem(fmt.Errorf("%s: %w", fs.Path(name+"/stat"), err))
		return false
	}
	*p = Process{Stat: s, Threads: 1, Zombie: s.State == 'Z'}
	if s.State == 'D' {
		p.D = append(p.D, s)
	}
	if s.NumThreads > 1 {
		if s.State == 'S' {
			p.S = append(p.S, s)
		}
		fs.readThreads(name, buf, p, st)
	}
	return true
}

// readThreads adds the threads other than the leader.
func (fs *FS) readThreads(name string, buf []byte, p *Process, st *ScanStats) {
	tids, err := fs.list(name + "/task")
	if err != nil {
		st.problem(err)
		return
	}
	leader := strconv.Itoa(p.PID)
	for _, tid := range tids {
		if tid == leader {
			continue
		}
		data, err := fs.read(name+"/task/"+tid+"/stat", buf)
		if err != nil {
			if !IsVanished(err) {
				st.problem(err)
			}
			if st.fatal != nil {
				return
			}
			continue
		}
		t, err := ParseStat(data)
		if err != nil {
			st.problem(fmt.Errorf("%s: %w", fs.Path(name+"/task/"+tid+"/stat"), err))
			continue
		}
		p.Threads++
		if t.State != 'Z' && t.State != 'X' {
			p.Zombie = false // a zombie leader whose threads still run is no zombie to reap
		}
		switch t.State {
		case 'D':
			p.D = append(p.D, t)
		case 'S':
			p.S = append(p.S, t)
		}
	}
}

// list returns the names in directory rel.
func (fs *FS) list(rel string) ([]string, error) {
	if fs.fd < 0 {
		ents, err := fs.dir.ReadDir(rel)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(ents))
		for i, e := range ents {
			names[i] = e.Path
		}
		return names, nil
	}
	fd, err := unix.Openat(fs.fd, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: fs.Path(rel), Err: err}
	}
	d := os.NewFile(uintptr(fd), fs.Path(rel))
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", fs.Path(rel), err)
	}
	return names, nil
}
