package load

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// CPUs is the CPU capacity this process may use, and how it was derived.
// A container with a 2-CPU quota on a 64-core host is judged by 2: load
// from its own processes beyond 2 means queueing, whatever the host has.
type CPUs struct {
	Count   float64 // effective: min(online CPUs allowed by affinity, cgroup quota)
	Online  int
	Allowed int     // online CPUs in our affinity mask
	Quota   float64 // CPUs worth of cgroup CPU quota, 0 when unlimited
	QuotaAt string  // cgroup file that set the quota
}

func (c CPUs) String() string {
	s := fmt.Sprintf("%s CPUs", fmtCPU(c.Count))
	var why []string
	if c.Allowed != c.Online {
		why = append(why, fmt.Sprintf("%d of %d online allowed by affinity", c.Allowed, c.Online))
	}
	if c.Quota > 0 && c.Quota <= float64(c.Allowed) {
		why = append(why, "cgroup quota "+fmtCPU(c.Quota)+" in "+c.QuotaAt)
	}
	if len(why) == 0 {
		why = append(why, "all online, no cgroup CPU quota")
	}
	return s + " (" + strings.Join(why, ", ") + ")"
}

func fmtCPU(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// countCPUs reads the online CPUs from sysfs, the affinity mask from
// /proc/self/status, and the CPU quota of our cgroup and its ancestors
// (cgroup v2 cpu.max, v1 cpu.cfs_quota_us/cpu.cfs_period_us). Everything is
// read through the roots, so a fixture tree drives it in tests.
func countCPUs(k kernel) (CPUs, error) {
	var c CPUs
	const onlineRel = "devices/system/cpu/online"
	data, err := k.sys.ReadFile(onlineRel)
	if err != nil {
		return c, err
	}
	online, err := parseCPUList(string(data))
	if err != nil {
		return c, fmt.Errorf("read %s: %w", k.sys.Path(onlineRel), err)
	}
	c.Online = len(online)
	c.Allowed = c.Online
	if status, err := k.proc.ReadFile("self/status"); err == nil {
		if list, ok := statusField(status, "Cpus_allowed_list"); ok {
			if allowed, err := parseCPUList(list); err == nil && len(allowed) > 0 {
				c.Allowed = 0
				for cpu := range allowed {
					if online[cpu] {
						c.Allowed++
					}
				}
			}
		}
	}
	c.Quota, c.QuotaAt = cgroupQuota(k)
	c.Count = float64(c.Allowed)
	if c.Quota > 0 && c.Quota < c.Count {
		c.Count = c.Quota
	}
	if c.Count <= 0 {
		return c, fmt.Errorf("no usable CPU found in %s", k.sys.Path(onlineRel))
	}
	return c, nil
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func parseCPUList(list string) (map[int]bool, error) {
	cpus := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("bad CPU list %q", strings.TrimSpace(list))
		}
		for i := a; i <= b; i++ {
			cpus[i] = true
		}
	}
	return cpus, nil
}

// cgroupQuota returns the tightest CPU quota on the way from our cgroup to
// the root of its hierarchy: a limit set on a parent (a container's
// cgroup, a systemd slice) binds its children too. It is best effort: a
// file that cannot be read is no quota.
func cgroupQuota(k kernel) (float64, string) {
	data, err := k.proc.ReadFile("self/cgroup")
	if err != nil {
		return 0, ""
	}
	groups := parseCgroups(data)
	data, err = k.proc.ReadFile("self/mountinfo")
	if err != nil {
		return 0, ""
	}
	mounts := parseMountinfo(data)
	best, where := 0.0, ""
	consider := func(q float64, at string) {
		if q > 0 && (best == 0 || q < best) {
			best, where = q, at
		}
	}
	for _, g := range groups {
		v2 := g.v2
		if !v2 && !contains(g.controllers, "cpu") {
			continue
		}
		for _, m := range mounts {
			if v2 && m.fstype != "cgroup2" || !v2 && (m.fstype != "cgroup" || !contains(m.superOpts, "cpu")) {
				continue
			}
			dir := relocate(m.point, k.sys.Root)
			rel := strings.TrimPrefix(g.path, m.root)
			for p := filepath.Join(dir, rel); strings.HasPrefix(p, dir); p = filepath.Dir(p) {
				if v2 {
					consider(readCPUMax(k, filepath.Join(p, "cpu.max")), filepath.Join(p, "cpu.max"))
				} else {
					consider(readCFSQuota(k, p), filepath.Join(p, "cpu.cfs_quota_us"))
				}
				if p == dir {
					break
				}
			}
		}
	}
	return best, where
}

// relocate maps a mount point under /sys to the --sysfs root.
func relocate(mountPoint, sysRoot string) string {
	if rest, ok := strings.CutPrefix(mountPoint, "/sys"); ok && (rest == "" || rest[0] == '/') {
		return filepath.Join(sysRoot, rest)
	}
	return mountPoint
}

// readCPUMax parses cgroup v2 "QUOTA PERIOD" ("max 100000" = unlimited).
func readCPUMax(k kernel, path string) float64 {
	data, err := k.readSys(path)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) != 2 || f[0] == "max" {
		return 0
	}
	return ratio(f[0], f[1])
}

// readCFSQuota parses cgroup v1 quota and period (-1 = unlimited).
func readCFSQuota(k kernel, dir string) float64 {
	q, err1 := k.readSys(filepath.Join(dir, "cpu.cfs_quota_us"))
	p, err2 := k.readSys(filepath.Join(dir, "cpu.cfs_period_us"))
	if err1 != nil || err2 != nil {
		return 0
	}
	return ratio(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

func ratio(quota, period string) float64 {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0
	}
	return math.Round(q/p*100) / 100
}
