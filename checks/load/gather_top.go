package load

import (
	"bytes"
	"context"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

const userHZ = proc.UserHZ // what /proc/PID/stat counts in

// consumer is one process and its share of CPU time.
type consumer struct {
	PID     int
	Comm    string
	State   string
	User    string
	Percent float64 // of one CPU, like top and ps
	Cmdline string
	start   uint64
	ticks   uint64
}

// topConsumers returns the n processes using most CPU: measured over
// interval (CPU use now, not ps' lifetime average), or with interval 0
// as the lifetime average that ps and the C check_load show. The clock is
// env's, so a test can fix "now".
func topConsumers(ctx context.Context, env *plugin.Env, k kernel, n int, interval time.Duration) ([]consumer, error) {
	done := env.Begin("reading process CPU times under " + k.proc.Root)
	first, err := cpuTimes(k)
	done()
	if err != nil {
		return nil, err
	}
	var list []consumer
	if interval > 0 {
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		second, err := cpuTimes(k)
		if err != nil {
			return nil, err
		}
		for pid, b := range second {
			a, ok := first[pid]
			if !ok || a.start != b.start || b.ticks < a.ticks {
				continue // started during the interval, or a reused pid: no rate
			}
			b.Percent = float64(b.ticks-a.ticks) / userHZ / interval.Seconds() * 100
			list = append(list, b)
		}
	} else {
		btime, err := bootTime(k)
		if err != nil {
			return nil, err
		}
		now := float64(env.Now().UnixNano()) / 1e9
		for _, c := range first {
			age := now - (float64(btime) + float64(c.start)/userHZ)
			if age <= 0 {
				continue
			}
			c.Percent = float64(c.ticks) / userHZ / age * 100
			list = append(list, c)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Percent != list[j].Percent {
			return list[i].Percent > list[j].Percent
		}
		return list[i].PID < list[j].PID
	})
	if len(list) > n {
		list = list[:n]
	}
	fillDetails(ctx, env, k, list)
	return list, nil
}

// cpuTimes reads the CPU time of every process. Processes that vanish
// or cannot be read are skipped: this is a courtesy listing.
func cpuTimes(k kernel) (map[int]consumer, error) {
	entries, err := k.proc.ReadDir(".")
	if err != nil {
		return nil, err
	}
	out := map[int]consumer{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Path)
		if err != nil || pid <= 0 {
			continue
		}
		data, err := k.proc.ReadFile(e.Path + "/stat")
		if err != nil {
			continue
		}
		st, err := proc.ParseStat(data)
		if err != nil {
			continue
		}
		out[pid] = consumer{PID: pid, Comm: st.Comm, State: string(st.State), start: st.StartTime, ticks: st.UTime + st.STime}
	}
	return out, nil
}

// bootTime is the btime line of /proc/stat, in seconds since the epoch.
func bootTime(k kernel) (uint64, error) {
	data, err := k.proc.ReadFile("stat")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			if n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	return 0, &malformedError{path: k.proc.Path("stat"), what: "no btime line"}
}

type malformedError struct{ path, what string }

func (e *malformedError) Error() string { return e.path + ": " + e.what }

// fillDetails adds user and command line. The command line of a task
// whose memory map is locked by a thread stuck in the kernel blocks its
// reader, so command lines are read by the isolated prober with a small
// budget. One child reads them all, under one lock: a listing of 500
// processes costs one child's start-up, not 500, and a read that hangs
// costs one stuck child; the rest of the listing (and later runs, while it
// hangs) then shows the kernel's short names.
func fillDetails(ctx context.Context, env *plugin.Env, k kernel, list []consumer) {
	names := map[uint64]string{}
	target := k.src.Target(k.proc.Path(".")) + "/*/cmdline"
	for i := range list {
		c := &list[i]
		dir := strconv.Itoa(c.PID)
		if uid, ok := processUID(k, dir); ok {
			if _, ok := names[uid]; !ok {
				names[uid] = strconv.FormatUint(uid, 10)
				if u, err := user.LookupId(names[uid]); err == nil {
					names[uid] = u.Username
				}
			}
			c.User = names[uid]
		}
		path := k.proc.Path(dir + "/cmdline")
		req := isolate.Request{Op: isolate.Read, Path: path, Max: 4096, Target: target}
		rep, err := env.Prober().Do(ctx, env.Budget(0.1), req)
		if err == nil {
			c.Cmdline = strings.TrimSpace(strings.ReplaceAll(string(rep.Data), "\x00", " "))
		}
	}
}

// processUID is the real uid from /proc/PID/status.
func processUID(k kernel, dir string) (uint64, bool) {
	data, err := k.proc.ReadFile(dir + "/status")
	if err != nil {
		return 0, false
	}
	v, ok := statusField(data, "Uid")
	if !ok {
		return 0, false
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, false
	}
	uid, err := strconv.ParseUint(f[0], 10, 32)
	return uid, err == nil
}
