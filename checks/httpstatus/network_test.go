package httpstatus

// Tests of the network side against loopback servers written for the
// purpose: hostile answers (endless header or body), HTTP versions, and
// the differences from check_http and check_curl that were fixed.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// rawListen serves each connection with handle, for answers net/http's
// server would not send; it returns host:port.
func rawListen(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return testutil.Serve(t, "127.0.0.1:0", func(c net.Conn) { handle(c, bufio.NewReader(c)) })
}

// answerWith reads one request, then writes head and, while the client
// reads, more from next (nil: nothing more), then closes.
func answerWith(head string, next func() string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		req.Body.Close()
		if _, err := io.WriteString(c, head); err != nil || next == nil {
			return
		}
		for {
			if _, err := io.WriteString(c, next()); err != nil {
				return
			}
		}
	}
}

// handlerServer serves h on loopback; it returns http://host:port.
func handlerServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = nilLogger()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// A server sending an endless header or body ends the run well within
// its deadline, in bounded memory, with nothing on stderr.
func TestHostileServers(t *testing.T) {
	filler := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat("b", 4096))
	drip := func() string { time.Sleep(10 * time.Millisecond); return "X-Drip: a\r\n" }
	bin := testutil.Binary(t, "check_http_status")
	for _, tc := range []struct {
		name    string
		handle  func(net.Conn, *bufio.Reader)
		args    []string
		code    int
		want    string
		maxTime time.Duration
	}{
		{"endless header", answerWith("HTTP/1.1 200 OK\r\n", func() string { return filler }), []string{"-t", "10"},
			2, "headers exceeded", 3 * time.Second},
		{"endless body", answerWith("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", func() string { return chunk }), []string{"-t", "10"},
			0, "over 4MiB (read no further)", 3 * time.Second},
		{"endless body, larger --max-body", answerWith("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", func() string { return chunk }), []string{"-t", "10", "--max-body", "16MiB"},
			0, "over 16MiB (read no further)", 5 * time.Second},
		{"header dripping past the deadline", answerWith("HTTP/1.1 200 OK\r\n", drip), []string{"-t", "2"},
			2, "header did not complete within", 2500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawListen(t, tc.handle)
			res := testutil.RunMeasured(t, bin, append([]string{"-u", "http://" + addr + "/"}, tc.args...)...)
			if res.Code != tc.code || !strings.Contains(res.Stdout, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", res.Code, tc.code, tc.want, res.Stdout)
			}
			if res.Elapsed > tc.maxTime {
				t.Errorf("took %v, want under %v", res.Elapsed, tc.maxTime)
			}
			if res.MaxRSS > 64<<20 {
				t.Errorf("peak RSS %d MiB, over 64 MiB", res.MaxRSS>>20)
			}
			if res.Stderr != "" {
				t.Errorf("stderr: %q", res.Stderr)
			}
			t.Logf("%v, peak RSS %.1f MiB", res.Elapsed.Round(time.Millisecond), float64(res.MaxRSS)/(1<<20))
		})
	}
}

func protoEcho(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "proto=%s host=%s\n", r.Proto, r.Host)
}

