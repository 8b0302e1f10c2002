package stuckprocs

import (
	"path"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/proc"
)

// blockedOn names the mount a process blocked in a filesystem wait is
// most likely stuck on, "" when it cannot be told. In order: its working
// directory (readlink, which does not touch the mount), an absolute path
// among its arguments (df /mnt/gluster), or the only mount of that
// family it can see. Only mounts of the wait's family count: a df in
// /root blocked in FUSE is not stuck on /.
func (g *gatherer) blockedOn(d *dproc) string {
	family := ""
	for _, t := range d.tasks {
		if t.fs != "" {
			family = t.fs
			break
		}
	}
	if family == "" {
		return ""
	}
	data, err := g.fs.Mountinfo(d.proc.PID)
	if err != nil {
		g.unreadable(err)
		return ""
	}
	all, err := mounts.Parse(data)
	if err != nil {
		return ""
	}
	var ms []mounts.Mount
	for _, m := range mounts.Latest(all) {
		if proc.FamilyOf(m.FSType, family) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return ""
	}
	var paths []string
	if cwd, err := g.fs.Cwd(d.proc.PID); err == nil {
		paths = append(paths, cwd)
	}
	for _, a := range d.args {
		if strings.HasPrefix(a, "/") {
			paths = append(paths, path.Clean(a))
		}
	}
	for _, p := range paths {
		if m, ok := mounts.Containing(ms, p); ok {
			return m.MountPoint
		}
	}
	if len(ms) == 1 {
		return ms[0].MountPoint + " (the only " + family + " mount)"
	}
	return ""
}
