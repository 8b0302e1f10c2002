package files

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Dir is a tree read file by file: a --procfs or --sysfs root, or a
// fixture standing in for one. Its files are bounded by the Kernel limit
// and must be regular; a file on a network or FUSE mount (the whole root,
// or a file mounted over, as lxcfs mounts /proc/loadavg in containers) is
// read in the prober. Paths are relative to the root and are not expected
// to leave it through symlinks (those of /proc and /sys do not).
type Dir struct {
	src   *Source
	ctx   context.Context
	Root  string
	where place             // the root
	below map[string]string // risky mount points under the root -> fstype
}

// Dir returns the tree at root; its reads end with ctx.
func (s *Source) Dir(ctx context.Context, root string) *Dir {
	where := s.mounts.classify(root)
	d := &Dir{src: s, ctx: ctx, Root: filepath.Clean(root), where: where}
	if !where.risky {
		for _, m := range s.mounts.riskyBelow(where.path) {
			if d.below == nil {
				d.below = map[string]string{}
			}
			d.below[m] = s.mounts.risky[m]
		}
	}
	return d
}

// Path is the full path of rel, for messages.
func (d *Dir) Path(rel string) string { return filepath.Join(d.Root, rel) }

// Local reports whether rel and everything below it are on filesystems
// that cannot hang, so that a caller reading thousands of files there
// (pkg/proc's scan) may read them in-process, bounded and regular-only as
// ReadLocal does, without a path walk per file.
func (d *Dir) Local(rel string) bool {
	if d.where.risky {
		return false
	}
	p := filepath.Join(d.where.path, rel)
	for m := range d.below {
		if m == p || strings.HasPrefix(m, strings.TrimSuffix(p, "/")+"/") || strings.HasPrefix(p, m+"/") {
			return false
		}
	}
	return true
}

// placeOf says where rel is: on the root's filesystem, or on a risky
// mount (the root's own, or one below it).
func (d *Dir) placeOf(rel string) place {
	resolved := filepath.Join(d.where.path, rel)
	if d.where.risky {
		return place{path: resolved, risky: true, mount: d.where.mount, fstype: d.where.fstype}
	}
	for p := resolved; len(d.below) > 0 && len(p) > len(d.where.path); p = filepath.Dir(p) {
		if fstype, ok := d.below[p]; ok {
			return place{path: resolved, risky: true, mount: p, fstype: fstype}
		}
	}
	return place{path: resolved}
}

// ReadFile reads the regular file rel, at most the Kernel limit.
func (d *Dir) ReadFile(rel string) ([]byte, error) {
	where := d.placeOf(rel)
	if err := d.ctx.Err(); err != nil {
		return nil, &Error{Path: d.Path(rel), Problem: "not read: " + err.Error(), Err: err}
	}
	if where.risky {
		return d.src.readIsolated(d.ctx, Kernel, d.Path(rel), where)
	}
	data, err := ReadLocal(Kernel, where.path)
	return data, renamed(err, d.Path(rel))
}

// renamed puts the path as the caller named it into a file error: a
// message about "/dev/zero/loadavg" when the user gave --procfs /link
// would name a path they never typed.
func renamed(err error, shown string) error {
	var fe *Error
	if errors.As(err, &fe) && fe.Path != shown {
		return &Error{Path: shown, Problem: fe.Problem, Err: fe.Err}
	}
	return err
}

// ReadDir lists the directory rel: names with their lstat type and size.
func (d *Dir) ReadDir(rel string) ([]Entry, error) {
	where := d.placeOf(rel)
	if where.risky {
		var tree Tree
		if err := d.src.walkIsolated(d.ctx, &tree, d.Path(rel), where, 1<<20, 1); err != nil {
			return nil, err
		}
		if len(tree.Entries) > 0 && tree.Entries[0].Path == d.Path(rel) {
			tree.Entries = tree.Entries[1:]
		}
		for i := range tree.Entries {
			tree.Entries[i].Path = filepath.Base(tree.Entries[i].Path)
		}
		return tree.Entries, nil
	}
	f, err := os.Open(where.path)
	if err != nil {
		return nil, errnoError(d.Path(rel), err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, errnoError(d.Path(rel), err)
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		out = append(out, Entry{Path: e.Name(), Mode: modeBits(e.Type())})
	}
	return out, nil
}

// Readlink returns the target of the symlink rel.
func (d *Dir) Readlink(rel string) (string, error) {
	where := d.placeOf(rel)
	if where.risky {
		reply, err := d.src.prober.Do(d.ctx, d.src.budget(), isolate.Request{Op: isolate.Readlink, Path: where.path, Target: where.mount})
		if err != nil {
			return "", proberError(d.Path(rel), where, err)
		}
		return reply.Link, nil
	}
	link, err := os.Readlink(where.path)
	if err != nil {
		return "", errnoError(d.Path(rel), err)
	}
	return link, nil
}

// Stat follows symlinks and says what rel is.
func (d *Dir) Stat(rel string) (Info, error) {
	where := d.placeOf(rel)
	if where.risky {
		reply, err := d.src.prober.Do(d.ctx, d.src.budget(), isolate.Request{Op: isolate.Stat, Path: where.path, Target: where.mount})
		if err != nil {
			return Info{}, proberError(d.Path(rel), where, err)
		}
		return Info{Mode: uint32(reply.Stat.Mode), Size: int64(reply.Stat.Size)}, nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(where.path, &st); err != nil {
		return Info{}, errnoError(d.Path(rel), err)
	}
	return Info{Mode: uint32(st.Mode), Size: st.Size}, nil
}

func modeBits(t os.FileMode) uint32 {
	switch {
	case t&os.ModeDir != 0:
		return syscall.S_IFDIR
	case t&os.ModeSymlink != 0:
		return syscall.S_IFLNK
	case t&os.ModeNamedPipe != 0:
		return syscall.S_IFIFO
	case t&os.ModeSocket != 0:
		return syscall.S_IFSOCK
	case t&os.ModeCharDevice != 0:
		return syscall.S_IFCHR
	case t&os.ModeDevice != 0:
		return syscall.S_IFBLK
	}
	return syscall.S_IFREG
}
