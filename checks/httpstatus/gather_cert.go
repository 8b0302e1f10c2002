package httpstatus

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// fetchCert is -C alone: a handshake, no request (a URL behind a tarpit
// would otherwise time out before the certificate is seen;
// monitoring-plugins #2162). The handshake is check_cert_expiry's
// (pkg/tlsprobe: SNI, client certificate, CONNECT through the proxy the
// request would take); the chain is then verified as the request would
// verify it: to --ca-file or the system roots, for --sni or the URL's
// host, unless --insecure.
func (o *Options) fetchCert(ctx context.Context, client *httpprobe.Client, cfg httpprobe.Config, opts httpprobe.TLSOptions, t target) fetched {
	if t.url.Scheme != "https" {
		return fetched{} // judged: -C needs https
	}
	start := time.Now()
	pt, err := certTarget(cfg, opts, t.url)
	if err != nil {
		return fetched{Fail: failureOf(err)}
	}
	var d tlsprobe.Dialer = mappedDialer{client}
	if pt.Proxy != nil {
		// The proxy is dialed as named; -I and --resolve say where the
		// tunnel goes.
		d = &net.Dialer{}
		hostport := net.JoinHostPort(pt.Host, pt.Port)
		if to := client.Target(ctx, hostport); to != hostport {
			pt.Addr, pt.Port, _ = net.SplitHostPort(to)
		}
	}
	res, err := tlsprobe.Probe(ctx, d, pt)
	if err != nil {
		return fetched{Fail: failureOf(fmt.Errorf("%s: %w", res.Addr, err))}
	}
	took := time.Since(start)
	if !opts.Insecure {
		name := opts.SNI
		if name == "" {
			name = t.url.Hostname()
		}
		if err := httpprobe.VerifyChain(res.Chain, opts.RootCAs, name, time.Now()); err != nil {
			return fetched{Fail: failureOf(&verifyError{addr: res.Addr, err: err})}
		}
	}
	return fetched{Cert: &res, Took: took}
}

// certTarget is the endpoint of u for tlsprobe, with the proxy a
// request for u would take.
func certTarget(cfg httpprobe.Config, opts httpprobe.TLSOptions, u *url.URL) (tlsprobe.Target, error) {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	pt := tlsprobe.Target{Host: u.Hostname(), Port: port, SNI: opts.SNI, NoSNI: opts.NoSNI,
		Network: cfg.Network, ClientCert: opts.ClientCert, MinVersion: opts.MinVersion}
	if cfg.Proxy == nil {
		return pt, nil
	}
	p, err := cfg.Proxy(&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}})
	switch {
	case err != nil:
		return pt, fmt.Errorf("proxy: %w", err)
	case p != nil && p.Scheme != "http":
		return pt, fmt.Errorf("proxy %s: a certificate check goes through an http:// proxy (CONNECT), not %s://", p.Host, p.Scheme)
	}
	pt.Proxy = p
	return pt, nil
}

// mappedDialer dials where the request's connection would go: -I and
// --resolve apply to the handshake as to the request.
type mappedDialer struct{ c *httpprobe.Client }

func (d mappedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.c.Target(ctx, addr))
}

// verifyError is a chain the request would have refused, in the words
// of the describer both plugins share; the cause is kept for the hints
// of failureOf.
type verifyError struct {
	addr string
	err  error
}

func (e *verifyError) Error() string {
	return e.addr + ": " + tlsprobe.DescribeError(e.err, time.Now())
}

func (e *verifyError) Unwrap() error { return e.err }
