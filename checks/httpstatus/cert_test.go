package httpstatus

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// connectProxy is an HTTP proxy on loopback that only tunnels (CONNECT),
// sending names under .test to 127.0.0.1; it records what was asked.
type connectProxy struct {
	addr string
	mu   sync.Mutex
	seen []string // CONNECT targets, with the Proxy-Authorization given
}

func startConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.addr = rawListen(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != http.MethodConnect {
			io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
			return
		}
		p.mu.Lock()
		p.seen = append(p.seen, strings.TrimSpace(req.Host+" "+req.Header.Get("Proxy-Authorization")))
		p.mu.Unlock()
		host, port, _ := net.SplitHostPort(req.Host)
		if strings.HasSuffix(host, ".test") {
			host = "127.0.0.1"
		}
		up, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, br)
		io.Copy(c, up)
	})
	return p
}

func (p *connectProxy) tunnels() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// TestCertOnly: -C alone is check_cert_expiry's handshake (pkg/tlsprobe)
// with the request's semantics: --ca-file or the system roots, the
// URL's host or --sni, --no-sni, --insecure, --tls-min, -J/-K, -I, and
// the proxy the request would take.
func TestCertOnly(t *testing.T) {
	pki := newPKI(t)
	now := time.Now()
	var mu sync.Mutex
	var snis []string
	serve := func(name string, names []string, cfg *tls.Config) string {
		pair, _, _ := pki.leaf(t, name, names, now.Add(-time.Hour), now.Add(40*24*time.Hour), false, x509.ExtKeyUsageServerAuth)
		cfg.Certificates = []tls.Certificate{pair}
		cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			snis = append(snis, name+"="+h.ServerName)
			mu.Unlock()
			return nil, nil
		}
		return startServer(t, cfg)
	}
	good := serve("good", []string{"localhost", "127.0.0.1", "www.example.test"}, &tls.Config{})
	nosni := serve("nosni", []string{"www.example.test"}, &tls.Config{})
	old := serve("old", []string{"127.0.0.1"}, &tls.Config{MaxVersion: tls.VersionTLS12})
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(pki.ca)
	mutual := serve("mutual", []string{"127.0.0.1"}, &tls.Config{MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs})
	_, clientCert, clientKey := pki.leaf(t, "client", []string{"nagios-client"}, now.Add(-time.Hour), now.Add(time.Hour), false, x509.ExtKeyUsageClientAuth)
	gp := port(t, good)
	ca := pki.CAFile
	px := startConnectProxy(t)
	named := "https://www.example.test:" + gp + "/"

	runMatrix(t, []matrixCase{
		{"ok", []string{"-u", good + "/", "--ca-file", ca, "-C", "30,7"}, 0, []string{`^HTTP OK - https://127\.0\.0\.1:\d+/ - certificate 'localhost' expires in 3\d days \(\d{4}-\d\d-\d\d\) \| cert_days=3\d(\.\d\d?)?;30:;7: time=`}, nil},
		{"system roots do not know the CA", []string{"-u", good + "/", "-C", "30"}, 2,
			[]string{`127\.0\.0\.1:\d+: certificate 'localhost' is signed by an unknown authority "hindsight test CA" \(missing intermediate\? use --ca-file\)`}, nil},
		{"--insecure", []string{"-u", good + "/", "--insecure", "-C", "30"}, 0, []string{`expires in 3\d`}, nil},
		{"name mismatch", []string{"-u", "https://localhost.test:" + gp + "/", "-I", "127.0.0.1", "--ca-file", ca, "-C", "30"}, 2,
			[]string{`certificate is for localhost, www\.example\.test, 127\.0\.0\.1, not localhost\.test \(name mismatch\)`}, nil},
		{"--sni names the certificate", []string{"-u", good + "/", "--sni=www.example.test", "--ca-file", ca, "-C", "30"}, 0, nil, nil},
		{"--sni of another name", []string{"-u", good + "/", "--sni=other.example", "--ca-file", ca, "-C", "30"}, 2, []string{`not other\.example \(name mismatch\)`}, nil},
		{"--no-sni verifies the host", []string{"-u", "https://www.example.test:" + port(t, nosni) + "/", "-I", "127.0.0.1", "--no-sni", "--ca-file", ca, "-C", "30"}, 0, nil, nil},
		{"--no-sni, name mismatch", []string{"-u", "https://other.example:" + port(t, nosni) + "/", "-I", "127.0.0.1", "--no-sni", "--ca-file", ca, "-C", "30"}, 2, []string{`not other\.example \(name mismatch\)`}, nil},
		{"--tls-min 1.3 against a 1.2 server", []string{"-u", old + "/", "--ca-file", ca, "--tls-min", "1.3", "-C", "30"}, 2, []string{`TLS handshake: .*(protocol version|alert)`}, nil},
		{"--tls-min 1.2", []string{"-u", old + "/", "--ca-file", ca, "--tls-min", "1.2", "-C", "30"}, 0, nil, nil},
		{"client certificate refused", []string{"-u", mutual + "/", "--ca-file", ca, "-C", "30"}, 2,
			[]string{`127\.0\.0\.1:\d+: TLS handshake: the server refused the connection: handshake failure`}, nil},
		{"client certificate", []string{"-u", mutual + "/", "--ca-file", ca, "-J", clientCert, "-K", clientKey, "-C", "30"}, 0, nil, nil},
		{"--proxy", []string{"-u", named, "--proxy", "http://nagios:s3cret@" + px.addr, "--ca-file", ca, "-C", "30", "-v"}, 0,
			[]string{`certificate 'localhost' expires in 3\d`, `from www\.example\.test:\d+ via proxy 127\.0\.0\.1:\d+`}, []string{"s3cret"}},
		{"--proxy refused", []string{"-u", named, "--proxy", "http://" + closedAddr(t), "--ca-file", ca, "-C", "30"}, 2,
			[]string{`www\.example\.test:\d+: proxy 127\.0\.0\.1:\d+: connection refused`}, nil},
		{"socks5 proxy", []string{"-u", named, "--proxy", "socks5://" + px.addr, "--ca-file", ca, "-C", "30"}, 2,
			[]string{`a certificate check goes through an http:// proxy \(CONNECT\), not socks5://`}, nil},
		// -I ADDR:PORT is where the tunnel goes, not where the proxy is.
		{"--proxy with -I: the tunnel goes to the address", []string{"-u", "https://www.example.org:8443/", "-I", "127.0.0.1:" + gp, "--proxy", "http://" + px.addr, "--sni=www.example.test", "--ca-file", ca, "-C", "30", "-v"}, 0,
			[]string{`from 127\.0\.0\.1:\d+ via proxy 127\.0\.0\.1:\d+`}, nil},
		{"--no-proxy", []string{"-u", named, "--proxy", "http://" + px.addr, "--no-proxy", "-I", "127.0.0.1", "--ca-file", ca, "-C", "30"}, 0, nil, nil},
	})
	if got := px.tunnels(); len(got) != 2 || got[0] != "www.example.test:"+gp+" Basic bmFnaW9zOnMzY3JldA==" || got[1] != "127.0.0.1:"+gp {
		t.Errorf("the proxy saw %q", got)
	}

	// The environment's proxy, lowercase first, and no_proxy.
	t.Setenv("https_proxy", "http://"+px.addr)
	t.Setenv("HTTPS_PROXY", "http://"+closedAddr(t))
	t.Setenv("no_proxy", "other.example")
	t.Setenv("NO_PROXY", "www.example.test")
	runMatrix(t, []matrixCase{
		{"https_proxy", []string{"-u", named, "--ca-file", ca, "-C", "30"}, 0, nil, nil},
		{"loopback is never proxied", []string{"-u", good + "/", "--ca-file", ca, "-C", "30"}, 0, nil, nil},
	})
	if got := px.tunnels(); len(got) != 3 || got[2] != "www.example.test:"+gp {
		t.Errorf("the proxy saw %q", got)
	}
	t.Setenv("no_proxy", ".example.test")
	runMatrix(t, []matrixCase{
		{"no_proxy: direct, so the name does not resolve", []string{"-u", named, "--ca-file", ca, "-C", "30"}, 2, []string{`www\.example\.test`}, nil},
		{"no_proxy with -I", []string{"-u", named, "-I", "127.0.0.1", "--ca-file", ca, "-C", "30"}, 0, nil, nil},
	})
	if got := px.tunnels(); len(got) != 3 {
		t.Errorf("no_proxy: the proxy saw %q", got)
	}

	// A request (not -C) through the tunnel: the TLS that fails is the
	// server's, not the proxy's.
	runMatrix(t, []matrixCase{
		{"request through --proxy, unknown CA", []string{"-u", named, "--proxy", "http://" + px.addr}, 2,
			[]string{`TLS handshake with www\.example\.test:\d+ \(through proxy 127\.0\.0\.1:\d+\) failed: certificate 'localhost' is signed by an unknown authority`}, nil},
	})

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"good=localhost.test", "good=www.example.test", "good=other.example", "good=", "nosni="} {
		if !contains(snis, want) {
			t.Errorf("no handshake with SNI %q: %q", want, snis)
		}
	}
	for _, s := range snis {
		if strings.HasPrefix(s, "nosni=") && s != "nosni=" {
			t.Errorf("--no-sni sent %q", s)
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