func TestHTTPVersions(t *testing.T) {
	h2only := httptest.NewUnstartedServer(http.HandlerFunc(protoEcho))
	h2only.Config.ErrorLog = nilLogger()
	h2only.EnableHTTP2 = true
	h2only.Config.Protocols = new(http.Protocols)
	h2only.Config.Protocols.SetHTTP2(true)
	h2only.StartTLS()
	t.Cleanup(h2only.Close)

	both := httptest.NewUnstartedServer(http.HandlerFunc(protoEcho))
	both.Config.ErrorLog = nilLogger()
	both.EnableHTTP2 = true
	both.StartTLS()
	t.Cleanup(both.Close)

	h2c := httptest.NewUnstartedServer(http.HandlerFunc(protoEcho))
	h2c.Config.ErrorLog = nilLogger()
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	t.Cleanup(h2c.Close)

	plain := handlerServer(t, protoEcho)

	h1 := httptest.NewUnstartedServer(http.HandlerFunc(protoEcho))
	h1.Config.ErrorLog = nilLogger()
	h1.StartTLS()
	t.Cleanup(h1.Close)

	bigHeader := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3000 {
			w.Header().Add("X-Filler", strings.Repeat("a", 1000))
		}
	}))
	bigHeader.Config.ErrorLog = nilLogger()
	bigHeader.EnableHTTP2 = true
	bigHeader.StartTLS()
	t.Cleanup(bigHeader.Close)

	runMatrix(t, []matrixCase{
		{"HTTP/2 only server", []string{"-u", h2only.URL, "--insecure", "-s", "proto=HTTP/2.0", "-v"}, 0,
			[]string{`(?m)^https://127\.0\.0\.1:\d+/ HTTP/2 200 from `}, []string{"HTTP/2.0"}},
		// The status line reads as curl's, for -d as in -v.
		{"-d matches an HTTP/2 status line as curl writes it", []string{"-u", h2only.URL, "--insecure", "-d", "HTTP/2 200"}, 0, nil, nil},
		{"-d does not see net/http's HTTP/2.0", []string{"-u", h2only.URL, "--insecure", "-d", "HTTP/2.0"}, 2, nil, nil},
		{"-d matches an HTTP/1.1 status line", []string{"-u", h1.URL, "--insecure", "-d", "HTTP/1.1 200 OK", "-v"}, 0,
			[]string{`(?m)^https://127\.0\.0\.1:\d+/ HTTP/1\.1 200 OK from `}, nil},
		{"auto picks HTTP/2 by ALPN", []string{"-u", both.URL, "--insecure", "-s", "proto=HTTP/2.0"}, 0, nil, nil},
		{"--http-version 1.1 over TLS", []string{"-u", both.URL, "--insecure", "--http-version", "1.1", "-s", "proto=HTTP/1.1"}, 0, nil, nil},
		{"--http-version 1.1 to an HTTP/2 only server", []string{"-u", h2only.URL, "--insecure", "--http-version", "1.1"}, 2, nil, nil},
		{"--http-version 2 over TLS", []string{"-u", both.URL, "--insecure", "--http-version", "2", "-s", "proto=HTTP/2.0"}, 0, nil, nil},
		{"--http-version 2 over http is h2c", []string{"-u", h2c.URL, "--http-version", "2", "-s", "proto=HTTP/2.0"}, 0, nil, nil},
		{"auto over http is HTTP/1.1", []string{"-u", plain, "-s", "proto=HTTP/1.1"}, 0, nil, nil},
		{"--http-version 1.0", []string{"-u", plain, "--http-version", "1.0", "-s", "proto=HTTP/1.0", "-v"}, 0, []string{`HTTP/1\.[01] 200 OK`}, nil},
		{"--http-version 1.0 over TLS", []string{"-u", both.URL, "--insecure", "--http-version", "1.0", "-s", "proto=HTTP/1.0", "-v"}, 0,
			[]string{`TLS 1\.3`}, nil},
		{"--http-version 2 to a server without HTTP/2", []string{"-u", h1.URL, "--insecure", "--http-version", "2"}, 2,
			[]string{`no application protocol \(it offers no HTTP/2: --http-version auto\)`}, nil},
		{"HTTP/2 header over the bound", []string{"-u", bigHeader.URL, "--insecure"}, 2, []string{`response header list larger than advertised limit`}, nil},
		{"--http-version 3", []string{"-u", plain, "--http-version", "3"}, 3, []string{`--http-version: invalid HTTP version "3"`}, nil},
	})
}

