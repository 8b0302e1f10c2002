package nagiosstatus

import (
	"bytes"
	"hash/fnv"
	"iter"
)

// Cursor is where one read of a log stopped, for the next read to start
// there. A log is stamped in whole seconds and is read while the engine
// writes it: lines may be added to the very second the last read ended
// on. "After that second" loses them, "from that second" counts the
// others twice; so the cursor keeps the lines of that second that
// counted (notifications and failures), by hash, and a line of that
// second is news unless it is one of them.
//
// Kept by hash rather than by byte offset, the cursor survives the log's
// rotation and a read of only its end: a new file's lines are news
// (unless a line of the same second says the very same thing), and
// lines are matched wherever the read starts.
type Cursor struct {
	Time int64    // the newest second read, Unix seconds; 0 reads everything
	Seen []uint64 // FNV-1a hashes of that second's lines that counted, a line once per time it appears
}

// maxSeen bounds Cursor.Seen: a thousand notifications in one second is
// a storm. Past it, the rest of that second is counted again by the next
// read: counted twice rather than lost.
const maxSeen = 1000

// Complete is data without its last line when that line has no newline
// yet: the engine is still writing it, and the next read reads it whole
// (read half, it would be counted, or hashed, as another line).
func Complete(data []byte) []byte {
	return data[:bytes.LastIndexByte(data, '\n')+1]
}

// Tracker tells which lines of a log are news against a cursor and
// builds the next one. Give it every stamped line's stamp (Stamp), and
// ask News of the lines that count.
type Tracker struct {
	since Cursor
	left  map[uint64]int // lines of since.Time seen by the last read, not met again yet
	first int64
	next  Cursor
}

// NewTracker starts a read at since.
func NewTracker(since Cursor) *Tracker {
	t := &Tracker{since: since}
	if len(since.Seen) > 0 {
		t.left = make(map[uint64]int, len(since.Seen))
		for _, h := range since.Seen {
			t.left[h]++
		}
	}
	return t
}

// Stamp takes the stamp of every line read, counted or not, before News
// of it: the next cursor starts at the newest.
func (t *Tracker) Stamp(ts int64) {
	if t.first == 0 || ts < t.first {
		t.first = ts
	}
	if ts > t.next.Time {
		t.next = Cursor{Time: ts}
	}
}

// News reports whether a line that counts, stamped ts, was not counted
// by the last read, and remembers it for the next one.
func (t *Tracker) News(ts int64, line []byte) bool {
	var h uint64
	if ts == t.since.Time || ts == t.next.Time {
		f := fnv.New64a()
		f.Write(line)
		h = f.Sum64()
	}
	if ts == t.next.Time && len(t.next.Seen) < maxSeen {
		t.next.Seen = append(t.next.Seen, h)
	}
	switch {
	case ts > t.since.Time:
		return true
	case ts < t.since.Time:
		return false
	case t.left[h] > 0:
		t.left[h]--
		return false
	}
	return true
}

// Line is one stamped line of a log: its stamp, the whole line (for
// News) and the message after the stamp.
type Line struct {
	Time      int64
	Text, Msg []byte
}

// Lines yields the complete lines of data that stamp can read a stamp
// from, each stamp taken (Stamp) before the line is yielded; other lines
// are skipped: a log is not a format to refuse.
func (t *Tracker) Lines(data []byte, stamp func(line []byte) (ts int64, msg []byte, ok bool)) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		data = Complete(data)
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n') // Complete: there is one
			line := data[:i]
			data = data[i+1:]
			ts, msg, ok := stamp(line)
			if !ok {
				continue
			}
			t.Stamp(ts)
			if !yield(Line{ts, line, msg}) {
				return
			}
		}
	}
}

// Done returns the oldest stamp read and the next cursor, at the newest
// line read: both zero when no line was (the caller keeps since).
func (t *Tracker) Done() (first int64, next Cursor) { return t.first, t.next }
