package block

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prometheus/procfs"
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

// Arrays reads the md arrays. No /proc/mdstat (md not in the kernel) is
// no arrays, as node_exporter treats it.
//
// procfs' sysfs.Mdraids is not used for the sysfs part: it gives up on
// the whole host when one optional file (uuid, metadata_version) of one
// array is missing; here a missing file only leaves a field empty.
func Arrays(procRoot, sysRoot string) ([]Array, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("procfs at %s: %w", procRoot, err)
	}
	stats, err := pfs.MDStat()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/mdstat: %w", procRoot, err)
	}
	out := make([]Array, 0, len(stats))
	for _, s := range stats {
		a := Array{
			Name: s.Name, Level: s.Type, State: s.ActivityState,
			Disks: int(s.DisksTotal), Active: int(s.DisksActive),
			Degraded: int(s.DisksDown), Spares: int(s.DisksSpare),
		}
		for _, c := range s.Devices {
			if c.Faulty {
				a.Failed = append(a.Failed, c.Name)
			}
		}
		if s.BlocksToBeSynced > 0 && s.BlocksSynced < s.BlocksToBeSynced {
			a.SyncAction, a.SyncPct, a.FinishMin = "resync", s.BlocksSyncedPct, s.BlocksSyncedFinishTime
		}
		sysArray(filepath.Join(sysRoot, "block", s.Name, "md"), &a)
		sort.Strings(a.Failed)
		out = append(out, a)
	}
	return out, nil
}

// sysArray refines a with what sysfs says, where it says it: the array
// state, the degraded count, the sync action's name and faulty members.
func sysArray(dir string, a *Array) {
	if s := readString(filepath.Join(dir, "array_state")); s != "" {
		a.State = s
	}
	if s := readString(filepath.Join(dir, "level")); s != "" {
		a.Level = s
	}
	if n, ok := readUint(filepath.Join(dir, "degraded"), 10); ok {
		a.Degraded = int(n)
	}
	if act := readString(filepath.Join(dir, "sync_action")); act != "" {
		if act == "idle" || act == "frozen" {
			a.SyncAction = ""
		} else {
			a.SyncAction = act
			var done, total uint64
			if _, err := fmt.Sscanf(readString(filepath.Join(dir, "sync_completed")), "%d / %d", &done, &total); err == nil && total > 0 {
				a.SyncPct = 100 * float64(done) / float64(total)
			}
		}
	}
	devs, _ := filepath.Glob(filepath.Join(dir, "dev-*"))
	for _, d := range devs {
		name := strings.TrimPrefix(filepath.Base(d), "dev-")
		if strings.Contains(","+readString(filepath.Join(d, "state"))+",", ",faulty,") && !contains(a.Failed, name) {
			a.Failed = append(a.Failed, name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
