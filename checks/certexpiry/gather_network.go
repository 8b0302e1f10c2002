package certexpiry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	n.minTLS = tlsprobe.Versions[o.MinTLSVersion]
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
// side: revocation of the served leaf, the old TLS versions.
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
			g.revoke(ctx, leaf, res.Chain, res.OCSPStaple, s)
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
				leaf.OldTLS = fmt.Sprintf("the server accepts %s (below --min-tls-version %s)", v, g.opts.MinTLSVersion)
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

// revokeFile checks the leaves of a file (--check-revocation), each
// against an issuer in the same file, --ca or --ca-file.
func (g *gatherer) revokeFile(s *source, chain []*x509.Certificate) {
	if !g.net.revFiles || g.net.checker == nil {
		return
	}
	ctx, cancel := g.netBudget()
	defer cancel()
	for i, c := range chain {
		if c.IsCA || i >= len(s.Certs) {
			continue
		}
		others := append(append([]*x509.Certificate(nil), chain[:i]...), chain[i+1:]...)
		g.revoke(ctx, &s.Certs[i].Net, append([]*x509.Certificate{c}, others...), nil, s)
	}
}

// revoke asks about chain[0] and records the answer in f. The issuer is
// looked for only when there is something to ask: verifying against the
// system roots costs more than the rest of a run.
func (g *gatherer) revoke(ctx context.Context, f *netFacts, chain []*x509.Certificate, staple []byte, s *source) {
	cert := chain[0]
	note := func(text string) {
		if g.env.Verbose > 0 {
			g.mu.Lock()
			s.Notes = append(s.Notes, s.Name+" ("+cert.Subject.CommonName+"): "+text)
			g.mu.Unlock()
		}
	}
	if len(staple) == 0 && len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
		note("revocation not checked: the certificate names no OCSP responder nor CRL")
		return
	}
	issuer := issuerOf(chain, g.roots, g.signers)
	if issuer == nil {
		f.RevErr = "its issuer is neither presented nor trusted, so no OCSP or CRL answer can be verified"
		return
	}
	r := g.net.checker.Check(ctx, cert, issuer, staple)
	switch r.Status {
	case revocation.Unchecked:
		note("revocation not checked: the certificate names no http OCSP responder nor CRL")
	case revocation.Failed:
		f.RevErr = r.Err.Error()
	case revocation.Revoked:
		f.Revoked = "REVOKED " + r.RevokedAt.UTC().Format("2006-01-02 15:04 MST")
		if r.Reason != "" {
			f.Revoked += " (" + r.Reason + ")"
		}
		f.Revoked += ", says the " + r.Via
	case revocation.Good:
		f.RevOK = "not revoked (" + r.Via + ")"
		if r.Err != nil {
			note("revocation: " + r.Err.Error() + "; answered by the " + r.Via)
		}
	}
}

// issuerOf finds the certificate that signed chain[0]: in the chain,
// among extra CAs, or the trusted root its chain verifies to.
func issuerOf(chain []*x509.Certificate, roots *x509.CertPool, extra []*x509.Certificate) *x509.Certificate {
	leaf := chain[0]
	for _, c := range append(append([]*x509.Certificate(nil), chain[1:]...), extra...) {
		if c.IsCA && leaf.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// Verified at mid-life: an expired leaf still has an issuer.
	mid := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: mid, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil || len(chains) == 0 || len(chains[0]) < 2 {
		return nil
	}
	return chains[0][1]
}
