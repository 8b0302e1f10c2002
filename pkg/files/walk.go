package files

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// Entry is one file found by a walk: path, lstat type bits and size.
type Entry = isolate.Entry

// Tree is what a walk found. Problems are the parts of the tree that
// could not be listed (a directory not readable, a mount that hangs),
// each an *Error naming the path; the rest of the tree is still listed.
type Tree struct {
	Entries   []Entry
	Truncated bool // stopped at the maximum number of entries
	Problems  []error
}

// Walk lists the tree under root without following symlinks, at most max
// entries, at most depth levels below root (0: no bound). A tree on, or
// with parts on, a network or FUSE mount is listed in the prober, one
// child per such mount, so a hung one costs its budget and is a problem
// of the tree, never a hung plugin. The error is for root itself.
func (s *Source) Walk(ctx context.Context, root string, max, depth int) (Tree, error) {
	var tree Tree
	where := s.mounts.classify(root)
	if where.risky {
		err := s.walkIsolated(ctx, &tree, root, where, max, depth)
		return tree, err
	}
	base := filepath.Clean(root)
	baseDepth := strings.Count(strings.TrimSuffix(where.path, "/"), "/")
	err := filepath.WalkDir(where.path, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		shown := rebase(p, where.path, base)
		if err != nil {
			if p == where.path {
				return errnoError(root, err)
			}
			tree.Problems = append(tree.Problems, errnoError(shown, err))
			return nil
		}
		if p != where.path {
			if fstype, ok := s.mounts.risky[p]; ok {
				sub := place{path: p, risky: true, mount: p, fstype: fstype}
				left := max - len(tree.Entries)
				if left <= 0 {
					tree.Truncated = true
					return filepath.SkipAll
				}
				subDepth := 0
				if depth > 0 {
					subDepth = depth - (strings.Count(p, "/") - baseDepth)
					if subDepth <= 0 {
						tree.Entries = append(tree.Entries, Entry{Path: shown, Mode: syscall.S_IFDIR})
						return filepath.SkipDir
					}
				}
				if err := s.walkIsolated(ctx, &tree, shown, sub, left, subDepth); err != nil {
					tree.Problems = append(tree.Problems, err)
				}
				return filepath.SkipDir
			}
		}
		if len(tree.Entries) >= max {
			tree.Truncated = true
			return filepath.SkipAll
		}
		e := Entry{Path: shown}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				e.Mode, e.Size = uint32(st.Mode), st.Size
			}
		}
		tree.Entries = append(tree.Entries, e)
		if d.IsDir() && p != where.path && depth > 0 && strings.Count(p, "/")-baseDepth >= depth {
			return filepath.SkipDir
		}
		return nil
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return tree, &Error{Path: root, Problem: "walk stopped at the deadline after " + itoa(len(tree.Entries)) + " entries", Err: err}
	}
	return tree, err
}

// walkIsolated lists a tree on a risky mount in the prober. A hang keeps
// what was listed before it and names the directory it hung in.
func (s *Source) walkIsolated(ctx context.Context, tree *Tree, shown string, where place, max, depth int) error {
	req := isolate.Request{Op: isolate.Walk, Path: where.path, Max: max, Depth: depth, Target: where.mount}
	reply, err := s.prober.Do(ctx, s.budget(), req)
	for _, e := range reply.Entries {
		e.Path = rebase(e.Path, where.path, shown)
		if e.Errno != 0 {
			tree.Problems = append(tree.Problems, errnoError(e.Path, e.Errno))
			continue
		}
		tree.Entries = append(tree.Entries, e)
	}
	tree.Truncated = tree.Truncated || reply.Truncated
	if err == nil {
		return nil
	}
	var te *isolate.TimeoutError
	if errors.As(err, &te) && len(reply.Entries) > 0 {
		// The last directory listed is the one whose listing hung.
		for i := len(reply.Entries) - 1; i >= 0; i-- {
			if e := reply.Entries[i]; e.IsDir() {
				return proberError(rebase(e.Path, where.path, shown), where, err)
			}
		}
	}
	return proberError(shown, where, err)
}

// rebase puts p, found under the resolved root from, back under the root
// as the user named it.
func rebase(p, from, to string) string {
	if from == to {
		return p
	}
	if p == from {
		return to
	}
	// WalkDir joins (and so cleans) below a root that classify may
	// leave uncleaned ("/wd/../../x" when no risky mount is known).
	for _, f := range []string{from, filepath.Clean(from)} {
		if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(f, "/")+"/"); ok {
			return filepath.Join(to, rel)
		}
	}
	// WalkDir names children with filepath.Join, which cleans: below a
	// root given as "../x", they start with the cleaned root.
	if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(filepath.Clean(from), "/")+"/"); ok {
		return filepath.Join(to, rel)
	}
	return p
}

// Glob returns the files (anything but directories) matching pattern,
// where "**" matches any number of directories, as shells with globstar
// and x509-certificate-exporter do. The tree is walked through Walk, so a
// glob over a hung mount is a problem, not a hang.
func (s *Source) Glob(ctx context.Context, pattern string, max int) ([]string, Tree, error) {
	segs := strings.Split(filepath.ToSlash(pattern), "/")
	i := 0
	for i < len(segs) && !hasMeta(segs[i]) {
		i++
	}
	for _, seg := range segs[i:] {
		if _, err := filepath.Match(seg, ""); err != nil {
			return nil, Tree{}, &Error{Path: pattern, Problem: "bad glob: " + err.Error(), Err: err}
		}
	}
	base := globBase(segs[:i], strings.HasPrefix(pattern, "/"))
	if i == len(segs) { // no pattern at all: the path itself
		return []string{pattern}, Tree{}, nil
	}
	depth := len(segs) - i
	for _, seg := range segs[i:] {
		if seg == "**" {
			depth = 0
		}
	}
	tree, err := s.Walk(ctx, base, max, depth)
	var out []string
	for _, e := range tree.Entries {
		if e.IsDir() {
			continue
		}
		rel, err := filepath.Rel(base, e.Path)
		if err != nil {
			continue
		}
		if matchSegs(segs[i:], strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, e.Path)
		}
	}
	return out, tree, err
}

func globBase(segs []string, abs bool) string {
	base := strings.Join(segs, "/")
	switch {
	case base == "" && abs:
		return "/"
	case base == "":
		return "."
	}
	return base
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func matchSegs(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchSegs(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, _ := filepath.Match(pat[0], name[0])
	return ok && matchSegs(pat[1:], name[1:])
}

func itoa(n int) string { return strconv.Itoa(n) }
