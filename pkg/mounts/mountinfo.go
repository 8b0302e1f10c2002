// Package mounts knows the mounted filesystems of a Linux host: the mount
// table from mountinfo (escapes decoded), fstab, which filesystem types are
// pseudo, network or block-backed, and how to probe a mount point through
// the isolated prober so a hung filesystem becomes a finding, not a hang.
package mounts

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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

// Parse reads a mountinfo text (PROCROOT/self/mountinfo). Reading
// mountinfo does not touch the filesystems, so it does not hang on a dead
// mount (measured); the caller reads it through a bounded source and hands
// the bytes here.
func Parse(data []byte) ([]Mount, error) {
	var out []Mount
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", i+1, err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("mountinfo lists no mounts")
	}
	return out, nil
}

// parseLine reads "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...]
// - FSTYPE SOURCE SUPEROPTIONS" (proc(5)).
func parseLine(line string) (Mount, error) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok {
		return Mount{}, fmt.Errorf("no separator in %.60q", line)
	}
	f, g := strings.Fields(pre), strings.Fields(post)
	if len(f) < 6 || len(g) < 3 {
		return Mount{}, fmt.Errorf("too few fields in %.60q", line)
	}
	id, err := strconv.Atoi(f[0])
	maj, min, found := strings.Cut(f[2], ":")
	if err != nil || !found {
		return Mount{}, fmt.Errorf("bad mount id or device number in %.60q", line)
	}
	return Mount{
		ID:         id,
		Major:      parseU32(maj),
		Minor:      parseU32(min),
		Root:       Unescape(f[3]),
		MountPoint: Unescape(f[4]),
		FSType:     Unescape(g[0]),
		Source:     Unescape(g[1]),
		Options:    options(f[5]),
		Super:      options(g[2]),
	}, nil
}

// options maps "rw,relatime,errors=remount-ro" to its keys and values.
func options(s string) map[string]string {
	out := map[string]string{}
	for _, o := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(o, "=")
		out[k] = v
	}
	return out
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

// Containing returns the mount of ms that path is on, by the longest
// mount point that is path or a parent of it. Symlinks in path are not
// followed: the caller passes paths as the mount table spells them.
func Containing(ms []Mount, path string) (Mount, bool) {
	var best Mount
	found := false
	for _, m := range ms {
		mp := m.MountPoint
		if path != mp && !strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/") {
			continue
		}
		if !found || len(mp) > len(best.MountPoint) {
			best, found = m, true
		}
	}
	return best, found
}
