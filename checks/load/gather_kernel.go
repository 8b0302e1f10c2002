package load

// check_load reads a handful of small kernel files. It parses them itself
// rather than through prometheus/procfs: procfs compiles a dozen regexps
// in its package init, 0.2 ms at every start, a tenth of the run time of
// the C check_load this plugin must beat. Every file is read through the
// kernel type (the runtime's file source), so fixture trees drive them
// and a bad or hung file is an error naming its path.

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// readLoadavg parses /proc/loadavg: "0.29 0.49 0.31 1/79 1846".
func readLoadavg(k kernel) ([3]float64, error) {
	var v [3]float64
	path := k.proc.Path("loadavg")
	data, err := k.proc.ReadFile("loadavg")
	if err != nil {
		return v, err
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return v, fmt.Errorf("read %s: %q is not a load average line", path, human.Truncate(strings.TrimSpace(string(data)), 80))
	}
	for i := range v {
		x, ok := kernelNumber(f[i], maxLoad)
		if !ok {
			return v, fmt.Errorf("malformed load average %q in %s", human.Truncate(f[i], 40), path)
		}
		v[i] = x
	}
	return v, nil
}

// What a kernel can print. A load average counts runnable and
// uninterruptible tasks, each of which holds a pid, so it stays below
// PID_MAX_LIMIT (4194304 on 64-bit); a pressure average is a percentage of
// time. Anything else ("inf", "9.99e28", "-1") is a broken file or a
// broken mount, and judging it as a load would raise or hide an alarm.
const (
	maxLoad     = 1 << 22
	maxPressure = 100
)

// kernelNumber parses a number the kernel wrote: the strict grammar of
// threshold.ParseNumber, finite, 0 <= x <= max.
func kernelNumber(s string, max float64) (float64, bool) {
	x, err := threshold.ParseNumber(s)
	return x, err == nil && x >= 0 && x <= max
}

// pressure is one /proc/pressure file: line ("some", "full") -> window
// ("avg10", "avg60", "avg300") -> percent.
type pressure map[string]map[string]float64

// psi holds the pressure readings that could be read, by resource.
type psi map[string]pressure

// value returns one reading, false when the kernel does not give it.
func (p psi) value(res, line, window string) (float64, bool) {
	v, ok := p[res][line][window]
	return v, ok
}

// errMalformed marks a pressure file holding what no kernel writes: an
// UNKNOWN, where a missing file is only a note.
var errMalformed = errors.New("malformed")

// readPressure parses "some avg10=0.74 avg60=1.07 avg300=0.34 total=1447622".
func readPressure(k kernel, rel string) (pressure, error) {
	path := k.proc.Path(rel)
	data, err := k.proc.ReadFile(rel)
	if err != nil {
		return nil, err
	}
	p := pressure{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "some" && f[0] != "full") {
			continue
		}
		vals := map[string]float64{}
		for _, kv := range f[1:] {
			key, v, ok := strings.Cut(kv, "=")
			if !ok || !strings.HasPrefix(key, "avg") {
				continue
			}
			x, ok := kernelNumber(v, maxPressure)
			if !ok {
				return nil, fmt.Errorf("%w pressure %q in %s", errMalformed, human.Truncate(kv, 40), path)
			}
			vals[key] = x
		}
		p[f[0]] = vals
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("read %s: no some/full lines", path)
	}
	return p, nil
}

// statusField returns a field of a /proc/PID/status text ("Cpus_allowed_list").
func statusField(data []byte, name string) (string, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// cgroupEntry is a line of /proc/PID/cgroup.
type cgroupEntry struct {
	v2          bool
	controllers []string
	path        string
}

func parseCgroups(data []byte) []cgroupEntry {
	var out []cgroupEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		e := cgroupEntry{v2: parts[0] == "0" && parts[1] == "", path: parts[2]}
		if parts[1] != "" {
			e.controllers = strings.Split(parts[1], ",")
		}
		out = append(out, e)
	}
	return out
}

// mount is the part of a mountinfo line that locates cgroup hierarchies.
type mount struct {
	root, point, fstype string
	superOpts           []string
}

// parseMountinfo parses /proc/PID/mountinfo, keeping cgroup mounts only:
// "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu".
func parseMountinfo(data []byte) []mount {
	var out []mount
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		left, right, ok := bytes.Cut(line, []byte(" - "))
		if !ok || !bytes.HasPrefix(right, []byte("cgroup")) {
			continue
		}
		l, r := strings.Fields(string(left)), strings.Fields(string(right))
		if len(l) < 5 || len(r) < 3 {
			continue
		}
		out = append(out, mount{root: unescape(l[3]), point: unescape(l[4]), fstype: r[0], superOpts: strings.Split(r[2], ",")})
	}
	return out
}

// unescape decodes mountinfo's octal escapes ("\040" for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
