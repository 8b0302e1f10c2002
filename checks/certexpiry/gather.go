package certexpiry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/kubeconfig"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

type sourceKind int

const (
	kindEndpoint sourceKind = iota
	kindFile
	kindKubeCA     // a kubeconfig's certificate-authority(-data)
	kindKubeClient // a kubeconfig's client-certificate(-data)
)

// source is one place certificates came from, with what it should be
// judged against. err set means the source could not be read.
type source struct {
	name     string
	kind     sourceKind
	path     string // file read, for dropping duplicates
	certs    []*x509.Certificate
	err      error
	errState plugin.State

	host, addr string // endpoints: name to match, address connected to

	signers    []*x509.Certificate // every leaf must be signed by one of these
	signerName string
	expectCA   []*x509.Certificate // a kubeconfig CA reference should be one of these
	caName     string
}

// gatherer runs every probe and file read in its own goroutine under one
// deadline; what has not answered by then is reported by name, so one
// hung server or mount never hides the other sources.
type gatherer struct {
	ctx    context.Context // what probes and reads get
	wctx   context.Context // what wait gives them: a little longer, so a probe names its own timeout
	cancel context.CancelFunc
	cfg    *config
	dialer *net.Dialer
	sem    chan struct{} // bounds concurrent file reads

	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
	out     []*source
	pending map[int]*source // what is still running, for the timeout report
	nextID  int
	within  string // the budget, for messages

	env    *plugin.Env
	guards sync.Map // directory -> *guard
}

// guard is the verdict on one directory: does it answer at all?
type guard struct {
	once sync.Once
	err  error
}

// answers asks an isolated child to list dir before anything of ours
// opens or reads below it: on a hung NFS or FUSE mount the child blocks
// in uninterruptible sleep and is abandoned, where a read of our own
// would keep the plugin from ever exiting. One child per directory keeps
// a thousand files in one directory at one process.
func (g *gatherer) answers(dir string) error {
	v, _ := g.guards.LoadOrStore(dir, &guard{})
	gd := v.(*guard)
	gd.once.Do(func() {
		_, err := g.env.Prober().Do(g.ctx, g.env.Budget(0.5), isolate.Request{Op: isolate.Readdir, Path: dir, Max: 1})
		if errors.Is(err, isolate.ErrTimeout) {
			gd.err = fmt.Errorf("directory %s does not answer (hung mount?): %w", dir, err)
		}
		// Other errors (missing, permission) are reported by the read
		// itself, with the file's name.
	})
	return gd.err
}

func newGatherer(ctx context.Context, env *plugin.Env, cfg *config) *gatherer {
	budget := env.Budget(0.9)
	wctx, wcancel := context.WithTimeout(ctx, budget)
	pctx, pcancel := context.WithTimeout(wctx, budget-min(budget/20, 100*time.Millisecond))
	cancel := func() { pcancel(); wcancel() }
	return &gatherer{ctx: pctx, wctx: wctx, cancel: cancel, cfg: cfg, dialer: &net.Dialer{}, env: env,
		sem: make(chan struct{}, 16), pending: map[int]*source{}, within: threshold.FormatDuration(budget)}
}

// spawn runs f in a goroutine; if the deadline passes first, placeholder
// is reported with "no answer" instead.
func (g *gatherer) spawn(placeholder *source, f func()) {
	g.mu.Lock()
	id := g.nextID
	g.nextID++
	g.pending[id] = placeholder
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			g.mu.Lock()
			delete(g.pending, id)
			g.mu.Unlock()
		}()
		f()
	}()
}

func (g *gatherer) add(s *source) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.out = append(g.out, s)
	}
}

// wait returns every source, in name order, once all have answered or
// the deadline has passed.
func (g *gatherer) wait() []*source {
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-g.wctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	g.cancel()
	reported := map[string]bool{}
	for _, s := range g.out {
		reported[s.name] = true
	}
	for _, p := range g.pending {
		if reported[p.name] {
			continue // it answered just as the deadline passed
		}
		s := *p
		if s.err == nil {
			s.err = fmt.Errorf("no answer within %s", g.within)
		}
		g.out = append(g.out, &s)
	}
	out := dedupe(g.out)
	sortSources(out)
	return out
}

