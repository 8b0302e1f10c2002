package certexpiry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// observations is everything gather saw, for judge: the clock, every
// source in name order, and how far the reading got.
type observations struct {
	Now     time.Time
	Sources []*source
	// Compare is the certificate of --compare-file; CompareErr why it
	// could not be had.
	Compare    *certFacts
	CompareErr error
	// Found certificate files were handed to the readers, Read of them
	// were read and parsed before the deadline ended the gathering.
	Found, Read int
	Within      string // the gathering's budget, for messages
	// Verbose is -v's count: what the long output shows beyond findings.
	Verbose int
	// Skipped are the files a walk or glob passed over and why, kept at
	// -v only (at most maxSkipped).
	Skipped []string
	// Collapsed says which -H, -f and --kubeconfig were given more than
	// once and were checked once, for -v.
	Collapsed []string
}

// maxSkipped bounds the skipped files listed at -v: a tree of a hundred
// thousand keys costs a line saying how many more, not the memory.
const maxSkipped = 1000

type sourceKind int

const (
	kindEndpoint sourceKind = iota
	kindFile
	kindKubeCA     // a kubeconfig's certificate-authority(-data)
	kindKubeClient // a kubeconfig's client-certificate(-data)
)

// source is one place certificates came from. Err set means it could not
// be read, and ErrState is what that is worth.
type source struct {
	Name     string
	Kind     sourceKind
	Certs    []certFacts
	Err      error
	ErrState plugin.State
	// SignerName is the CA the certificates were checked against (--ca,
	// --kubeadm), for the text of certFacts.Signer.
	SignerName string
	// ReplacedCA names the current CA when a kubeconfig's CA reference
	// is not it (--kubeadm).
	ReplacedCA string

	Notes []string // -v lines: negotiated TLS, revocation details

	key    string // the file's resolved path, for dropping duplicates ("" for endpoints)
	signed bool   // checked against a CA: preferred among duplicates
}

// certFacts is what judge needs of one certificate. Certificates are
// reduced to this as soon as they are parsed, so a run over a hundred
// thousand files holds a few hundred bytes per certificate, not the
// parsed certificates; the checks that need the whole certificate
// (chain, hostname, signer) are done then, and their findings kept.
type certFacts struct {
	Name                string // certs.Name
	NotBefore, NotAfter time.Time
	IsCA                bool
	SHA256              [32]byte
	Weak                []string // certs.Weaknesses
	Chain               string   // why the chain does not verify ("" when it does or was not verified)
	Hostname            string   // why the endpoint's name does not match
	Signer              string   // why it is not signed by the source's CA
	Issuer              string   // the issuer's most telling name, for -vv and --issuer
	IssuerDN            string   // the issuer's whole name, kept for --issuer only
	Serial              string   // hex, lower case, without colons
	EKU                 []x509.ExtKeyUsage
	// CRL marks a certificate revocation list: its dates are thisUpdate
	// and nextUpdate, and it is judged on freshness only.
	CRL bool
	// Details is the whole description, kept at -vvv only.
	Details string
	Net     netFacts // revocation, old TLS versions (gather_network.go)
}

// gather reads every source concurrently under the deadline. Its error is
// for what makes the whole run meaningless (an unreadable --ca-file or
// password file); everything else is an observation.
func gather(ctx context.Context, env *plugin.Env, o *Options) (observations, error) {
	return gatherWith(ctx, env, o, tlsprobe.LookupAll)
}

// lookupFunc resolves a host to all its addresses of a network
// (--all-addresses); tests pass one that gives a name several loopback
// addresses.
type lookupFunc func(ctx context.Context, r *net.Resolver, host, network string) ([]string, error)