// -f sticky keeps the address of the first hop and takes the port of
// the Location; -f stickyport keeps both. The Location's host does not
// resolve: following it anywhere else fails.
func TestStickyRedirects(t *testing.T) {
	served := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "served by %s host=%s\n", name, r.Host)
		}
	}
	b := handlerServer(t, served("B"))
	bPort := port(t, b)
	a := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "http://b.invalid:"+bPort+"/end", http.StatusFound)
			return
		}
		if r.URL.Path == "/local" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		if r.URL.Path == "/upper" { // the same host, in capitals
			http.Redirect(w, r, "http://"+strings.ToUpper(r.Host)+"/end", http.StatusFound)
			return
		}
		served("A")(w, r)
	})
	runMatrix(t, []matrixCase{
		{"follow goes to the Location's host", []string{"-u", a + "/start", "-f", "follow"}, 2, []string{`DNS lookup of b\.invalid`}, nil},
		{"sticky keeps the address", []string{"-u", a + "/start", "-f", "sticky", "-s", "served by B host=b.invalid:" + bPort}, 0,
			[]string{`200 OK \(after 1 redirect to http://b\.invalid:\d+/end\)`}, nil},
		{"stickyport keeps address and port", []string{"-u", a + "/start", "-f", "stickyport", "-s", "served by A host=b.invalid:" + bPort}, 0, nil, nil},
	})
	// -I is where the URL's own host and port connect, as check_curl's
	// CURLOPT_RESOLVE: a redirect to another host is resolved with
	// follow, kept on -I's address with sticky.
	aPort := port(t, a)
	start := "http://www.example.test:" + aPort + "/start"
	runMatrix(t, []matrixCase{
		{"-I, follow resolves the Location's host", []string{"-u", start, "-I", "127.0.0.1", "-f", "follow"}, 2, []string{`DNS lookup of b\.invalid`}, nil},
		{"-I, sticky keeps -I's address", []string{"-u", start, "-I", "127.0.0.1", "-f", "sticky", "-s", "served by B host=b.invalid:" + bPort}, 0, nil, nil},
		{"-I, stickyport keeps -I's address and port", []string{"-u", start, "-I", "127.0.0.1", "-f", "stickyport", "-s", "served by A host=b.invalid:" + bPort}, 0, nil, nil},
		{"-I, follow within the host keeps -I", []string{"-u", "http://www.example.test:" + aPort + "/local", "-I", "127.0.0.1", "-f", "follow", "-s", "served by A host=www.example.test:" + aPort}, 0,
			[]string{`after 1 redirect to http://www\.example\.test:\d+/end`}, nil},
		{"-I, follow to the host in capitals keeps -I", []string{"-u", "http://www.example.test:" + aPort + "/upper", "-I", "127.0.0.1", "-f", "follow", "-s", "served by A"}, 0, nil, nil},
		{"--resolve matches the host in any case", []string{"-u", "http://WWW.Example.Test:" + aPort + "/end", "--resolve", "www.example.test:" + aPort + ":127.0.0.1", "-s", "served by A"}, 0, nil, nil},
		{"-I ADDR:PORT maps the URL's host and port only", []string{"-u", "http://www.example.test/start", "-I", "127.0.0.1:" + aPort, "-f", "follow"}, 2, []string{`DNS lookup of b\.invalid`}, nil},
		{"--resolve maps that host:port only", []string{"-u", start, "--resolve", "www.example.test:" + aPort + ":127.0.0.1", "-f", "follow"}, 2, []string{`DNS lookup of b\.invalid`}, nil},
		{"--resolve for the Location's host", []string{"-u", start, "--resolve", "www.example.test:" + aPort + ":127.0.0.1", "--resolve", "b.invalid:" + bPort + ":127.0.0.1", "-f", "follow", "-s", "served by B"}, 0, nil, nil},
	})
}

