package mounts

import "strings"

// FstabEntry is one line of fstab(5).
type FstabEntry struct {
	Spec       string // /dev/vdb1, UUID=..., server:/export
	MountPoint string
	FSType     string
	Options    []string
}

// ReadOnly reports whether the entry asks for a read-only mount.
func (e FstabEntry) ReadOnly() bool {
	for _, o := range e.Options {
		if o == "ro" {
			return true
		}
	}
	return false
}

// ParseFstab parses an fstab(5) text. The caller reads the file through
// a bounded source and decides what a missing one means.
func ParseFstab(data []byte) []FstabEntry {
	var out []FstabEntry
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		e := FstabEntry{Spec: Unescape(fields[0]), MountPoint: Unescape(fields[1]), FSType: fields[2]}
		if len(fields) > 3 {
			e.Options = strings.Split(fields[3], ",")
		}
		out = append(out, e)
	}
	return out
}