func gatherWith(ctx context.Context, env *plugin.Env, o *Options, lookup lookupFunc) (observations, error) {
	g := newGatherer(ctx, env, o, lookup)
	defer g.cancel()
	obs := observations{Now: g.now, Within: g.within, Verbose: env.Verbose}
	if err := g.setup(&obs); err != nil {
		return obs, err
	}
	eps, _ := o.endpoints()
	eps, obs.Collapsed = collapseEndpoints(eps)
	for _, ep := range eps {
		g.endpoint(ep)
	}
	files, dup := collapseFiles("-f", o.Files)
	obs.Collapsed = append(obs.Collapsed, dup...)
	kubeconfigs, dup := collapseFiles("--kubeconfig", o.Kubeconfigs)
	obs.Collapsed = append(obs.Collapsed, dup...)
	for _, f := range files {
		g.pattern(f)
	}
	for _, d := range o.Dirs {
		g.dir(d)
	}
	for _, k := range kubeconfigs {
		g.kubeconfigs(k, nil)
	}
	if o.Kubeadm {
		g.kubeadm(o.KubernetesDir, o.KubeletDir)
	}
	obs.Sources, obs.Found, obs.Read = g.wait()
	obs.Skipped = g.skippedList()
	return obs, nil
}

// gatherShare is the part of -t the gathering may use: the rest is for
// judging and printing what was found, however much that is.
const gatherShare = 0.85

// readers bounds the files read and parsed at once: enough to keep both
// cores busy and a few reads waiting on a slow network mount, few enough
// that memory stays at a few file buffers.
const readers = 8

// gatherer runs every probe, listing and read under one deadline; what
// has not answered by then is reported by name, so one hung server or
// mount never hides the other sources.
type gatherer struct {
	ctx    context.Context // what probes and reads get
	wctx   context.Context // what wait gives them: a little longer, so a probe names its own timeout
	cancel context.CancelFunc
	env    *plugin.Env
	opts   *Options
	files  *files.Source
	now    time.Time
	lookup lookupFunc
	dialer *net.Dialer
	within string // the budget, for messages

	// From the options, read before anything else.
	network    string
	password   string
	roots      *x509.CertPool // nil: the system's
	rootsGiven bool
	signers    []*x509.Certificate // --ca
	signerName string
	net        netSetup // gather_network.go

	tasks   sync.WaitGroup // endpoints and listings
	jobs    chan fileJob   // certificate files, read by the readers
	readers sync.WaitGroup
	found   atomic.Int64
	read    atomic.Int64

	// linkRoots maps absolute symlink targets into a tree that is not
	// at its default place (--kubeadm with --kubernetes-dir or
	// --kubelet-dir): default prefix -> given directory.
	linkRoots [][2]string

	mu      sync.Mutex
	skipped []string
	skips   int
	closed  bool
	out     []*source
	pending map[int]*source // tasks still running, for the timeout report
	nextID  int
}

func newGatherer(ctx context.Context, env *plugin.Env, o *Options, lookup lookupFunc) *gatherer {
	budget := env.Budget(gatherShare)
	wctx, wcancel := context.WithTimeout(ctx, budget)
	pctx, pcancel := context.WithTimeout(wctx, budget-min(budget/10, 250*time.Millisecond))
	g := &gatherer{ctx: pctx, wctx: wctx, cancel: func() { pcancel(); wcancel() }, env: env, opts: o,
		files: env.Files(), now: env.Now(), lookup: lookup, dialer: &net.Dialer{}, network: "tcp",
		within: human.Duration(budget), jobs: make(chan fileJob, readers), pending: map[int]*source{}}
	switch {
	case o.IPv4:
		g.network = "tcp4"
	case o.IPv6:
		g.network = "tcp6"
	}
	for i := 0; i < readers; i++ {
		g.readers.Add(1)
		go g.reader()
	}
	return g
}

