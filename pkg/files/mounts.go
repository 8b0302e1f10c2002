package files

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hindsight-plugins/hindsight/pkg/mounts"
)

// table is the mount table, read once per run when first needed: which
// mount points hold a filesystem that can hang.
type table struct {
	path  string
	once  sync.Once
	risky map[string]string // mount point -> fstype, for network and FUSE mounts
	err   error
}

func newTable(mountinfo string) *table { return &table{path: mountinfo} }

// load reads mountinfo. Reading it does not touch the filesystems, so it
// cannot hang on a dead mount. Only the mount point and type are needed:
// a small scan, not a full parse, as every plugin run pays for it.
func (t *table) load() {
	t.once.Do(func() {
		data, err := ReadLocal(Kernel, t.path)
		if err != nil {
			t.err = err
			return
		}
		t.risky = riskyMounts(string(data))
	})
}

// riskyMounts returns the network and FUSE mount points of a mountinfo
// text. Mounted over later, a mount point's last line wins.
func riskyMounts(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(pre)
		g := strings.Fields(post)
		if len(f) < 5 || len(g) < 2 {
			continue
		}
		m := mounts.Mount{MountPoint: mounts.Unescape(f[4]), FSType: g[0], Source: mounts.Unescape(g[1])}
		if maj, _, ok := strings.Cut(f[2], ":"); ok && maj != "0" {
			m.Major = 1
		}
		// An autofs point not mounted yet counts too: the first lookup below
		// it mounts what is behind it (often NFS) and waits for it. Once
		// mounted, a later line of the real type decides.
		switch kind := mounts.KindOf(m); {
		case kind == mounts.Network, kind == mounts.Fuse, m.FSType == "autofs":
			out[m.MountPoint] = m.FSType
		default:
			delete(out, m.MountPoint)
		}
	}
	return out
}

// place is where a path leads: the path with its symlinks resolved as far
// as it is safe to, and the risky mount it enters, if any.
type place struct {
	path   string
	risky  bool
	mount  string // the network or FUSE mount point the path is on
	fstype string
}

// maxHops bounds symlink resolution, as the kernel's 40.
const maxHops = 40

// classify resolves path component by component. Each component is
// looked up only while the walk is still on a filesystem that cannot
// hang; on reaching a network or FUSE mount point it stops: the rest is
// for the prober. A path whose mount table cannot be read is treated as
// local: the read then fails or succeeds on its own terms.
func (t *table) classify(path string) place {
	t.load()
	abs := absolute(path)
	if len(t.risky) == 0 {
		return place{path: abs}
	}
	if fstype, ok := t.risky["/"]; ok {
		return place{path: abs, risky: true, mount: "/", fstype: fstype}
	}
	resolved := "/"
	rest := splitPath(abs)
	// joinRest is what is left to resolve, appended as it is: ".." after a
	// symlink must be resolved by the kernel against the link's target,
	// never cleaned away as text.
	joinRest := func(base string) string {
		if len(rest) == 0 {
			return base
		}
		return strings.TrimSuffix(base, "/") + "/" + strings.Join(rest, "/")
	}
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved) // resolved holds no symlink: its parent is physical
			continue
		}
		next := filepath.Join(resolved, c)
		if fstype, ok := t.risky[next]; ok {
			return place{path: joinRest(next), risky: true, mount: next, fstype: fstype}
		}
		fi, err := os.Lstat(next)
		if err != nil { // the read will say what is wrong, at this component
			return place{path: joinRest(next)}
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxHops {
			return place{path: abs} // the read will say ELOOP
		}
		link, err := os.Readlink(next)
		if err != nil {
			return place{path: abs}
		}
		if filepath.IsAbs(link) {
			resolved = "/"
		}
		rest = append(splitPath(link), rest...)
	}
	return place{path: resolved}
}

// absolute makes path absolute without cleaning it: "a/../b" is not "b"
// when a is a symlink, and only the walk in classify may resolve "..".
func absolute(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	return strings.TrimSuffix(wd, "/") + "/" + path
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// riskyBelow returns the network and FUSE mount points strictly below
// dir (resolved), which a walk of dir must not enter in-process.
func (t *table) riskyBelow(dir string) []string {
	t.load()
	var out []string
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for m := range t.risky {
		if strings.HasPrefix(m, prefix) {
			out = append(out, m)
		}
	}
	return out
}
