package certexpiry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// fileJob is one certificate file to read, with how to judge it.
type fileJob struct {
	path     string
	name     string // the source's name: the path, or what led to it
	key      string // the resolved path, for dropping duplicates
	explicit bool   // named, so it must hold a certificate; found ones may be keys
	kind     sourceKind
	checked  checked
}

// enqueue hands files to the readers. All are counted as found at once,
// so that a deadline reached halfway says how many were left.
func (g *gatherer) enqueue(jobs ...fileJob) {
	g.found.Add(int64(len(jobs)))
	for _, j := range jobs {
		select {
		case g.jobs <- j:
		case <-g.ctx.Done():
			return
		}
	}
}

// reader reads and parses files until there are none left or the
// deadline has passed.
func (g *gatherer) reader() {
	defer g.readers.Done()
	for j := range g.jobs {
		if g.ctx.Err() != nil {
			continue // drain: the tasks handing out files stop too
		}
		if s := g.readFile(j); s != nil {
			g.add(s)
		}
		g.read.Add(1)
	}
}

// readFile reads and parses one certificate file; nil when there is
// nothing to say (a key or a directory found by a walk or glob).
func (g *gatherer) readFile(j fileJob) *source {
	s := &source{Name: j.name, Kind: j.kind, key: j.key, ErrState: plugin.UNKNOWN}
	data, err := g.files.Read(g.ctx, files.Certificate, j.path)
	if err != nil {
		if g.isDir(j.path, err) {
			if !j.explicit {
				g.skip(j.path, "a symlink to a directory")
				return nil
			}
			s.Err = errors.New("is a directory (use -d)")
			return s
		}
		s.Err = g.describeReadError(j.path, err)
		return s
	}
	c, err := certs.ParseFile(data, g.password)
	switch {
	case err == nil:
		g.observe(s, c.Certs, j.checked)
		for _, crl := range c.CRLs {
			f := crlFacts(crl)
			if g.env.Verbose >= 3 {
				f.Details = certs.DescribeCRL(crl)
			}
			s.Certs = append(s.Certs, f)
		}
		return s
	case !j.explicit && errors.Is(err, certs.ErrOnlyOtherPEM):
		g.skip(j.path, err.Error()) // a key or CSR next to the certificates
		return nil
	case errors.Is(err, certs.ErrWrongPassword):
		err = fmt.Errorf("%w (%s)", err, g.passwordHint())
	}
	s.Err = err
	return s
}

func (g *gatherer) isDir(path string, err error) bool {
	if !errors.Is(err, files.ErrNotRegular) {
		return false
	}
	info, serr := g.files.Stat(g.ctx, path)
	return serr == nil && info.IsDir()
}

// describeReadError words why a certificate file cannot be read, with
// what to do about it where that is clear: a broken symlink names its
// target, a permission problem says how to fix it.
func (g *gatherer) describeReadError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) && g.files.CheckLocal(g.ctx, path) == nil:
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Errorf("broken symlink to %s", target)
		}
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (run as a user that can read it, or grant read access)", bare(path, err))
	}
	return bare(path, err)
}

// certExts are the file names a directory walk picks up: certificates,
// PKCS#12, Java keystores and CRLs.
var certExts = map[string]bool{".crt": true, ".pem": true, ".cer": true, ".cert": true, ".der": true, ".p12": true, ".pfx": true, ".pkcs12": true,
	".jks": true, ".jceks": true, ".keystore": true, ".truststore": true, ".crl": true}

// certExtList is certExts for messages.
const certExtList = "*.crt *.pem *.cer *.cert *.der *.p12 *.pfx *.pkcs12 *.jks *.jceks *.keystore *.truststore *.crl"

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// fileJobFor is a job for a file named on the command line or in a
// kubeconfig.
func (g *gatherer) fileJobFor(path, name string, explicit bool, c checked) fileJob {
	path = g.mapLinks(path)
	return fileJob{path: path, name: name, key: g.resolve(path), explicit: explicit, kind: kindFile, checked: c}
}

// mapLinks follows the symlinks of a file inside a tree given at another
// place than its default (g.linkRoots), mapping absolute targets into
// it: the kubelet writes kubelet-client-current.pem as a link to
// /var/lib/kubelet/pki/kubelet-client-<date>.pem, which in a mounted host
// tree or a backup is the given --kubelet-dir's file, not this host's.
// Only local filesystems are looked at (a readlink cannot hang there).
func (g *gatherer) mapLinks(path string) string {
	if len(g.linkRoots) == 0 || !g.inLinkRoots(path) {
		return path
	}
	for hops := 0; hops < 8; hops++ {
		if g.files.CheckLocal(g.ctx, path) != nil {
			return path
		}
		target, err := os.Readlink(path)
		if err != nil {
			return path // not a symlink: arrived
		}
		switch {
		case filepath.IsAbs(target):
			path = g.mapAbs(target)
		default:
			path = filepath.Join(filepath.Dir(path), target)
		}
	}
	return path
}