// dedupe drops a file read twice (a glob and a directory overlapping, or
// a kubeconfig pointing at a file also found on its own), keeping the
// most specific: the one read through a kubeconfig, which knows its CA.
func dedupe(in []*source) []*source {
	best := map[string]*source{}
	keys := map[*source]string{}
	for _, s := range in {
		if s.path == "" {
			continue
		}
		key := s.path
		// Only files that were read resolve symlinks: the directory of
		// one that was not may be a hung mount.
		if s.err == nil {
			if r, err := filepath.EvalSymlinks(s.path); err == nil {
				key = r
			}
		}
		keys[s] = key
		if b, ok := best[key]; !ok || (b.kind == kindFile && s.kind != kindFile) || (b.signers == nil && s.signers != nil) {
			best[key] = s
		}
	}
	var out []*source
	for _, s := range in {
		if s.path != "" {
			if best[keys[s]] != s {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// endpoint probes one host:port, or each of its addresses.
func (g *gatherer) endpoint(ep endpoint) {
	c := g.cfg.check
	base := net.JoinHostPort(ep.host, ep.port)
	t := tlsprobe.Target{Host: ep.host, Port: ep.port, Addr: c.Resolve, SNI: c.SNI,
		Protocol: c.Protocol, XMPPDomain: c.XMPPDomain, Network: g.cfg.network}
	name := ep.host
	if c.SNI != "" {
		name = c.SNI
	}
	if !c.AllAddresses {
		g.probe(base, name, t)
		return
	}
	g.spawn(&source{name: base, kind: kindEndpoint, errState: plugin.CRITICAL, err: errors.New("resolving: no answer in time")}, func() {
		addrs, err := g.cfg.lookup(g.ctx, ep.host, g.cfg.network)
		if err != nil {
			g.add(&source{name: base, kind: kindEndpoint, err: err, errState: plugin.CRITICAL})
			return
		}
		if len(addrs) == 0 {
			g.add(&source{name: base, kind: kindEndpoint, err: errors.New("no address of the wanted family"), errState: plugin.CRITICAL})
			return
		}
		for _, a := range addrs {
			ta := t
			ta.Addr = a
			g.probe(base+" via "+a, name, ta)
		}
	})
}

func (g *gatherer) probe(label, name string, t tlsprobe.Target) {
	g.spawn(&source{name: label, kind: kindEndpoint, errState: plugin.CRITICAL}, func() {
		res, err := tlsprobe.Probe(g.ctx, g.dialer, t)
		s := &source{name: label, kind: kindEndpoint, certs: res.Chain, host: name, addr: res.Addr,
			signers: g.cfg.signers, signerName: g.cfg.signerName}
		if err != nil {
			s.err, s.errState = err, plugin.CRITICAL
			if t.Protocol != "" && t.Protocol != "tls" {
				s.err = fmt.Errorf("%s: %w", t.Protocol, err)
			}
		}
		g.add(s)
	})
}

// certExts are the file names a directory walk picks up.
var certExts = map[string]bool{".crt": true, ".pem": true, ".cer": true, ".cert": true, ".der": true, ".p12": true, ".pfx": true, ".pkcs12": true}

// pattern loads a file named on the command line, or each match of a glob.
func (g *gatherer) pattern(p string, explicit bool) {
	if !hasMeta(p) {
		g.file(p, p, explicit, nil)
		return
	}
	g.spawn(&source{name: p, kind: kindFile, errState: plugin.UNKNOWN}, func() {
		err := g.answers(globBase(p))
		var matches []string
		if err == nil {
			matches, err = glob(p)
		}
		if err != nil {
			g.add(&source{name: p, kind: kindFile, err: err, errState: plugin.UNKNOWN})
			return
		}
		n := 0
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.IsDir() {
				continue
			}
			n++
			g.file(m, m, false, nil)
		}
		if n == 0 {
			g.add(&source{name: p, kind: kindFile, err: errors.New("no file matches"), errState: plugin.UNKNOWN})
		}
	})
}

// dir walks a directory for certificate files.
func (g *gatherer) dir(d string) {
	g.spawn(&source{name: d, kind: kindFile, errState: plugin.UNKNOWN}, func() {
		if err := g.answers(d); err != nil {
			g.add(&source{name: d, kind: kindFile, err: err, errState: plugin.UNKNOWN})
			return
		}
		n := 0
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() && p != d {
				if err := g.answers(p); err != nil {
					g.add(&source{name: p, kind: kindFile, err: err, errState: plugin.UNKNOWN})
					return filepath.SkipDir
				}
			}
			if err != nil {
				g.add(&source{name: p, kind: kindFile, err: readErr(err), errState: plugin.UNKNOWN})
				if p == d {
					return err
				}
				return nil
			}
			if e.IsDir() || !certExts[strings.ToLower(filepath.Ext(p))] {
				return nil
			}
			n++
			g.file(p, p, false, nil)
			return nil
		})
		if err == nil && n == 0 {
			g.add(&source{name: d, kind: kindFile, err: errors.New("no certificate files (*.crt *.pem *.cer *.cert *.der *.p12 *.pfx) in it"), errState: plugin.UNKNOWN})
		}
	})
}

// file reads and parses one certificate file. explicit files must hold a
// certificate; found ones may be keys and are then skipped.
func (g *gatherer) file(path, name string, explicit bool, decorate func(*source)) {
	s := &source{name: name, kind: kindFile, path: path, errState: plugin.UNKNOWN,
		signers: g.cfg.signers, signerName: g.cfg.signerName}
	if decorate != nil {
		decorate(s)
	}
	g.spawn(s, func() {
		select {
		case g.sem <- struct{}{}:
			defer func() { <-g.sem }()
		case <-g.ctx.Done():
			return
		}
		err := g.answers(filepath.Dir(path))
		var data []byte
		if err == nil {
			data, err = readFile(path)
		}
		if err == nil {
			s2 := *s
			s2.certs, _, err = certs.Parse(data, g.cfg.password)
			if err == nil {
				g.add(&s2)
				return
			}
			if !explicit && errors.Is(err, certs.ErrOnlyOtherPEM) {
				return // a key or CSR next to the certificates
			}
		}
		s2 := *s
		s2.err = err
		g.add(&s2)
	})
}

// readFile reads a certificate file, saying why it cannot: a broken
// symlink names its target, a permission problem says so.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(path); lerr == nil {
			return nil, fmt.Errorf("broken symlink to %s", target)
		}
	}
	return nil, readErr(err)
}

