package block

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Array is one md RAID array, from /proc/mdstat and SYSFS/block/mdN/md.
type Array struct {
	Name       string
	Level      string
	State      string // sysfs array_state (clean, active, degraded ...), else mdstat's active/inactive
	Disks      int    // members a healthy array has
	Active     int    // members in use
	Degraded   int    // missing or failed members
	Failed     []string
	Spares     int
	SyncAction string  // resync, recover, check, repair, reshape; "" or idle when none
	SyncPct    float64 // progress of SyncAction, 0..100
	FinishMin  float64 // estimated minutes to go, 0 when unknown
}

// Arrays reads the md arrays from the procfs tree's mdstat and the sysfs
// tree. No mdstat (md not in the kernel) is no arrays, as node_exporter
// treats it.
func Arrays(proc, sys Tree) ([]Array, error) {
	data, err := proc.ReadFile("mdstat")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := ParseMDStat(data)
	r := &Reader{sys: sys}
	for i := range out {
		r.sysArray(path.Join("block", out[i].Name, "md"), &out[i])
		sort.Strings(out[i].Failed)
	}
	return out, nil
}

// ParseMDStat reads /proc/mdstat (drivers/md/md.c md_seq_show):
//
//	md1 : active raid1 sdd1[2] sdc1[0](F)
//	      10476544 blocks super 1.2 [2/1] [U_]
//	      [=====>......]  recovery = 27.6% (2894336/10476544) finish=0.6min speed=206738K/sec
//
// Lines it does not understand are skipped: a partial answer beats none.
func ParseMDStat(data []byte) []Array {
	var out []Array
	levels := map[string]bool{}
	var cur *Array
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "Personalities :"):
			for _, w := range strings.Fields(strings.TrimPrefix(line, "Personalities :")) {
				levels[strings.Trim(w, "[]")] = true
			}
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "unused"):
		case line[0] != ' ' && line[0] != '\t':
			f := strings.Fields(line)
			if len(f) < 3 || f[1] != ":" {
				cur = nil
				continue
			}
			out = append(out, deviceLine(f, levels))
			cur = &out[len(out)-1]
		case cur != nil:
			detailLine(strings.TrimSpace(line), cur)
		}
	}
	return out
}

// deviceLine reads "md0 : active [(read-only)] raid1 sdb1[1](F) sda1[0]".
func deviceLine(f []string, levels map[string]bool) Array {
	a := Array{Name: f[0], State: f[2], Level: "unknown"}
	members := f[3:]
	for len(members) > 0 && strings.HasPrefix(members[0], "(") {
		members = members[1:]
	}
	if len(members) > 0 && !strings.ContainsAny(members[0], "[(") && (levels[members[0]] || len(levels) == 0) {
		a.Level, members = members[0], members[1:]
	}
	for _, m := range members {
		name, flags, ok := strings.Cut(m, "[")
		if !ok {
			continue
		}
		switch {
		case strings.Contains(flags, "(F)"):
			a.Failed = append(a.Failed, name)
		case strings.Contains(flags, "(S)"):
			a.Spares++
		}
		if a.Level == "raid0" || a.Level == "linear" {
			a.Disks++
			a.Active++
		}
	}
	return a
}

// detailLine reads the status line ("[2/1] [U_]") and the sync line.
func detailLine(line string, a *Array) {
	if i := strings.LastIndex(line, "] ["); i > 0 && strings.HasSuffix(line, "]") {
		var total, active int
		j := strings.LastIndex(line[:i], "[")
		if _, err := fmt.Sscanf(line[j:i+1], "[%d/%d]", &total, &active); err == nil {
			a.Disks, a.Active = total, active
			a.Degraded = strings.Count(line[i+3:len(line)-1], "_")
		}
		return
	}
	for _, act := range []string{"recovery", "resync", "reshape", "check"} {
		if !strings.Contains(line, act+" =") {
			continue
		}
		if _, pct, ok := strings.Cut(line, "= "); ok {
			pct, _, _ = strings.Cut(pct, "%")
			a.SyncPct, _ = strconv.ParseFloat(strings.TrimSpace(pct), 64)
		}
		if _, fin, ok := strings.Cut(line, "finish="); ok {
			fin, _, _ = strings.Cut(fin, "min")
			a.FinishMin, _ = strconv.ParseFloat(fin, 64)
		}
		a.SyncAction = "resync" // refined by sysfs sync_action
		return
	}
}

// sysArray refines a with what sysfs says, where it says it: the array
// state, the degraded count, the sync action's name and faulty members.
func (r *Reader) sysArray(dir string, a *Array) {
	if s := r.readString(path.Join(dir, "array_state")); s != "" {
		a.State = s
	}
	if s := r.readString(path.Join(dir, "level")); s != "" {
		a.Level = s
	}
	if n, ok := r.readUint(path.Join(dir, "degraded"), 10); ok {
		a.Degraded = int(n)
	}
	if act := r.readString(path.Join(dir, "sync_action")); act != "" {
		if act == "idle" || act == "frozen" {
			a.SyncAction = ""
		} else {
			a.SyncAction = act
			var done, total uint64
			if _, err := fmt.Sscanf(r.readString(path.Join(dir, "sync_completed")), "%d / %d", &done, &total); err == nil && total > 0 {
				a.SyncPct = 100 * float64(done) / float64(total)
			}
		}
	}
	for _, e := range r.names(dir) {
		name, ok := strings.CutPrefix(e, "dev-")
		if !ok {
			continue
		}
		if strings.Contains(","+r.readString(path.Join(dir, e, "state"))+",", ",faulty,") && !contains(a.Failed, name) {
			a.Failed = append(a.Failed, name)
		}
	}
}
