package certexpiry

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"golang.org/x/crypto/ocsp"
)

// testProxy is an HTTP proxy on loopback: CONNECT tunnels and plain
// forwarded requests, counted.
type testProxy struct {
	addr              string
	tunnels, forwards atomic.Int64
	lastTarget        atomic.Value
}

func startProxy(t *testing.T) *testProxy {
	p := &testProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			p.forwards.Add(1)
			r.RequestURI = ""
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		p.tunnels.Add(1)
		p.lastTarget.Store(r.Host)
		up, err := net.DialTimeout("tcp", r.Host, 2*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, c)
		io.Copy(c, up)
	}))
	t.Cleanup(srv.Close)
	p.addr = srv.Listener.Addr().String()
	return p
}

// TestProxy: endpoints and revocation fetches go through --proxy, or
// the environment's proxy (lowercase first, no_proxy honoured).
func TestProxy(t *testing.T) {
	p := newPKI(t)
	ocspSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, "bad", 400)
			return
		}
		der, _ := ocsp.CreateResponse(p.inter.Cert, p.inter.Cert, ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber,
			ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}, p.inter.Key)
		w.Write(der)
	}))
	t.Cleanup(ocspSrv.Close)
	leaf := p.leaf(t, 60.5, 90, func(s *certtest.Spec) { s.OCSP = []string{ocspSrv.URL} })
	target := certtest.ServeTLS(t, leaf.TLS(p.inter))
	ca := []string{"--ca-file", p.rootFile}

	px := startProxy(t)
	code, out := run(t, append([]string{"-H", target, "--proxy", "http://user:s3cret@" + px.addr}, ca...)...)
	expect(t, "--proxy", code, out, 0, "not revoked (OCSP responder "+ocspSrv.URL+")")
	if px.tunnels.Load() != 1 || px.forwards.Load() != 1 || px.lastTarget.Load() != target {
		t.Errorf("--proxy: %d tunnels (last to %v), %d forwarded requests; want 1 and 1", px.tunnels.Load(), px.lastTarget.Load(), px.forwards.Load())
	}
	if contains(out, "s3cret") {
		t.Errorf("the proxy password is shown:\n%s", out)
	}

	// The environment's proxy is for names: loopback addresses and
	// "localhost" are never proxied (httpproxy's rule, as in net/http),
	// so the target is a name, connected to on loopback (-I).
	_, port, _ := net.SplitHostPort(target)
	named := []string{"-H", "svc.test:" + port, "-I", "127.0.0.1", "--no-revocation"}
	t.Setenv("https_proxy", "http://"+px.addr)
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1") // refused: must not be used
	t.Setenv("no_proxy", "other.test")
	t.Setenv("NO_PROXY", "svc.test") // lost to no_proxy
	code, out = run(t, append(named, ca...)...)
	expect(t, "https_proxy", code, out, 0)
	if px.tunnels.Load() != 2 {
		t.Errorf("https_proxy: %d tunnels, want 2", px.tunnels.Load())
	}
	code, out = run(t, append(named, append(ca, "--no-proxy")...)...)
	expect(t, "--no-proxy", code, out, 0)
	for _, np := range []string{"svc.test", ".test", "*.test", "svc.test:" + port, "localhost,127.0.0.0/8,svc.test"} {
		t.Setenv("no_proxy", np)
		code, out = run(t, append(named, ca...)...)
		expect(t, "no_proxy="+np, code, out, 0)
	}
	code, out = run(t, append([]string{"-H", target, "--no-revocation"}, ca...)...)
	expect(t, "loopback", code, out, 0)
	if px.tunnels.Load() != 2 {
		t.Errorf("--no-proxy, no_proxy, loopback: %d tunnels, want still 2", px.tunnels.Load())
	}
	t.Setenv("no_proxy", "svc.test:1") // another port: proxied
	code, out = run(t, append(named, ca...)...)
	expect(t, "no_proxy for another port", code, out, 0)
	if px.tunnels.Load() != 3 {
		t.Errorf("no_proxy for another port: %d tunnels, want 3", px.tunnels.Load())
	}
	t.Setenv("no_proxy", "")

	// A proxy that refuses is CRITICAL naming it.
	refused := closedPort(t)
	code, out = run(t, append([]string{"-H", target, "--proxy", refused, "--no-revocation"}, ca...)...)
	expect(t, "proxy refused", code, out, 2, target+": proxy "+refused+": connection refused")
	code, out = run(t, "-H", target, "--proxy", "socks5://"+px.addr)
	expect(t, "socks5", code, out, 3, `invalid --proxy: scheme "socks5" is not supported`)
}

// TestProxySTARTTLS: a STARTTLS opening goes through a CONNECT tunnel
// too, the server's greeting intact.
func TestProxySTARTTLS(t *testing.T) {
	p := newPKI(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{p.leaf(t, 60.5, 90).TLS(p.inter)}}
	smtp := listen(t, func(c net.Conn) {
		io.WriteString(c, "220 mx.test ESMTP\r\n")
		buf := make([]byte, 512)
		c.Read(buf) // EHLO
		io.WriteString(c, "250-mx.test\r\n250 STARTTLS\r\n")
		c.Read(buf) // STARTTLS
		io.WriteString(c, "220 go ahead\r\n")
		tls.Server(c, cfg).Handshake()
	})
	px := startProxy(t)
	code, out := run(t, "-H", smtp, "-P", "smtp", "--proxy", px.addr, "--ca-file", p.rootFile)
	expect(t, "smtp through a proxy", code, out, 0, "[OK] "+smtp+"#0 (svc.test)")
	if px.tunnels.Load() != 1 {
		t.Errorf("%d tunnels, want 1", px.tunnels.Load())
	}
}

