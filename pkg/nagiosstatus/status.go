// Package nagiosstatus reads what a Nagios 4 or Naemon engine leaves on
// disk: status.dat (the engine's view of itself and of every host and
// service, rewritten every status_update_interval), nagios.cfg (where
// those files are and how often they are written) and the engine's log
// (notifications sent, and notification commands that failed). It is
// pure: bytes in, values out; the caller reads the files.
package nagiosstatus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ErrMalformed is matched by errors.Is for a file that is not what its
// kind says: garbage, or a status.dat cut short.
var ErrMalformed = errors.New("malformed")

// Program is the engine's own part of status.dat: the info and
// programstatus blocks.
type Program struct {
	Created       int64  // info: when the file was written (Unix seconds)
	Version       string // info
	PID           int    // nagios_pid; 0 when none or not a pid
	BadPID        string // nagios_pid, quoted, when it is there but no pid (-5, 0, 1e300): PID is then 0
	Start         int64  // program_start (also reset by a reload)
	Notifications bool   // enable_notifications
	ActiveService bool   // active_service_checks_enabled
	ActiveHost    bool   // active_host_checks_enabled
}

// Object is a hoststatus or servicestatus block: the fields a check of
// the engine's health needs, nothing else (a big status.dat is mostly
// output text, which is not kept).
type Object struct {
	Host, Service    string  // Service is "" for a host
	Interval         float64 // check_interval, in interval_length units; NaN when not a number
	LastCheck        int64   // Unix seconds, 0 for never
	Checked          bool    // has_been_checked
	Active           bool    // active_checks_enabled
	Scheduled        bool    // should_be_scheduled
	State            int     // current_state: 0 OK/UP ...
	Hard             bool    // state_type=1
	LastHardChange   int64   // last_hard_state_change
	LastNotification int64   // last_notification, 0 for never
	Notify           bool    // notifications_enabled
	Acked            bool    // problem_has_been_acknowledged
	Downtime         bool    // scheduled_downtime_depth > 0
}

// Name is "host" or "host/service".
func (o Object) Name() string {
	if o.Service == "" {
		return o.Host
	}
	return o.Host + "/" + o.Service
}

// Problem reports whether the object is in a hard non-OK state that
// someone should hear of: not acknowledged, not in a downtime, with
// notifications enabled for it.
func (o Object) Problem() bool {
	return o.Checked && o.Hard && o.State != 0 && !o.Acked && !o.Downtime && o.Notify
}

// Status is a parsed status.dat.
type Status struct {
	Program  Program
	Hosts    []Object
	Services []Object
}

type block int

const (
	outside block = iota
	other         // contactstatus, comments, downtimes: skipped
	info
	program
	host
	service
)

var blocks = map[string]block{
	"info": info, "programstatus": program, "hoststatus": host, "servicestatus": service,
}

// maxLine bounds one line of status.dat: Nagios caps plugin output at 8
// KiB, escaped long output can double it.
const maxLine = 1 << 20

// minBlock is about the smallest hoststatus or servicestatus block
// Nagios 4 and Naemon write (about 60 fields, each always written): a
// size over it is an upper bound of the objects in a file. Hosts are
// guessed at an eighth of that; more of them grow the list.
const minBlock = 1024

// maxSizeHint bounds what a size hint can allocate (about 6 MiB of
// lists): a size from a stat is the caller's word, and a file can be
// swapped for a huge sparse one between the stat and the read.
const maxSizeHint = 64 << 20

