// Package kmsg reads the kernel log from /dev/kmsg: the I/O errors of a
// dying disk, an XFS shutdown, the hung-task detector's reports. Reading
// needs root where dmesg_restrict=1 (Debian's default); callers report
// that as a note, not an error of the check.
package kmsg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Record is one kernel log record.
type Record struct {
	Level    int           // 0 emerg .. 7 debug
	Facility int           // 0 kernel
	Seq      uint64        // increases by one per record; survives nothing across boots
	Since    time.Duration // since boot (monotonic clock)
	Message  string
}

// ErrNotPermitted is matched by errors.Is when the log is closed to this
// user (dmesg_restrict), so the caller can say so.
var ErrNotPermitted = errors.New("kernel log not readable as this user (dmesg_restrict)")

// Read returns the records with a sequence number above after, reading
// path (/dev/kmsg, or a file of records for tests) without blocking.
func Read(path string, after uint64) ([]Record, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("open %s: %w", path, ErrNotPermitted)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().IsRegular() {
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return filter(ParseAll(string(data)), after), nil
	}
	return readDevice(f, path, after)
}

// readDevice reads one record per read(2) until the buffer is drained.
func readDevice(f *os.File, path string, after uint64) ([]Record, error) {
	var out []Record
	buf := make([]byte, 16<<10)
	fd := int(f.Fd())
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return out, nil
		case errors.Is(err, syscall.EPIPE): // overwritten while we read: skip on
			continue
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
			return out, fmt.Errorf("read %s: %w", path, ErrNotPermitted)
		case err != nil:
			return out, fmt.Errorf("read %s: %w", path, err)
		case n == 0:
			return out, nil
		}
		if r, err := Parse(string(buf[:n])); err == nil && r.Seq > after {
			out = append(out, r)
		}
	}
}

// Parse parses one record: "PRI,SEQ,USEC,FLAGS[,...];message\n" followed
// by continuation lines (" KEY=value") that are ignored.
func Parse(s string) (Record, error) {
	head, msg, ok := strings.Cut(s, ";")
	if !ok {
		return Record{}, fmt.Errorf("kmsg record without ';': %.40q", s)
	}
	fields := strings.Split(head, ",")
	if len(fields) < 3 {
		return Record{}, fmt.Errorf("kmsg record header %q: too few fields", head)
	}
	pri, err1 := strconv.Atoi(fields[0])
	seq, err2 := strconv.ParseUint(fields[1], 10, 64)
	usec, err3 := strconv.ParseInt(fields[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Record{}, fmt.Errorf("kmsg record header %q: not numbers", head)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return Record{Level: pri & 7, Facility: pri >> 3, Seq: seq, Since: time.Duration(usec) * time.Microsecond, Message: unescape(msg)}, nil
}

// ParseAll parses a text of records, one per line (continuation lines,
// which start with a space, are skipped): the form fixtures use.
func ParseAll(text string) []Record {
	var out []Record
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		if r, err := Parse(line); err == nil {
			out = append(out, r)
		}
	}
	return out
}

func filter(rs []Record, after uint64) []Record {
	out := rs[:0]
	for _, r := range rs {
		if r.Seq > after {
			out = append(out, r)
		}
	}
	return out
}

// unescape decodes the kernel's \xNN escapes of non-printable bytes.
func unescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