// TestClientCert: a server that requires a client certificate gets one
// with --client-cert and --client-key (or one file holding both).
func TestClientCert(t *testing.T) {
	p := newPKI(t)
	clientCA := certtest.New(t, certtest.Spec{CN: "Client CA", CA: true})
	client := certtest.New(t, certtest.Spec{CN: "nagios", Parent: clientCA})
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	var seen atomic.Value
	srv := serveTLSConfig(t, &tls.Config{Certificates: []tls.Certificate{p.leaf(t, 60.5, 90).TLS(p.inter)},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MaxVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				seen.Store(cs.PeerCertificates[0].Subject.CommonName)
			}
			return nil
		}})
	dir := t.TempDir()
	certFile := write(t, filepath.Join(dir, "client.pem"), client.PEM())
	keyFile := write(t, filepath.Join(dir, "client.key"), client.KeyPEM())
	both := write(t, filepath.Join(dir, "both.pem"), append(client.PEM(), client.KeyPEM()...))
	ca := []string{"--ca-file", p.rootFile, "--no-revocation"}

	code, out := run(t, append([]string{"-H", srv}, ca...)...)
	expect(t, "no client certificate", code, out, 2, srv+": TLS handshake: ")
	code, out = run(t, append([]string{"-H", srv, "--client-cert", certFile, "--client-key", keyFile}, ca...)...)
	expect(t, "--client-cert --client-key", code, out, 0, "[OK] "+srv+"#0 (svc.test)")
	if seen.Load() != "nagios" {
		t.Errorf("the server saw client certificate %v", seen.Load())
	}
	code, out = run(t, append([]string{"-H", srv, "--clientcert", both}, ca...)...)
	expect(t, "check_ssl_cert's --clientcert, key in the same file", code, out, 0)
	code, out = run(t, append([]string{"-H", srv, "--client-cert", certFile}, ca...)...)
	expect(t, "key missing", code, out, 3, "--client-cert "+certFile+": found a certificate rather than a key in the PEM for the private key (give the key with --client-key)")
	code, out = run(t, append([]string{"-H", srv, "--client-cert", certFile, "--client-key", filepath.Join(dir, "missing.key")}, ca...)...)
	expect(t, "key file missing", code, out, 3, "--client-key "+filepath.Join(dir, "missing.key")+": ")
	code, out = run(t, "-H", srv, "--client-key", keyFile)
	expect(t, "key alone", code, out, 3, "--client-key needs --client-cert")
}

// TestMinTLSVersion: a server that still accepts TLS 1.0/1.1 is a
// finding when --min-tls-version asks; one that does not is OK.
func TestMinTLSVersion(t *testing.T) {
	p := newPKI(t)
	cert := p.leaf(t, 60.5, 90).TLS(p.inter)
	old := serveTLSConfig(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10})
	modern := certtest.ServeTLS(t, cert) // TLS 1.2 and 1.3
	ca := []string{"--ca-file", p.rootFile, "--no-revocation"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"old server, 1.2 asked", []string{"-H", old, "--min-tls-version", "1.2"}, 2, "the server accepts TLS 1.1 (below --min-tls-version 1.2)"},
		{"old server, check_ssl_cert's --require-no-tls1_1", []string{"-H", old, "--require-no-tls1_1"}, 2, "the server accepts TLS 1.1"},
		{"old server, --require-no-tls1", []string{"-H", old, "--require-no-tls1"}, 2, "the server accepts TLS 1.0 (below --min-tls-version 1.1)"},
		{"old server, not asked", []string{"-H", old}, 0, ""},
		{"modern server, 1.2 asked", []string{"-H", modern, "--min-tls-version", "1.2"}, 0, ""},
		{"modern server, 1.3 asked", []string{"-H", modern, "--min-tls-version", "1.3"}, 2, "the server accepts TLS 1.2 (below --min-tls-version 1.3)"},
		{"bad version", []string{"-H", modern, "--min-tls-version", "1.0"}, 3, `invalid --min-tls-version "1.0": 1.1, 1.2 or 1.3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run(t, append(tt.args, ca...)...)
			expect(t, tt.name, code, out, tt.code, tt.want)
		})
	}
}

// TestNetOptions: combinations that cannot mean anything are refused
// before anything is opened.
func TestNetOptions(t *testing.T) {
	for args, want := range map[string]string{
		"-H a.test --no-revocation --check-revocation": "--no-revocation and --check-revocation exclude each other",
		"-H a.test --proxy p.test:3128 --no-proxy":     "--proxy and --no-proxy exclude each other",
		"-H a.test --proxy http://p.test":              "invalid --proxy: no port: use http://HOST:PORT",
		"-H a.test --min-tls-version 1.4":              `invalid --min-tls-version "1.4": 1.1, 1.2 or 1.3`,
		"-H a.test --revocation-error-state bad":       "revocation-error-state",
	} {
		_, msg := parse(t, strings.Fields(args)...)
		if !strings.Contains(msg, want) {
			t.Errorf("%s: %q, want %q", args, msg, want)
		}
	}
}
