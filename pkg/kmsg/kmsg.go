// Package kmsg reads the kernel log from /dev/kmsg: the I/O errors of a
// dying disk, an XFS shutdown, the hung-task detector's reports. Reading
// needs root where dmesg_restrict=1 (Debian's default); callers report
// that as a note, not an error of the check.
package kmsg

import (
	"context"
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

// ErrNotKmsg is matched when the file read does not hold kernel log
// records (/dev/zero, /dev/urandom, a file of something else).
var ErrNotKmsg = errors.New("does not read as a kernel log")

// ErrNotDevice is matched when ReadDevice is given something other than a
// character device (a FIFO, a directory, a socket).
var ErrNotDevice = errors.New("not a character device")

// Limits bound one read of the log: a log of any size, or a device that
// never runs dry (/dev/zero), costs at most Bytes read and Records kept.
type Limits struct {
	Bytes   int64 // bytes read at most
	Records int   // records kept at most: the newest
}

// DefaultLimits are far above a real log: the kernel's ring is at most 32
// MiB (log_buf_len), 1 MiB by default, about 10000 records.
var DefaultLimits = Limits{Bytes: 32 << 20, Records: 50000}

// Log is what one read found.
type Log struct {
	Records []Record // above the position asked for, oldest first
	Last    uint64   // the highest sequence number seen, kept or not
	Dropped int      // records above the position not kept (Records' bound)
	Partial bool     // stopped at the byte bound or the context's end
}

// Read returns the records with a sequence number above after, reading
// path (/dev/kmsg, or a file of records for tests) without blocking,
// within DefaultLimits.
func Read(path string, after uint64) ([]Record, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().IsRegular() {
		data, err := io.ReadAll(io.LimitReader(f, DefaultLimits.Bytes+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if int64(len(data)) > DefaultLimits.Bytes {
			return nil, fmt.Errorf("read %s: larger than %d bytes", path, DefaultLimits.Bytes)
		}
		return filter(ParseAll(string(data)), after), nil
	}
	log, err := readDevice(context.Background(), f, path, after, DefaultLimits)
	return log.Records, err
}

// ReadDevice reads the records above after from the character device at
// path (/dev/kmsg) without blocking, within lim and until ctx ends. The
// open does not block either (O_NONBLOCK): a FIFO without a writer is
// refused, not waited on.
func ReadDevice(ctx context.Context, path string, after uint64, lim Limits) (Log, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return Log{}, openError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return Log{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFCHR {
		return Log{}, fmt.Errorf("%s: %w", path, ErrNotDevice)
	}
	return readDevice(ctx, f, path, after, lim)
}

func openError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("open %s: %w", path, ErrNotPermitted)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// readDevice reads one record per read(2) until the buffer is drained.
// The first read must be a record: a device that is not the kernel log
// is refused at once.
func readDevice(ctx context.Context, f *os.File, path string, after uint64, lim Limits) (Log, error) {
	log, err := readRecords(ctx, f, path, after, lim)
	log.trim(lim)
	return log, err
}

func readRecords(ctx context.Context, f *os.File, path string, after uint64, lim Limits) (Log, error) {
	var log Log
	buf := make([]byte, 16<<10)
	fd := int(f.Fd())
	var read int64
	first := true
	for {
		if read >= lim.Bytes || ctx.Err() != nil {
			log.Partial = true
			return log, nil
		}
		n, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return log, nil
		case errors.Is(err, syscall.EPIPE): // overwritten while we read: skip on
			continue
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
			return log, fmt.Errorf("read %s: %w", path, ErrNotPermitted)
		case err != nil:
			return log, fmt.Errorf("read %s: %w", path, err)
		case n == 0:
			return log, nil
		}
		read += int64(n)
		r, err := Parse(string(buf[:n]))
		if err != nil {
			if first {
				return log, fmt.Errorf("%s: %w", path, ErrNotKmsg)
			}
			continue
		}
		first = false
		log.Last = max(log.Last, r.Seq)
		if r.Seq <= after {
			continue
		}
		log.Records = append(log.Records, r)
		if lim.Records > 0 && len(log.Records) > 2*lim.Records {
			drop := len(log.Records) - lim.Records
			log.Records = append(log.Records[:0], log.Records[drop:]...)
			log.Dropped += drop
		}
	}
}

// Filter returns the records of rs above after, within lim (the newest
// kept), as ReadDevice would: for a log read from a regular file.
func Filter(rs []Record, after uint64, lim Limits) Log {
	var log Log
	for _, r := range rs {
		log.Last = max(log.Last, r.Seq)
		if r.Seq > after {
			log.Records = append(log.Records, r)
		}
	}
	log.trim(lim)
	return log
}

func (l *Log) trim(lim Limits) {
	if lim.Records > 0 && len(l.Records) > lim.Records {
		drop := len(l.Records) - lim.Records
		l.Records = append(l.Records[:0], l.Records[drop:]...)
		l.Dropped += drop
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
