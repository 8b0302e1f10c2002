package plugin

import (
	"sync"
	"time"
)

// progress records what the check is doing now, so that the watchdog can
// name it: "timed out after 10s while reading /proc/1234/stat".
type progress struct {
	mu     sync.Mutex
	next   int
	active map[int]activity
}

type activity struct {
	what  string
	since time.Time
}

func (p *progress) begin(what string) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active == nil {
		p.active = make(map[int]activity)
	}
	id := p.next
	p.next++
	p.active[id] = activity{what: what, since: time.Now()}
	return func() {
		p.mu.Lock()
		delete(p.active, id)
		p.mu.Unlock()
	}
}

// describe names the activity waiting longest, the likely culprit, and
// how many others were still under way.
func (p *progress) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var oldest activity
	found := false
	for _, a := range p.active {
		if !found || a.since.Before(oldest.since) || (a.since.Equal(oldest.since) && a.what < oldest.what) {
			oldest, found = a, true
		}
	}
	if !found {
		return ""
	}
	s := oldest.what
	if n := len(p.active) - 1; n > 0 {
		s += " (and " + itoa(n) + " more)"
	}
	return s
}
