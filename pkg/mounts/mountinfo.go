// Package mounts knows the mounted filesystems of a Linux host: the mount
// table from mountinfo (escapes decoded), fstab, which filesystem types are
// pseudo, network or block-backed, and how to probe a mount point through
// the isolated prober so a hung filesystem becomes a finding, not a hang.
package mounts

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
)

// Mount is one line of mountinfo with its text fields decoded.
type Mount struct {
	ID         int
	Major      uint32
	Minor      uint32
	Root       string
	MountPoint string
	FSType     string
	Source     string
	Options    map[string]string // per-mount options: rw, ro, noatime
	Super      map[string]string // superblock options: errors=remount-ro, emergency_ro
}

// ReadOnly reports whether the mount or its superblock is read-only.
func (m Mount) ReadOnly() bool {
	_, ro := m.Options["ro"]
	_, sro := m.Super["ro"]
	return ro || sro
}

// EmergencyRO reports ext4's emergency_ro: the filesystem hit an error
// with errors=remount-ro and refuses writes while still saying "rw".
func (m Mount) EmergencyRO() bool {
	_, ok := m.Super["emergency_ro"]
	return ok
}

// Dev is "MAJOR:MINOR", as sysfs "dev" files spell it.
func (m Mount) Dev() string { return fmt.Sprintf("%d:%d", m.Major, m.Minor) }

// Read returns the mount table of the process reading it, from
// PROCROOT/self/mountinfo. Reading mountinfo does not touch the
// filesystems, so it does not hang on a dead mount (measured).
func Read(procRoot string) ([]Mount, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("procfs at %s: %w", procRoot, err)
	}
	infos, err := fs.GetMounts()
	if err != nil {
		return nil, fmt.Errorf("read %s/self/mountinfo: %w", procRoot, err)
	}
	out := make([]Mount, 0, len(infos))
	for _, mi := range infos {
		m := Mount{
			ID:         mi.MountID,
			Root:       Unescape(mi.Root),
			MountPoint: Unescape(mi.MountPoint),
			FSType:     Unescape(mi.FSType),
			Source:     Unescape(mi.Source),
			Options:    mi.Options,
			Super:      mi.SuperOptions,
		}
		maj, min, _ := strings.Cut(mi.MajorMinorVer, ":")
		m.Major = parseU32(maj)
		m.Minor = parseU32(min)
		out = append(out, m)
	}
	return out, nil
}

func parseU32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// Unescape decodes the kernel's octal escapes (\040 for a space, \011,
// \012, \134 for a backslash) in mountinfo and fstab fields. procfs leaves
// them encoded.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 || s[0] > '3' {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

// Latest keeps, for each mount point, only the mount that is visible:
// the last one mounted on it (mountinfo lists older, hidden ones first).
func Latest(ms []Mount) []Mount {
	last := map[string]int{}
	for i, m := range ms {
		last[m.MountPoint] = i
	}
	idx := make([]int, 0, len(last))
	for _, i := range last {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]Mount, 0, len(idx))
	for _, i := range idx {
		out = append(out, ms[i])
	}
	return out
}