func TestPeerDifferencesFixed(t *testing.T) {
	statusOnly := rawListen(t, answerWith("HTTP/1.1 200 OK\r\n", nil))
	cut := rawListen(t, answerWith("HTTP/1.1 200 OK\r\nX-Half: ", nil))
	chunked := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part one\n")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part two\n")
	})
	echo := startServer(t, nil)
	p := port(t, echo)
	runMatrix(t, []matrixCase{
		{"a status line alone is an answer", []string{"-u", "http://" + statusOnly + "/"}, 0, []string{`^HTTP OK - http://127\.0\.0\.1:\d+/ 200 OK - 0 bytes`}, nil},
		{"a header cut short names the status line", []string{"-u", "http://" + cut + "/"}, 2,
			[]string{`sent "HTTP/1\.1 200 OK" and closed the connection before the response header ended`}, nil},
		{"Transfer-Encoding is visible", []string{"-u", chunked, "--expect-header", "Transfer-Encoding:^chunked$", "-s", "part two"}, 0, nil, nil},
		{"-H host:port with -I keeps the port", []string{"-H", "www.example.test:" + p, "-I", "127.0.0.1", "--path", "/echo", "-s", "host=www.example.test:" + p + "\n"}, 0,
			[]string{`http://www\.example\.test:` + p + `/echo 200 OK`}, nil},
		{"-H host:80 sends Host: host", []string{"-H", "www.example.test:80", "-I", "127.0.0.1:" + p, "--path", "/echo", "-s", "host=www.example.test\n"}, 0,
			[]string{`http://www\.example\.test/echo 200 OK`}, nil},
		{"-u with the default port sends Host: host", []string{"-u", "http://www.example.test:80/echo", "-I", "127.0.0.1:" + p, "-s", "host=www.example.test\n"}, 0, nil, nil},
		{"a proxy that does not resolve is named", []string{"-u", "http://backend.example/", "--proxy", "http://proxy.invalid:3128"}, 2,
			[]string{`DNS lookup of proxy proxy\.invalid: no such host`}, []string{"backend.example:"}},
	})
}

// -J implies TLS, as in check_http: -H HOST -J CERT is https.
func TestClientCertImpliesTLS(t *testing.T) {
	pki := newPKI(t)
	pair, _, _ := pki.leaf(t, "srv", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, x509.ExtKeyUsageServerAuth)
	_, cert, key := pki.leaf(t, "client", []string{"nagios-client"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca)
	srv := startServer(t, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	runMatrix(t, []matrixCase{
		{"-J with -H", []string{"-H", "127.0.0.1", "-p", port(t, srv), "--path", "/text", "--ca-file", pki.CAFile, "-J", cert, "-K", key}, 0,
			[]string{`^HTTP OK - https://127\.0\.0\.1:\d+/text 200 OK`}, nil},
	})
}

// Lowercase proxy variables win over uppercase ones, as in curl.
func TestProxyVariablesLowercaseWins(t *testing.T) {
	backend := startServer(t, nil)
	proxy := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proxied %s\n", r.URL)
	})
	bin := testutil.Binary(t, "check_http_status")
	res := testutil.RunEnv(t, []string{"HTTP_PROXY=http://127.0.0.1:1", "http_proxy=" + proxy, "no_proxy=", "NO_PROXY="},
		bin, "-u", "http://backend.invalid/x", "-s", "proxied http://backend.invalid/x")
	if res.Code != 0 {
		t.Errorf("http_proxy lost to HTTP_PROXY: exit %d\n%s", res.Code, res.Stdout)
	}
	// (Loopback addresses are never proxied: the target is a name.)
	res = testutil.RunEnv(t, []string{"http_proxy=" + proxy, "NO_PROXY=", "no_proxy=backend.invalid"},
		bin, "-u", "http://backend.invalid/x")
	if res.Code != 2 || !strings.Contains(res.Stdout, "DNS lookup of backend.invalid") {
		t.Errorf("no_proxy not honoured: exit %d\n%s", res.Code, res.Stdout)
	}
	res = testutil.RunEnv(t, []string{"http_proxy=" + proxy, "NO_PROXY=backend.invalid", "no_proxy=nothing.example"},
		bin, "-u", "http://backend.invalid/x", "-s", "proxied")
	if res.Code != 0 {
		t.Errorf("no_proxy lost to NO_PROXY: exit %d\n%s", res.Code, res.Stdout)
	}
	res = testutil.RunEnv(t, []string{"http_proxy=" + proxy, "no_proxy="}, bin, "-u", backend+"/text", "-s", "Welcome")
	if res.Code != 0 {
		t.Errorf("loopback through a proxy: exit %d\n%s", res.Code, res.Stdout)
	}
}