func (g *gatherer) inLinkRoots(path string) bool {
	for _, m := range g.linkRoots {
		if rel, err := filepath.Rel(m[1], path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// mapAbs maps an absolute path under a tree's default place into the
// tree as given.
func (g *gatherer) mapAbs(p string) string {
	for _, m := range g.linkRoots {
		if rest, ok := strings.CutPrefix(p, m[0]+"/"); ok {
			return filepath.Join(m[1], rest)
		}
	}
	return p
}

// pattern loads a file named with -f, or each match of a glob.
func (g *gatherer) pattern(p string) {
	c := checked{signers: g.signers, signerName: g.signerName}
	if !hasMeta(p) {
		g.enqueue(g.fileJobFor(p, p, true, c))
		return
	}
	g.spawn(&source{Name: p, Kind: kindFile, ErrState: plugin.UNKNOWN}, func() {
		matches, ok := g.glob(p)
		if !ok {
			return
		}
		jobs := make([]fileJob, 0, len(matches))
		for _, m := range matches {
			jobs = append(jobs, fileJob{path: m.path, name: m.path, key: m.key, kind: kindFile, checked: c})
		}
		g.enqueue(jobs...)
	})
}

// match is a file found by a glob or walk, with its resolved path.
type match struct{ path, key string }

// glob lists the files matching p through the file source (bounded by
// --max-entries, hung mounts below the base named); what cannot be
// listed is a finding, and ok false when nothing matched.
func (g *gatherer) glob(p string) ([]match, bool) {
	paths, tree, err := g.files.Glob(g.ctx, p, g.opts.MaxEntries)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		g.fail(p, plugin.UNKNOWN, err)
		return nil, false
	}
	g.listingProblems(p, tree)
	if len(paths) == 0 {
		if len(tree.Problems) == 0 && !tree.Truncated {
			g.fail(p, plugin.UNKNOWN, errors.New("no file matches"))
		}
		return nil, false
	}
	keys := g.keyer(globRoot(p), tree)
	out := make([]match, len(paths))
	for i, m := range paths {
		out[i] = match{m, keys(m)}
	}
	return out, true
}

// listingProblems reports what a walk or glob could not list: parts of
// the tree that hang or are unreadable, each naming its path, and a
// listing cut at --max-entries.
func (g *gatherer) listingProblems(name string, tree files.Tree) {
	for _, perr := range tree.Problems {
		var fe *files.Error
		if errors.As(perr, &fe) {
			g.fail(fe.Path, plugin.UNKNOWN, bare(fe.Path, perr))
			continue
		}
		g.fail(name, plugin.UNKNOWN, perr)
	}
	if tree.Truncated {
		g.fail(name, plugin.UNKNOWN, fmt.Errorf("stopped listing at %d files and directories (--max-entries): the rest is not checked", g.opts.MaxEntries))
	}
}

// dir walks a directory for certificate files.
func (g *gatherer) dir(d string) {
	g.spawn(&source{Name: d, Kind: kindFile, ErrState: plugin.UNKNOWN}, func() {
		tree, err := g.files.Walk(g.ctx, d, g.opts.MaxEntries, 0)
		if err != nil {
			g.fail(d, plugin.UNKNOWN, bare(d, err))
			return
		}
		if len(tree.Entries) == 1 && !tree.Entries[0].IsDir() && len(tree.Problems) == 0 {
			// The walk does not follow a symlink at the root it was given
			// already resolved: what it found is the root itself.
			g.fail(d, plugin.UNKNOWN, errors.New("not a directory (use -f for a file)"))
			return
		}
		g.listingProblems(d, tree)
		keys := g.keyer(d, tree)
		c := checked{signers: g.signers, signerName: g.signerName}
		var jobs []fileJob
		for _, e := range tree.Entries {
			if e.IsDir() {
				continue
			}
			if !certExts[strings.ToLower(filepath.Ext(e.Path))] {
				g.skip(e.Path, "not a certificate file name ("+certExtList+")")
				continue
			}
			jobs = append(jobs, fileJob{path: e.Path, name: e.Path, key: keys(e.Path), kind: kindFile, checked: c})
		}
		if len(jobs) == 0 && len(tree.Problems) == 0 && !tree.Truncated {
			g.fail(d, plugin.UNKNOWN, errors.New("no certificate files ("+certExtList+") in it"))
		}
		g.enqueue(jobs...)
	})
}

// keyer returns the resolved path of each file listed under root. A walk
// does not follow symlinks, so below the resolved root only the files
// that are symlinks need resolving: a thousand files cost one
// resolution, not a thousand.
func (g *gatherer) keyer(root string, tree files.Tree) func(string) string {
	links := map[string]bool{}
	for _, e := range tree.Entries {
		if e.Mode&0o170000 == 0o120000 { // S_IFLNK
			links[e.Path] = true
		}
	}
	clean := filepath.Clean(root)
	resolved := g.resolve(clean)
	return func(p string) string {
		if links[p] {
			return g.resolve(p)
		}
		if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(clean, "/")+"/"); ok {
			return filepath.Join(resolved, rel)
		}
		return g.resolve(p)
	}
}

// resolve is path with its symlinks resolved, when that is safe: only on
// filesystems that cannot hang (on others, the absolute path).
func (g *gatherer) resolve(path string) string {
	if g.files.CheckLocal(g.ctx, path) == nil {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			return r
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// globRoot is the directory a glob starts from: its longest prefix
// without a pattern character.
func globRoot(p string) string {
	segs := strings.Split(filepath.ToSlash(p), "/")
	i := 0
	for i < len(segs) && !hasMeta(segs[i]) {
		i++
	}
	base := strings.Join(segs[:i], "/")
	switch {
	case base == "" && strings.HasPrefix(p, "/"):
		return "/"
	case base == "":
		return "."
	}
	return base
}
