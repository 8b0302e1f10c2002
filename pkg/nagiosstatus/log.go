package nagiosstatus

import (
	"bytes"
	"strings"
)

// Failure is a notification command that did not succeed.
type Failure struct {
	Time    int64  // Unix seconds
	Command string // the notification command's name, "" when the log does not tell
	Contact string
	Host    string
	Service string // "" for a host notification
	Reason  string // "exited with return code 1", "timed out after 30.00s"
}

// Log is what the engine's log says about notifications since a read.
type Log struct {
	Sent     int   // notifications sent (or attempted)
	LastSent int64 // when the newest was sent, 0 for none
	Failures []Failure
	First    int64  // the oldest stamp read, 0 for none
	Next     Cursor // where the next read starts; Next.Time is the newest stamp read, 0 for none
}

// notification is one "SERVICE NOTIFICATION:" or "HOST NOTIFICATION:"
// line: who was told about what, with which command.
type notification struct{ contact, host, service, command string }

// ParseLog reads the lines of a Nagios 4 or Naemon log that are news
// since the read that left the cursor since: notifications ("[T] SERVICE NOTIFICATION: contact;host;service;
// state;command;output", "[T] HOST NOTIFICATION: contact;host;state;
// command;output") and the worker's reports of a notification job that
// failed ("[T] wproc: NOTIFY job N from worker W is a non-check helper
// but exited with return code 1", then "[T] wproc:   host=H; service=S;
// contact=C"). A failure is named by the command of the latest
// notification for the same contact and object. Lines it does not know
// are skipped: a log is not a format to refuse. A failure is news when
// its object line is: a read that ended between the two lines counts it
// at the next read.
func ParseLog(data []byte, since Cursor) Log {
	var l Log
	t := NewTracker(since)
	last := map[[3]string]string{} // contact, host, service -> command
	var pending *Failure           // a NOTIFY failure waiting for its object line
	var pendingLine []byte         // its line
	for ln := range t.Lines(data, stamped) {
		ts, line, msg := ln.Time, ln.Text, ln.Msg
		if rest, ok := bytes.CutPrefix(msg, []byte("wproc:   host=")); ok && pending != nil {
			f := *pending
			pending = nil
			f.Host, f.Service, f.Contact = objectLine(string(rest))
			f.Command = last[[3]string{f.Contact, f.Host, f.Service}]
			// Both lines name it: the job's number tells two failures of
			// one object in one second apart.
			if t.News(ts, append(append(pendingLine[:len(pendingLine):len(pendingLine)], '\n'), line...)) {
				l.Failures = append(l.Failures, f)
			}
			continue
		}
		pending = nil
		if n, ok := parseNotification(msg); ok {
			last[[3]string{n.contact, n.host, n.service}] = n.command
			if t.News(ts, line) {
				l.Sent++
				l.LastSent = max(l.LastSent, ts)
			}
			continue
		}
		if reason, ok := notifyFailure(msg); ok {
			pending, pendingLine = &Failure{Time: ts, Reason: reason}, line
		}
	}
	l.First, l.Next = t.Done()
	return l
}

// stamped splits "[1700000000] message".
func stamped(line []byte) (int64, []byte, bool) {
	if len(line) < 3 || line[0] != '[' {
		return 0, nil, false
	}
	end := bytes.IndexByte(line, ']')
	if end < 2 || end > 21 {
		return 0, nil, false
	}
	for _, c := range line[1:end] {
		if c < '0' || c > '9' {
			return 0, nil, false
		}
	}
	return atoi(line[1:end]), bytes.TrimLeft(line[end+1:], " "), true
}

func parseNotification(msg []byte) (notification, bool) {
	var n notification
	if rest, ok := bytes.CutPrefix(msg, []byte("SERVICE NOTIFICATION: ")); ok {
		f := strings.SplitN(string(rest), ";", 6)
		if len(f) < 5 {
			return n, false
		}
		return notification{contact: f[0], host: f[1], service: f[2], command: f[4]}, true
	}
	if rest, ok := bytes.CutPrefix(msg, []byte("HOST NOTIFICATION: ")); ok {
		f := strings.SplitN(string(rest), ";", 5)
		if len(f) < 4 {
			return n, false
		}
		return notification{contact: f[0], host: f[1], command: f[3]}, true
	}
	return n, false
}

// notifyFailure reads "wproc: NOTIFY job 5 from worker Core Worker 12
// is a non-check helper but exited with return code 1" (or "timed out
// after 30.00s", "died by signal 9 ...") and returns the reason.
func notifyFailure(msg []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte("wproc: NOTIFY job "))
	if !ok {
		return "", false
	}
	s := string(rest)
	for _, marker := range []string{" is a non-check helper but ", " timed out ", " died by signal "} {
		if i := strings.Index(s, marker); i >= 0 {
			return strings.TrimSpace(strings.TrimPrefix(s[i:], " is a non-check helper but")), true
		}
	}
	return "failed", true
}

// objectLine reads "localhost; service=svc; contact=lab"; "(none)" is
// Nagios' word for no service.
func objectLine(s string) (host, service, contact string) {
	parts := strings.Split(s, "; ")
	host = parts[0]
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "service":
			service = v
		case "contact":
			contact = strings.TrimSpace(v)
		}
	}
	if service == "(none)" {
		service = ""
	}
	if contact == "(none)" {
		contact = ""
	}
	return host, service, contact
}