func readErr(err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied (run as a user that can read it, or grant read access)")
	case errors.As(err, &pe):
		if errors.Is(pe.Err, errIsDir) || strings.Contains(pe.Err.Error(), "is a directory") {
			return errors.New("is a directory (use -d)")
		}
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

var (
	errIsDir   = errors.New("is a directory")
	errNoCerts = errors.New("no certificate files (*.crt) in it")
)

// kubeOpts is what --kubeadm adds to a kubeconfig: relocated paths and
// the CA its certificates belong to.
type kubeOpts struct {
	relocate func(string) string
	ca       []*x509.Certificate
	caName   string
}

// kubeconfigs loads each kubeconfig matching p.
func (g *gatherer) kubeconfigs(p string, ko *kubeOpts) {
	if !hasMeta(p) {
		g.kubeconfig(p, ko)
		return
	}
	g.spawn(&source{name: p, kind: kindFile, errState: plugin.UNKNOWN}, func() {
		err := g.answers(globBase(p))
		var matches []string
		if err == nil {
			matches, err = glob(p)
		}
		if err == nil && len(matches) == 0 {
			err = errors.New("no file matches")
		}
		if err != nil {
			g.add(&source{name: p, kind: kindFile, err: err, errState: plugin.UNKNOWN})
			return
		}
		for _, m := range matches {
			g.kubeconfig(m, ko)
		}
	})
}

func (g *gatherer) kubeconfig(path string, ko *kubeOpts) {
	g.spawn(&source{name: path, kind: kindFile, errState: plugin.UNKNOWN}, func() {
		err := g.answers(filepath.Dir(path))
		var data []byte
		if err == nil {
			data, err = readFile(path)
		}
		var refs []kubeconfig.Cert
		if err == nil {
			refs, err = kubeconfig.Parse(data, path)
		}
		if err != nil {
			g.add(&source{name: path, kind: kindFile, err: err, errState: plugin.UNKNOWN})
			return
		}
		for _, r := range refs {
			g.kubeRef(path, r, ko)
		}
	})
}

func (g *gatherer) kubeRef(path string, r kubeconfig.Cert, ko *kubeOpts) {
	kind := kindKubeClient
	if r.Role == kubeconfig.CA {
		kind = kindKubeCA
	}
	who := "user " + r.Name
	if kind == kindKubeCA {
		who = "cluster " + r.Name
	}
	decorate := func(s *source) {
		s.kind = kind
		if kind == kindKubeCA {
			s.signers, s.signerName = nil, "" // a CA reference is judged by expectCA
		}
		if ko != nil && ko.ca != nil {
			if kind == kindKubeCA {
				s.expectCA, s.caName = ko.ca, ko.caName
			} else {
				s.signers, s.signerName = ko.ca, ko.caName
			}
		}
	}
	if r.Path != "" {
		file := r.Path
		if ko != nil && ko.relocate != nil {
			file = ko.relocate(file)
		}
		g.file(file, path+" "+who+" -> "+file, true, decorate)
		return
	}
	s := &source{name: path + " " + who, kind: kind, errState: plugin.UNKNOWN, signers: g.cfg.signers, signerName: g.cfg.signerName}
	decorate(s)
	s.certs, _, s.err = certs.Parse(r.Data, "")
	if s.err != nil {
		s.err = fmt.Errorf("%s: %w", r.Label(), s.err)
	}
	g.add(s)
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// globBase is the directory a glob starts from: its longest prefix
// without a pattern character.
func globBase(p string) string {
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

// glob expands p; "**" matches any number of directories, as in
// x509-certificate-exporter and shells with globstar.
func glob(p string) ([]string, error) {
	if !strings.Contains(p, "**") {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("bad glob: %w", err)
		}
		return m, nil
	}
	segs := strings.Split(filepath.ToSlash(p), "/")
	i := 0
	for i < len(segs) && !hasMeta(segs[i]) {
		i++
	}
	base := globBase(p)
	for _, s := range segs[i:] {
		if _, err := filepath.Match(s, ""); err != nil {
			return nil, fmt.Errorf("bad glob: %w", err)
		}
	}
	var out []string
	err := filepath.WalkDir(base, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if path == base {
				return err
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(base, path)
		if matchSegs(segs[i:], strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, readErr(err)
	}
	return out, nil
}

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
