package mounts

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

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

// ReadFstab parses path. A missing file is no entries: containers and
// minimal systems often have none.
func ReadFstab(path string) ([]FstabEntry, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read fstab: %w", err)
	}
	defer f.Close()
	var out []FstabEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
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
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
