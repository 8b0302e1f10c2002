package certexpiry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
	"github.com/hindsight-plugins/hindsight/pkg/revocation"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// netFacts are the findings about a certificate that took more than its
// bytes: its revocation status and, for a served leaf, the TLS versions
// its server still accepts.
type netFacts struct {
	Revoked   string // how and when it was found revoked
	RevErr    string // why revocation could not be checked
	RevOK     string // where the answer "not revoked" came from
	OldTLS    string // the old version the server accepted
	OldTLSErr string // why the old versions could not be probed
}

// netSetup is what the network options resolve to, once per run.
type netSetup struct {
	checker  *revocation.Checker // nil: revocation is not checked
	noProxy  bool
	proxy    *url.URL // --proxy
	env      netproxy.Env
	client   *tls.Certificate
	minTLS   uint16
	revFiles bool // --check-revocation
}

// setupNet reads the client certificate and builds the HTTP client the
// revocation fetches share: one transport, the run's dialer, bounded
// headers, no connection kept past the run.
func (g *gatherer) setupNet() error {
	o := &g.opts.netOptions
	n := &g.net
	n.noProxy = o.NoProxy
	n.env = netproxy.FromEnv(os.Getenv)
	if o.Proxy != "" {
		n.proxy, _ = netproxy.Parse(o.Proxy) // checked by Validate
		if pw := userPassword(n.proxy); pw != "" {
			g.env.RegisterSecret(pw)
		}
	}
	n.minTLS = tlsprobe.Versions[o.MinTLSVersion.V]
	n.revFiles = o.CheckRevocation
	if o.ClientCert != "" {
		c, err := g.readClientCert(o.ClientCert, o.ClientKey)
		if err != nil {
			return err
		}
		n.client = c
	}
	if o.NoRevocation {
		return nil
	}
	tr := &http.Transport{
		Proxy:                  n.httpProxy,
		DialContext:            g.dialer.DialContext,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	n.checker = &revocation.Checker{Client: &http.Client{Transport: tr}, Now: g.now}
	return nil
}

func userPassword(u *url.URL) string {
	if u == nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// readClientCert reads --client-cert and its key (a Secret: small,
// regular) through the runtime's file source.
func (g *gatherer) readClientCert(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := g.files.Read(g.ctx, files.Certificate, certFile)
	if err != nil {
		return nil, optionError("--client-cert", certFile, err)
	}
	keyPEM, opt := certPEM, "--client-cert"
	if keyFile != "" {
		opt = "--client-key"
		if keyPEM, err = g.files.Read(g.ctx, files.Secret, keyFile); err != nil {
			return nil, optionError(opt, keyFile, err)
		}
	} else {
		keyFile = certFile
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	switch {
	case err != nil && opt == "--client-cert":
		return nil, fmt.Errorf("%s %s: %s (give the key with --client-key)", opt, keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	case err != nil:
		return nil, fmt.Errorf("%s %s: %s", opt, keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
	return &c, nil
}

// httpProxy picks the proxy of a revocation fetch: --proxy, else the
// environment's for the URL's scheme.
func (n *netSetup) httpProxy(req *http.Request) (*url.URL, error) {
	switch {
	case n.noProxy:
		return nil, nil
	case n.proxy != nil:
		return n.proxy, nil
	}
	return n.env.Request(req)
}

// endpointProxy picks the proxy of an endpoint: --proxy for any, else
// https_proxy for implicit TLS only (the variable names a proxy for
// HTTPS; a mail or database port behind it is rarely allowed).
func (n *netSetup) endpointProxy(t tlsprobe.Target) (*url.URL, error) {
	switch {
	case n.noProxy:
		return nil, nil
	case n.proxy != nil:
		return n.proxy, nil
	case t.Protocol == "" || t.Protocol == "tls":
		return n.env.For("https", net.JoinHostPort(strings.Trim(t.Host, "[]"), t.Port))
	}
	return nil, nil
}

// netBudget is a context for the extra round trips of an endpoint:
// short of the probe's own deadline, so the endpoint's certificates are
// reported even when a responder never answers.
func (g *gatherer) netBudget() (context.Context, context.CancelFunc) {
	dl, ok := g.ctx.Deadline()
	if !ok {
		return context.WithCancel(g.ctx)
	}
	left := time.Until(dl)
	return context.WithTimeout(g.ctx, left-max(left/10, 50*time.Millisecond))
}

// probeNet runs what an endpoint needs beyond its handshake, side by
// side: revocation of the served chain, the old TLS versions.
func (g *gatherer) probeNet(s *source, t tlsprobe.Target, res tlsprobe.Result) {
	if len(s.Certs) == 0 {
		return
	}
	ctx, cancel := g.netBudget()
	defer cancel()
	leaf := &s.Certs[0].Net
	var wg sync.WaitGroup
	if g.net.checker != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.revoke(ctx, s, res.Chain, g.chainTargets(s, res.Chain, len(res.OCSPStaple) > 0), res.OCSPStaple)
		}()
	}
	if g.net.minTLS != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := tlsprobe.AcceptsBelow(ctx, g.dialer, t, g.net.minTLS)
			switch {
			case err != nil:
				leaf.OldTLSErr = err.Error()
			case v != "":
				leaf.OldTLS = fmt.Sprintf("the server accepts %s (below --min-tls-version %s)", v, g.opts.MinTLSVersion.V)
			}
		}()
	}
	wg.Wait()
	if g.env.Verbose > 0 {
		line := fmt.Sprintf("%s: %s, %s", s.Name, res.Version, res.Cipher)
		if t.Proxy != nil {
			line += ", through proxy " + revocation.Show(t.Proxy)
		}
		if len(res.OCSPStaple) > 0 {
			line += ", OCSP response stapled"
		}
		s.Notes = append([]string{line}, s.Notes...)
	}
}

// revokeFile checks the certificates of a file (--check-revocation),
// each against its issuer in the same file, --ca or --ca-file; an
// intermediate whose issuer is not there is passed over.
func (g *gatherer) revokeFile(s *source, chain []*x509.Certificate) {
	if !g.net.revFiles || g.net.checker == nil {
		return
	}
	ctx, cancel := g.netBudget()
	defer cancel()
	var ts []revTarget
	for i, c := range chain {
		if i >= len(s.Certs) {
			break
		}
		t, ok := g.target(s, chain, i, presentedIssuer(chain, i), false)
		switch {
		case ok:
			ts = append(ts, t)
		case t.why != "" && !c.IsCA:
			s.Certs[i].Net.RevErr = t.why
		case t.why != "":
			g.note(s, c, "revocation not checked: "+t.why)
		}
	}
	g.revoke(ctx, s, chain, ts, nil)
}

// revTarget is a certificate of a source to ask about, and its issuer.
type revTarget struct {
	i      int // its position in the source
	issuer *x509.Certificate
	why    string // why it cannot be asked about, when not
}

// chainTargets walks the presented chain from the leaf up, issuer by
// issuer, to the certificates to ask about: each one that is not
// self-signed (a trust anchor is never checked). Presented certificates
// off that path are not the chain a client builds and are not asked
// about. Only a certificate with something to ask gets its issuer looked
// for outside the chain: verifying against the system roots costs more
// than the rest of a run.
func (g *gatherer) chainTargets(s *source, chain []*x509.Certificate, stapled bool) []revTarget {
	var ts []revTarget
	seen := map[int]bool{}
	for i := 0; i >= 0 && !seen[i]; {
		seen[i] = true
		next := presentedIssuer(chain, i)
		t, ok := g.target(s, chain, i, next, i == 0 && stapled)
		switch {
		case ok:
			ts = append(ts, t)
		case t.why != "" && i == 0:
			s.Certs[0].Net.RevErr = t.why
		case t.why != "":
			g.note(s, chain[i], "revocation not checked: "+t.why)
		}
		i = next // a self-signed root ends the walk: it names no other issuer
	}
	return ts
}

// target says whether chain[i] is to be asked about, and against which
// issuer: chain[next] when the chain holds it (next >= 0), else one of
// --ca, else the trusted root it verifies to.
func (g *gatherer) target(s *source, chain []*x509.Certificate, i, next int, stapled bool) (revTarget, bool) {
	cert := chain[i]
	switch {
	case selfSigned(cert):
		g.note(s, cert, "revocation not checked: self-signed")
		return revTarget{}, false
	case !stapled && len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0:
		g.note(s, cert, "revocation not checked: the certificate names no OCSP responder nor CRL")
		return revTarget{}, false
	}
	if next >= 0 {
		return revTarget{i: i, issuer: chain[next]}, true
	}
	if issuer := issuerOf(cert, chain, g.roots, g.signers); issuer != nil {
		return revTarget{i: i, issuer: issuer}, true
	}
	return revTarget{why: "its issuer is neither presented nor trusted, so no OCSP or CRL answer can be verified"}, false
}

// note adds a -v line about cert of s.
func (g *gatherer) note(s *source, cert *x509.Certificate, text string) {
	if g.env.Verbose > 0 {
		g.mu.Lock()
		s.Notes = append(s.Notes, s.Name+" ("+cert.Subject.CommonName+"): "+text)
		g.mu.Unlock()
	}
}

// revoke asks about the targets side by side and records each answer on
// its certificate. staple is about chain[0] only.
func (g *gatherer) revoke(ctx context.Context, s *source, chain []*x509.Certificate, ts []revTarget, staple []byte) {
	if len(ts) == 0 {
		return
	}
	pairs := make([]revocation.Pair, len(ts))
	for k, t := range ts {
		pairs[k] = revocation.Pair{Cert: chain[t.i], Issuer: t.issuer}
	}
	if ts[0].i != 0 {
		staple = nil
	}
	for k, r := range g.net.checker.CheckChain(ctx, pairs, staple) {
		g.record(s, chain[ts[k].i], &s.Certs[ts[k].i].Net, r)
	}
}

// record turns one answer into the facts of its certificate and, at -v,
// a line. A revoked CA certificate is named by its subject: it is what
// the server's operator must replace, in every chain it is in.
func (g *gatherer) record(s *source, cert *x509.Certificate, f *netFacts, r revocation.Result) {
	switch r.Status {
	case revocation.Unchecked:
		g.note(s, cert, "revocation not checked: the certificate names no http OCSP responder nor CRL")
	case revocation.Failed:
		f.RevErr = r.Err.Error()
		g.note(s, cert, "revocation not checked: "+f.RevErr)
	case revocation.Revoked:
		when := r.RevokedAt.UTC().Format("2006-01-02 15:04 MST")
		reason := ""
		if r.Reason != "" {
			reason = " (" + r.Reason + ")"
		}
		if cert.IsCA {
			f.Revoked = "intermediate '" + subjectName(cert) + "' revoked" + reason + " per " + r.Via + ", on " + when
		} else {
			f.Revoked = "REVOKED " + when + reason + ", says the " + r.Via
		}
		g.note(s, cert, "revocation: "+f.Revoked)
	case revocation.Good:
		f.RevOK = "not revoked (" + r.Via + ")"
		if r.Err != nil {
			g.note(s, cert, "revocation: "+r.Err.Error()+"; answered by the "+r.Via)
		}
		g.note(s, cert, "revocation: "+f.RevOK)
	}
}

// subjectName is "CN=..." of a certificate, or its whole subject when it
// has no common name.
func subjectName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

// selfSigned: its own issuer, signed by its own key (a version-1 root or
// a leaf without the CA flag too; an old root signed with SHA-1, which
// Go will not verify, counts). It is a trust anchor or not trusted at
// all; either way no one above it can revoke it.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// presentedIssuer is the position in chain of the CA that signed
// chain[i], -1 when none did.
func presentedIssuer(chain []*x509.Certificate, i int) int {
	for j, c := range chain {
		if j != i && c.IsCA && chain[i].CheckSignatureFrom(c) == nil {
			return j
		}
	}
	return -1
}

// issuerOf finds the certificate that signed cert among extra CAs, or
// the trusted root (or presented certificate) its chain verifies to.
func issuerOf(cert *x509.Certificate, chain []*x509.Certificate, roots *x509.CertPool, extra []*x509.Certificate) *x509.Certificate {
	for _, c := range extra {
		if c.IsCA && cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	inter := x509.NewCertPool()
	for _, c := range chain {
		if c != cert {
			inter.AddCert(c)
		}
	}
	// Verified at mid-life: an expired certificate still has an issuer.
	mid := cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) / 2)
	chains, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: mid, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil || len(chains) == 0 || len(chains[0]) < 2 {
		return nil
	}
	return chains[0][1]
}