// setup reads what the options name besides the certificates to judge:
// the password, the trusted and signing CAs, the compare file.
func (g *gatherer) setup(obs *observations) error {
	o := g.opts
	g.linkRoots = kubeLinkRoots(o)
	if err := g.readPassword(); err != nil {
		return err
	}
	if err := g.setupNet(); err != nil {
		return err
	}
	if o.CAFile != "" {
		cas, err := g.readCAs("--ca-file", o.CAFile)
		if err != nil {
			return err
		}
		g.roots, g.rootsGiven = x509.NewCertPool(), true
		for _, ca := range cas {
			g.roots.AddCert(ca)
		}
	}
	for _, f := range o.CA {
		cas, err := g.readCAs("--ca", f)
		if err != nil {
			return err
		}
		g.signers = append(g.signers, cas...)
	}
	g.signerName = strings.Join(o.CA, ", ")
	if o.CompareFile != "" {
		// A missing compare file is a finding on each endpoint, not a
		// reason to skip checking them.
		cs, err := g.readCerts(o.CompareFile, g.password)
		if err != nil {
			obs.CompareErr = optionError("--compare-file", o.CompareFile, err)
		} else {
			f := factsOf(cs[0])
			obs.Compare = &f
		}
	}
	return nil
}

// readPassword takes the PKCS#12 password from its file (a Secret: 64
// KiB at most, a regular file) or variable, and has the runtime mask it.
func (g *gatherer) readPassword() error {
	o := g.opts
	switch {
	case o.PasswordFile != "":
		data, err := g.files.Read(g.ctx, files.Secret, o.PasswordFile)
		if err != nil {
			return optionError("--password-file", o.PasswordFile, err)
		}
		g.password = files.SecretLine(data)
	case o.PasswordEnv != "":
		v, ok := os.LookupEnv(o.PasswordEnv)
		if !ok {
			return fmt.Errorf("--password-env: variable %s is not set", o.PasswordEnv)
		}
		g.password = v
	}
	if g.password != "" {
		g.env.RegisterSecret(g.password)
	}
	return nil
}

// passwordHint says where a PKCS#12 password that did not open an archive
// came from, or how to give one.
func (g *gatherer) passwordHint() string {
	switch o := g.opts; {
	case o.PasswordFile != "":
		return "the first line of --password-file " + o.PasswordFile + " does not open it"
	case o.PasswordEnv != "" && g.password == "":
		return "the variable " + o.PasswordEnv + " of --password-env is empty"
	case o.PasswordEnv != "":
		return "the variable " + o.PasswordEnv + " of --password-env does not open it"
	}
	return "give it with --password-file or --password-env"
}

func (g *gatherer) readCAs(opt, path string) ([]*x509.Certificate, error) {
	cas, err := g.readCerts(path, "")
	if err != nil {
		return nil, optionError(opt, path, err)
	}
	return cas, nil
}

// readCerts reads and parses one certificate file.
func (g *gatherer) readCerts(path, password string) ([]*x509.Certificate, error) {
	data, err := g.files.Read(g.ctx, files.Certificate, path)
	if err != nil {
		return nil, err
	}
	cs, _, err := certs.Parse(data, password)
	return cs, err
}

// optionError names the option and the file: "--ca /x: is a FIFO, not a
// regular file".
func optionError(opt, path string, err error) error {
	return fmt.Errorf("%s %s: %w", opt, path, bare(path, err))
}

// bare drops the path from a *files.Error about path, for messages that
// already lead with it; the error still unwraps to what it was.
func bare(path string, err error) error {
	var fe *files.Error
	if errors.As(err, &fe) && fe.Path == path {
		return &bareError{fe}
	}
	return err
}

type bareError struct{ fe *files.Error }

func (e *bareError) Error() string { return e.fe.Problem }
func (e *bareError) Unwrap() error { return e.fe }