// Found under attack: redirects to other schemes, a Location missing, a
// protocol switch nobody asked for.
func TestHostileAnswers(t *testing.T) {
	srv := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to":
			w.Header().Set("Location", r.URL.Query().Get("l"))
			w.WriteHeader(http.StatusFound)
		case "/no-location":
			w.WriteHeader(http.StatusMovedPermanently)
		case "/switch":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: Upgrade\r\n\r\n\x00\x01binary")
				conn.Close()
			}
		default:
			io.WriteString(w, "fine\n")
		}
	})
	to := func(l string) string { return srv + "/to?l=" + l }
	runMatrix(t, []matrixCase{
		{"ftp Location", []string{"-u", to("ftp://127.0.0.1:21/x"), "-f", "follow"}, 2, []string{`to a ftp: URL .*not followed: only http and https`}, nil},
		{"file Location", []string{"-u", to("file:///etc/passwd"), "-f", "follow"}, 2, []string{`to a file: URL`}, nil},
		{"gopher Location", []string{"-u", to("gopher://127.0.0.1:70/"), "-f", "sticky"}, 2, []string{`to a gopher: URL`}, nil},
		{"javascript Location", []string{"-u", to("javascript:alert(1)"), "-f", "follow"}, 2, []string{`to a javascript: URL`}, nil},
		{"ftp Location with a password", []string{"-u", to("ftp://user:hunter2@127.0.0.1/"), "-f", "follow"}, 2, []string{`to a ftp: URL`}, []string{"hunter2"}},
		{"http Location is followed", []string{"-u", to("/fine"), "-f", "follow", "-s", "fine"}, 0, nil, nil},
		{"no Location, followed", []string{"-u", srv + "/no-location", "-f", "follow"}, 2, []string{`without a Location`}, nil},
		{"no Location, not followed", []string{"-u", srv + "/no-location"}, 2, []string{`redirect without a Location`}, nil},
		{"101 not asked for", []string{"-u", srv + "/switch"}, 2, []string{`101 Switching Protocols - switching protocols, but no upgrade was asked for`}, nil},
		{"101 asked for", []string{"-u", srv + "/switch", "-k", "Upgrade: evil", "-k", "Connection: Upgrade"}, 0, nil, nil},
	})
}

// Request text that cannot be sent is refused before any request,
// naming the option.
func TestRequestTextRefused(t *testing.T) {
	u := "http://127.0.0.1:1/"
	runMatrix(t, []matrixCase{
		{"-k with LF", []string{"-u", u, "-k", "X-A: a\nb"}, 3, []string{`^HTTP UNKNOWN - invalid -k`}, nil},
		{"-k with CR", []string{"-u", u, "-k", "X-A: a\rb"}, 3, []string{`^HTTP UNKNOWN - invalid -k`}, nil},
		{"-A with LF", []string{"-u", u, "-A", "agent\nX-B: 1"}, 3, []string{`^HTTP UNKNOWN - invalid -A`}, nil},
		{"-T with CR", []string{"-u", u, "-T", "text/plain\r"}, 3, []string{`^HTTP UNKNOWN - invalid -T`}, nil},
		{"empty -j", []string{"-u", u, "-j", ""}, 3, []string{`^HTTP UNKNOWN - .*-j, --method: invalid method "": empty`}, nil},
		{"method with a space", []string{"-u", u, "-j", "GET /x"}, 3, []string{`^HTTP UNKNOWN - .*-j, --method: invalid method`}, nil},
		{"empty --jq", []string{"-u", u, "--jq", ""}, 3, []string{`^HTTP UNKNOWN - .*--jq: invalid jq expression "": empty`}, nil},
	})
}
