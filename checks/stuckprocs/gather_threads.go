package stuckprocs

import (
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// maxThreadWchans bounds the wait channels of sleeping threads read in
// one run: a machine with tens of thousands of idle threads (a JVM, a
// browser farm) must not pay one read each, every run. Single-threaded
// processes are not counted here: their one read was always paid.
var maxThreadWchans = 4096 // a var for the test of the cap

// threadWaiter is, for a process with more than one thread and none in
// D, the threads asleep (S) in a filesystem's wait, judged like tasks in
// D: a worker thread blocked on a hung FUSE or NFS mount while the
// others serve. Nil when none is. At most maxThreadWchans wait channels
// a run are read; the rest are counted, for -v to say so.
func (g *gatherer) threadWaiter(p *proc.Process) *dproc {
	var d *dproc
	hidden := false
	for i, t := range p.S {
		if g.threadWchans >= maxThreadWchans {
			g.threadsUnread += len(p.S) - i
			break
		}
		g.threadWchans++
		w, err := g.fs.Wchan(p.PID, t.PID)
		if err != nil {
			continue // exited, or unreadable: the scan's count says so
		}
		if w == "0" {
			hidden = true
			continue
		}
		family := proc.FSWait(w)
		if family == "" {
			continue
		}
		if d == nil {
			d = &dproc{proc: *p, waiting: true}
			d.proc.D, d.proc.S = nil, nil
		}
		d.tasks = append(d.tasks, &dtask{Stat: t, pid: p.PID, wchan: w, fs: family})
	}
	if hidden && g.obs.Euid != 0 {
		g.obs.WchanHidden++
	}
	return d
}

// noteThreadWchans says, for -v, what the cap on thread wait channels
// left unread.
func (g *gatherer) noteThreadWchans() {
	if g.threadsUnread > 0 {
		g.verbosef("wait channels of %d sleeping threads not read (at most %d a run): a thread among them blocked on a filesystem in S is not seen",
			g.threadsUnread, maxThreadWchans)
	}
}
