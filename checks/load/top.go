package load

import (
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

const userHZ = 100 // what /proc/PID/stat counts in on every Linux architecture Go supports

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
// as the lifetime average that ps and the C check_load show.
func topConsumers(ctx context.Context, env *plugin.Env, procRoot string, n int, interval time.Duration) ([]consumer, error) {
	pfs, err := proc.Open(procRoot)
	if err != nil {
		return nil, err
	}
	defer pfs.Close()
	done := env.Begin("reading process CPU times under " + procRoot)
	first, err := cpuTimes(pfs)
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
		second, err := cpuTimes(pfs)
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
		btime, err := pfs.BootTime()
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
	fillDetails(ctx, env, pfs, list)
	return list, nil
}

// cpuTimes reads the CPU time of every process. Processes that vanish
// or cannot be read are skipped: this is a courtesy listing.
func cpuTimes(pfs *proc.FS) (map[int]consumer, error) {
	out := map[int]consumer{}
	_, err := pfs.Scan(func(p *proc.Process) {
		out[p.PID] = consumer{PID: p.PID, Comm: p.Comm, State: string(p.State), start: p.StartTime, ticks: p.UTime + p.STime}
	})
	return out, err
}

// fillDetails adds user and command line. The command line of a task
// blocked in the kernel can block its reader, so it is read by the
// isolated prober with a small budget.
func fillDetails(ctx context.Context, env *plugin.Env, pfs *proc.FS, list []consumer) {
	names := map[uint64]string{}
	for i := range list {
		c := &list[i]
		if uid, err := pfs.UID(c.PID); err == nil {
			if _, ok := names[uid]; !ok {
				names[uid] = strconv.FormatUint(uid, 10)
				if u, err := user.LookupId(names[uid]); err == nil {
					names[uid] = u.Username
				}
			}
			c.User = names[uid]
		}
		path := pfs.Path(strconv.Itoa(c.PID) + "/cmdline")
		rep, err := env.Prober().Do(ctx, env.Budget(0.1), isolate.Request{Op: isolate.Read, Path: path, Max: 4096})
		if err == nil {
			c.Cmdline = strings.TrimSpace(strings.ReplaceAll(string(rep.Data), "\x00", " "))
		}
	}
}

func (c consumer) String() string {
	s := "pid " + strconv.Itoa(c.PID)
	if c.User != "" {
		s += " " + c.User
	}
	s += " " + c.State + " " + strconv.FormatFloat(c.Percent, 'f', 1, 64) + "% CPU: "
	cmd := c.Cmdline
	if cmd == "" {
		cmd = "[" + c.Comm + "]"
	}
	if len(cmd) > 120 {
		cmd = cmd[:117] + "..."
	}
	return s + cmd
}