// Parse reads status.dat as it streams from r, keeping only the fields
// of Object and Program, so a big file costs a buffer, not its size.
// size is the file's size when known (0 when not): it sizes the lists
// once, where growing them block by block copies them over and over (of
// a parse of 10,000 services, 40% of the bytes allocated and half the
// page faults). A file without an info and a programstatus block, with a
// line that is neither a block's start or end nor key=value inside a
// block, or cut inside a block is ErrMalformed, with the line number. An
// error of r is returned as it is.
func Parse(r io.Reader, size int64) (Status, error) {
	var st Status
	if n := min(size, maxSizeHint) / minBlock; n > 0 {
		st.Services = make([]Object, 0, n)
		st.Hosts = make([]Object, 0, n/8)
	}
	cur, lineNo := outside, 0
	var obj Object
	seen := map[block]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		lineNo++
		line := trim(sc.Bytes())
		if cur == outside {
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			name, ok := bytes.CutSuffix(line, []byte(" {"))
			if !ok {
				return st, fmt.Errorf("%w status file: line %d: %s", ErrMalformed, lineNo, quote(line))
			}
			cur = blocks[string(name)]
			if cur == outside {
				if !isName(name) {
					return st, fmt.Errorf("%w status file: line %d: %s", ErrMalformed, lineNo, quote(line))
				}
				cur = other
			}
			obj = Object{}
			seen[cur] = true
			continue
		}
		if len(line) == 1 && line[0] == '}' {
			switch cur {
			case host:
				st.Hosts = append(st.Hosts, obj)
			case service:
				st.Services = append(st.Services, obj)
			}
			cur = outside
			continue
		}
		key, value, ok := bytes.Cut(line, []byte("="))
		if !ok || !isName(key) {
			return st, fmt.Errorf("%w status file: line %d: %s", ErrMalformed, lineNo, quote(line))
		}
		switch cur {
		case info:
			setInfo(&st.Program, key, value)
		case program:
			setProgram(&st.Program, key, value)
		case host, service:
			setObject(&obj, key, value)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return st, fmt.Errorf("%w status file: line %d longer than %d KiB", ErrMalformed, lineNo+1, maxLine>>10)
		}
		return st, err
	}
	switch {
	case cur != outside:
		return st, fmt.Errorf("%w status file: cut short inside a block at line %d", ErrMalformed, lineNo)
	case !seen[info] || !seen[program]:
		return st, fmt.Errorf("%w status file: no info and programstatus blocks (not a Nagios 4 or Naemon status.dat)", ErrMalformed)
	}
	return st, nil
}

// trim drops the tabs and spaces around a line (and a CR), cheaper than
// bytes.TrimSpace on the hot path.
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\t' || b[0] == ' ') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == '\t' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func setInfo(p *Program, key, value []byte) {
	switch string(key) {
	case "created":
		p.Created = atoi(value)
	case "version":
		p.Version = string(value)
	}
}

func setProgram(p *Program, key, value []byte) {
	switch string(key) {
	case "nagios_pid":
		p.PID, p.BadPID = 0, ""
		if pid, ok := parsePID(value); ok {
			p.PID = pid
		} else {
			p.BadPID = quote(value)
		}
	case "program_start":
		p.Start = atoi(value)
	case "enable_notifications":
		p.Notifications = isOne(value)
	case "active_service_checks_enabled":
		p.ActiveService = isOne(value)
	case "active_host_checks_enabled":
		p.ActiveHost = isOne(value)
	}
}

func setObject(o *Object, key, value []byte) {
	switch string(key) {
	case "host_name":
		o.Host = string(value)
	case "service_description":
		o.Service = string(value)
	case "check_interval":
		// Taken as written (inf, -5, 1e300 too): whether it is an
		// interval is the caller's to judge, with interval_length.
		v, err := strconv.ParseFloat(string(value), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			v = math.NaN()
		}
		o.Interval = v
	case "last_check":
		o.LastCheck = atoi(value)
	case "has_been_checked":
		o.Checked = isOne(value)
	case "active_checks_enabled":
		o.Active = isOne(value)
	case "should_be_scheduled":
		o.Scheduled = isOne(value)
	case "current_state":
		o.State = int(atoi(value))
	case "state_type":
		o.Hard = isOne(value)
	case "last_hard_state_change":
		o.LastHardChange = atoi(value)
	case "last_notification":
		o.LastNotification = atoi(value)
	case "notifications_enabled":
		o.Notify = isOne(value)
	case "problem_has_been_acknowledged":
		o.Acked = isOne(value)
	case "scheduled_downtime_depth":
		o.Downtime = atoi(value) > 0
	}
}

// atoi reads a decimal integer; anything else is 0, as Nagios' own
// readers (atoi, strtoul) take it.
// parsePID reads a process id: a decimal integer from 1 to 2^31-1 (the
// kernel's pid_t; pid_max is at most 2^22). Anything else, 0 and
// negatives too (kill(2) reads those as groups), is no pid.
func parsePID(b []byte) (int, bool) {
	n, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int(n), true
}

func atoi(b []byte) int64 {
	var n int64
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

func isOne(b []byte) bool { return len(b) == 1 && b[0] == '1' }

// isName reports whether b is a block or key name: [a-z0-9_]+.
func isName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// quote shows at most 40 bytes of a bad line.
func quote(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
