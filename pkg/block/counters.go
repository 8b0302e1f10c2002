package block

import (
	"fmt"
	"path/filepath"
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
	st, _, err := r.bd.SysBlockDeviceStat(name)
	if err != nil {
		return Counters{}, fmt.Errorf("read %s: %w", filepath.Join(r.sys, "block", name, "stat"), err)
	}
	c := Counters{
		Reads: st.ReadIOs, Writes: st.WriteIOs, Discards: st.DiscardIOs, Flushes: st.FlushRequestsCompleted,
		ReadMs: st.ReadTicks, WriteMs: st.WriteTicks, DiscardMs: st.DiscardTicks, FlushMs: st.TimeSpentFlushing,
		IOTicks: st.IOsTotalTicks, InFlight: st.IOsInProgress,
	}
	// inflight splits reads and writes; it is the same count as stat's
	// field 9 on request-based devices and the only reliable one on some.
	if f := strings.Fields(readString(filepath.Join(r.sys, "block", name, "inflight"))); len(f) == 2 {
		var rd, wr uint64
		fmt.Sscan(f[0], &rd)
		fmt.Sscan(f[1], &wr)
		if rd+wr > c.InFlight {
			c.InFlight = rd + wr
		}
	}
	return c, nil
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
