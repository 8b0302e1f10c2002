package proc

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Process is one thread group as the scan saw it.
type Process struct {
	Stat           // the leader's stat
	D       []Stat // tasks in state D, the leader included if it is one
	Threads int    // tasks seen (1 unless the task directory was listed)
	Zombie  bool   // leader Z with no live thread left: waiting for its parent
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
}

const maxProblems = 5

func (st *ScanStats) problem(err error) {
	switch {
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

// Scan calls fn for every process under the root, in directory order.
// It reads one stat file per process, plus the task directory of a
// process with more than one thread: a leader can show S or Z while
// another of its threads is stuck in D. The error is only for a root that
// cannot be listed at all.
func (fs *FS) Scan(fn func(p *Process)) (ScanStats, error) {
	var st ScanStats
	dirfd, err := unix.Openat(fs.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, fmt.Errorf("open %s: %w", fs.Root, err)
	}
	dir := os.NewFile(uintptr(dirfd), fs.Root)
	defer dir.Close()
	buf := make([]byte, 1024)
	var p Process
	for {
		names, err := dir.Readdirnames(512)
		for _, name := range names {
			if name == "" || name[0] < '0' || name[0] > '9' {
				continue
			}
			if !fs.readProcess(name, buf, &p, &st) {
				continue
			}
			st.Processes++
			st.Tasks += p.Threads
			fn(&p)
		}
		if err != nil || len(names) == 0 {
			break // io.EOF, or a listing that broke off: what was seen is judged
		}
	}
	return st, nil
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
		if t.State == 'D' {
			p.D = append(p.D, t)
		}
	}
}

// list returns the names in directory rel.
func (fs *FS) list(rel string) ([]string, error) {
	fd, err := unix.Openat(fs.fd, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
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