// spawn runs f as a task; if the deadline passes first, placeholder is
// reported with "no answer" instead.
func (g *gatherer) spawn(placeholder *source, f func()) {
	g.mu.Lock()
	id := g.nextID
	g.nextID++
	g.pending[id] = placeholder
	g.mu.Unlock()
	g.tasks.Add(1)
	go func() {
		defer g.tasks.Done()
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

// fail adds a source that could not be read.
func (g *gatherer) fail(name string, state plugin.State, err error) {
	g.add(&source{Name: name, Kind: kindFile, Err: err, ErrState: state})
}

// wait returns every source, in name order and without duplicates, once
// all have answered or the deadline has passed, with the number of
// certificate files found and read.
func (g *gatherer) wait() ([]*source, int, int) {
	done := make(chan struct{})
	go func() {
		g.tasks.Wait()
		close(g.jobs) // no task is left to hand out files
		g.readers.Wait()
		close(done)
	}()
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
		reported[s.Name] = true
	}
	for _, p := range g.pending {
		if reported[p.Name] {
			continue // it answered just as the deadline passed
		}
		s := *p
		if s.Err == nil {
			s.Err = fmt.Errorf("no answer within %s", g.within)
		}
		g.out = append(g.out, &s)
	}
	out := dedupe(g.out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, int(g.found.Load()), int(g.read.Load())
}

// dedupe drops a file read twice (a glob and a directory overlapping, or
// a kubeconfig pointing at a file also found on its own), keeping the
// most specific: the one read through a kubeconfig, which knows its CA.
func dedupe(in []*source) []*source {
	best := map[string]*source{}
	for _, s := range in {
		if s.key == "" {
			continue
		}
		if b, ok := best[s.key]; !ok || (b.Kind == kindFile && s.Kind != kindFile) || (!b.signed && s.signed) {
			best[s.key] = s
		}
	}
	out := in[:0]
	for _, s := range in {
		if s.key == "" || best[s.key] == s {
			out = append(out, s)
		}
	}
	return out
}

// skip notes a file a walk or glob passed over, for -v.
func (g *gatherer) skip(path, why string) {
	if g.env.Verbose == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.skips++
	if len(g.skipped) < maxSkipped {
		g.skipped = append(g.skipped, path+": "+why)
	}
}

func (g *gatherer) skippedList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := append([]string(nil), g.skipped...)
	sort.Strings(out)
	if g.skips > len(out) {
		out = append(out, fmt.Sprintf("and %d more", g.skips-len(out)))
	}
	return out
}

// factsOf keeps what judge needs of c.
func factsOf(c *x509.Certificate) certFacts {
	return certFacts{Name: certs.Name(c), NotBefore: c.NotBefore, NotAfter: c.NotAfter, IsCA: c.IsCA,
		SHA256: sha256.Sum256(c.Raw), Weak: certs.Weaknesses(c), Issuer: certs.IssuerName(c),
		Serial: c.SerialNumber.Text(16), EKU: c.ExtKeyUsage}
}

// crlFacts keeps what judge needs of a CRL: its freshness.
func crlFacts(l *x509.RevocationList) certFacts {
	return certFacts{Name: "CRL of " + certs.IssuerNameOf(l.Issuer), NotBefore: l.ThisUpdate, NotAfter: l.NextUpdate,
		SHA256: sha256.Sum256(l.Raw), Issuer: certs.IssuerNameOf(l.Issuer), CRL: true}
}

// checked says what is to be checked of a chain beyond each certificate's
// own facts: the host it was served for, the CAs that must have signed
// its leaves, the current CA a kubeconfig's CA reference must be.
type checked struct {
	host       string
	signers    []*x509.Certificate
	signerName string
	expectCA   []*x509.Certificate
	caName     string
}

// observe reduces chain to facts on s, running the checks that need the
// whole certificates: chain (endpoints unless --insecure; file leaves
// when --ca-file is given), hostname, signer.
func (g *gatherer) observe(s *source, chain []*x509.Certificate, c checked) {
	o := g.opts
	s.Certs = make([]certFacts, len(chain))
	signers := c.signers
	if s.Kind == kindKubeCA {
		signers = nil // a CA reference is judged against expectCA
	}
	if len(signers) > 0 {
		s.SignerName, s.signed = c.signerName, true
	}
	for i, cert := range chain {
		f := factsOf(cert)
		leaf := i == 0
		switch {
		case s.Kind == kindEndpoint && leaf && !o.Insecure:
			if err := certs.VerifyChain(chain, g.roots, g.now); err != nil {
				f.Chain = err.Error()
			}
			if !o.IgnoreHostname {
				if err := certs.VerifyHostname(cert, c.host); err != nil {
					f.Hostname = err.Error()
				}
			}
		case s.Kind != kindEndpoint && s.Kind != kindKubeCA && leaf && g.rootsGiven && !cert.IsCA:
			if err := certs.VerifyChain(chain, g.roots, g.now); err != nil {
				f.Chain = err.Error()
			}
		}
		if len(signers) > 0 && !cert.IsCA {
			f.Signer = certs.SignedBy(cert, signers, chain)
		}
		s.Certs[i] = f
	}
	if s.Kind == kindKubeCA && len(c.expectCA) > 0 && !containsAny(chain, c.expectCA) {
		s.ReplacedCA = c.caName
	}
	for i, cert := range chain {
		if o.Issuer != "" {
			s.Certs[i].IssuerDN = cert.Issuer.String() // costly: only when matched
		}
		if g.env.Verbose >= 3 {
			s.Certs[i].Details = certs.Describe(cert)
		}
	}
	if s.Kind != kindEndpoint {
		g.revokeFile(s, chain)
	}
}

// containsAny says whether have holds one of the CAs of want: the same
// subject and key. A CA renewed with its key (the documented way to
// extend a kubeadm CA) is the same CA: every certificate it signed still
// verifies, so a copy of the old one in a kubeconfig is not "replaced".
func containsAny(have, want []*x509.Certificate) bool {
	for _, h := range have {
		for _, w := range want {
			if bytes.Equal(h.RawSubject, w.RawSubject) && bytes.Equal(h.RawSubjectPublicKeyInfo, w.RawSubjectPublicKeyInfo) {
				return true
			}
		}
	}
	return false
}

// endpoint probes one host:port, or each of its addresses.
func (g *gatherer) endpoint(ep endpoint) {
	o := g.opts
	base := net.JoinHostPort(ep.host, ep.port)
	t := tlsprobe.Target{Host: ep.host, Port: ep.port, Addr: o.Resolve, SNI: o.SNI,
		Protocol: o.Protocol, XMPPDomain: o.XMPPDomain, Network: g.network}
	name := ep.host
	if o.SNI != "" {
		name = o.SNI
	}
	if !o.AllAddresses {
		g.probe(base, name, t)
		return
	}
	fail := func(err error) { g.add(&source{Name: base, Kind: kindEndpoint, Err: err, ErrState: plugin.CRITICAL}) }
	g.spawn(&source{Name: base, Kind: kindEndpoint, ErrState: plugin.CRITICAL, Err: errors.New("resolving: no answer in time")}, func() {
		addrs, err := g.lookup(g.ctx, net.DefaultResolver, ep.host, g.network)
		switch {
		case err != nil:
			fail(err)
			return
		case len(addrs) == 0:
			fail(errors.New("no address of the wanted family"))
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
	g.spawn(&source{Name: label, Kind: kindEndpoint, ErrState: plugin.CRITICAL}, func() {
		s := &source{Name: label, Kind: kindEndpoint}
		var err error
		if t.Proxy, err = g.net.endpointProxy(t); err != nil {
			s.Err, s.ErrState = err, plugin.UNKNOWN
			g.add(s)
			return
		}
		t.ClientCert = g.net.client
		res, err := tlsprobe.Probe(g.ctx, g.dialer, t)
		if err != nil {
			if errors.Is(err, tlsprobe.ErrXMPPStream) {
				err = fmt.Errorf("%w (wrong --xmpp-domain?)", err)
			}
			if errors.Is(err, tlsprobe.ErrNotTLS) && t.Protocol == "" {
				err = fmt.Errorf("%w (a STARTTLS protocol? see -P)", err)
			}
			if t.Protocol != "" && t.Protocol != "tls" {
				err = fmt.Errorf("%s: %w", t.Protocol, err)
			}
			s.Err, s.ErrState = err, plugin.CRITICAL
			g.add(s)
			return
		}
		g.observe(s, res.Chain, checked{host: name, signers: g.signers, signerName: g.signerName})
		g.probeNet(s, t, res)
		g.add(s)
	})
}
