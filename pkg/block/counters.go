package block

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Counters are a device's cumulative I/O counters (sysfs block/X/stat)
// and the requests in flight (block/X/inflight).
type Counters struct {
	Reads, Writes, Discards, Flushes uint64 // completed requests
	ReadMs, WriteMs, DiscardMs       uint64 // ms spent by completed requests
	FlushMs                          uint64
	IOTicks                          uint64 // ms with at least one request in flight
	InFlight                         uint64 // requests in flight now
}

// Completed is every completed request. Failed requests count as
// completed too: the kernel has no separate error counter (measured).
func (c Counters) Completed() uint64 { return c.Reads + c.Writes + c.Discards + c.Flushes }

// Counters reads one device's counters.
func (r *Reader) Counters(name string) (Counters, error) {
	rel := path.Join("block", name, "stat")
	data, err := r.sys.ReadFile(rel)
	if err != nil {
		return Counters{}, err
	}
	c, err := ParseStat(data)
	if err != nil {
		return Counters{}, fmt.Errorf("%s: %w", rel, err)
	}
	// inflight splits reads and writes; it is the same count as stat's
	// field 9 on request-based devices and the only reliable one on some.
	if f := strings.Fields(r.readString(path.Join("block", name, "inflight"))); len(f) == 2 {
		rd, err1 := strconv.ParseUint(f[0], 10, 64)
		wr, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 == nil && err2 == nil && rd+wr > c.InFlight {
			c.InFlight = rd + wr
		}
	}
	return c, nil
}

// ParseStat reads a block device's stat file (Documentation/block/stat.rst):
// 11 fields, 15 with discards (4.18), 17 with flushes (5.5).
func ParseStat(data []byte) (Counters, error) {
	f := strings.Fields(string(data))
	if len(f) < 11 {
		return Counters{}, fmt.Errorf("%d fields, want at least 11", len(f))
	}
	n := make([]uint64, 17)
	for i := 0; i < len(f) && i < len(n); i++ {
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return Counters{}, fmt.Errorf("field %d %.20q is not a number", i+1, f[i])
		}
		n[i] = v
	}
	return Counters{
		Reads: n[0], ReadMs: n[3], Writes: n[4], WriteMs: n[7], InFlight: n[8], IOTicks: n[9],
		Discards: n[11], DiscardMs: n[14], Flushes: n[15], FlushMs: n[16],
	}, nil
}

// Delta is what happened on a device between two samples.
type Delta struct {
	Elapsed   time.Duration
	Completed uint64  // requests completed
	AwaitMs   float64 // mean time per completed request, ms (iostat's await)
	UtilPct   float64 // share of the time with requests in flight (iostat's %util)
	Stalled   bool    // requests in flight, none completed, io_ticks grew
	Valid     bool    // the counters went forward (no reset, no reboot)
}

// Diff compares two samples of the same device taken elapsed apart.
func Diff(a, b Counters, elapsed time.Duration) Delta {
	d := Delta{Elapsed: elapsed}
	if b.Completed() < a.Completed() || b.IOTicks < a.IOTicks || elapsed <= 0 {
		return d
	}
	d.Valid = true
	d.Completed = b.Completed() - a.Completed()
	msA := a.ReadMs + a.WriteMs + a.DiscardMs + a.FlushMs
	msB := b.ReadMs + b.WriteMs + b.DiscardMs + b.FlushMs
	if d.Completed > 0 && msB >= msA {
		d.AwaitMs = float64(msB-msA) / float64(d.Completed)
	}
	elapsedMs := float64(elapsed) / float64(time.Millisecond)
	d.UtilPct = min(100, 100*float64(b.IOTicks-a.IOTicks)/elapsedMs)
	d.Stalled = a.InFlight > 0 && b.InFlight > 0 && d.Completed == 0 && b.IOTicks > a.IOTicks
	return d
}
