package httpstatus

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A body that does not complete is timed once: the perfdata time is the
// run's, not the response's time plus the failure's.
func TestBodyTimeoutTimedOnce(t *testing.T) {
	base := startServer(t, nil)
	start := time.Now()
	code, out := run(t, "-u", base+"/trickle", "-t", "2")
	took := time.Since(start)
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
	m := regexp.MustCompile(`\btime=([\d.]+)s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no time perfdata:\n%s", out)
	}
	secs, _ := strconv.ParseFloat(m[1], 64)
	if got := time.Duration(secs * float64(time.Second)); got > took {
		t.Errorf("time=%s but the run took %s:\n%s", got, took, out)
	}
}

// A slow or greedy jq expression is stopped before the run's deadline:
// the finding names the option and the expression, and the answer's own
// state is kept.
func TestJQBounded(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"down","reason":"broker unreachable"}`)
	})
	mux.HandleFunc("/late-down", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Second) // most of -t 3 gone before jq starts
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"reason":"broker unreachable"}`)
	})
	mux.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"endless --jq on 200", []string{"-u", srv.URL + "/up", "--jq", "def f: f; f"}, 3,
			`^HTTP UNKNOWN - .*200 OK - --jq 'def f: f; f' (did not finish within [\d.]+m?s|used more than 128 MiB)`},
		{"endless --jq on 503", []string{"-u", srv.URL + "/down", "--jq", "def f: f; f"}, 2,
			`^HTTP CRITICAL - .*503 Service Unavailable - server error - --jq 'def f: f; f' (did not finish|used more)`},
		{"endless --jq after a slow answer", []string{"-u", srv.URL + "/late-down", "--jq", "def f: f; f"}, 2,
			`^HTTP CRITICAL - .*503 Service Unavailable - server error - --jq 'def f: f; f' did not finish within [\d.]+m?s`},
		{"greedy --jq-message", []string{"-u", srv.URL + "/down", "--jq-message", "[range(1e8)]|length"}, 2,
			`^HTTP CRITICAL - .*503 Service Unavailable - server error - --jq-message '\[range\(1e8\)\] ?.length' (did not finish within|used more than 128 MiB).* - server says 'broker unreachable'`},
		{"failing --jq-message noted at -v", []string{"-u", srv.URL + "/down", "--jq-message", `error("boom")`, "-v"}, 2,
			`(?s)server says 'broker unreachable'.*\n--jq-message 'error\("boom"\)': error: boom \(no reason shown\)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := run(t, append(tc.args, "-t", "3")...)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s, want under -t 3", took)
			}
			if code != tc.code || !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// A failure of the proxy is worded as the proxy's, not the server's;
// only proxies the client speaks to are accepted.
func TestProxyFailures(t *testing.T) {
	base := startServer(t, nil)
	silent := startSilent(t)
	refused := closedAddr(t)
	forbidding := rawListen(t, func(c net.Conn, br *bufio.Reader) {
		http.ReadRequest(br)
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
	})
	httpSpeaker := rawListen(t, func(c net.Conn, br *bufio.Reader) {
		c.Read(make([]byte, 16))
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	tlsBase := "https://" + strings.TrimPrefix(base, "http://") + "/"
	runMatrix(t, []matrixCase{
		{"refused", []string{"-u", base + "/", "--proxy", "http://" + refused}, 2,
			[]string{`^HTTP CRITICAL - .* - proxy 127\.0\.0\.1:\d+: connection refused`}, nil},
		{"silent, plain http", []string{"-u", base + "/", "--proxy", "http://" + silent, "-t", "2"}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+ accepted the request but sent no response within [\d.]+m?s \(first-byte timeout: the proxy or the server behind it\)`}, nil},
		{"silent, CONNECT", []string{"-u", tlsBase, "--proxy", "http://" + silent, "-t", "2"}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: no answer to CONNECT 127\.0\.0\.1:\d+ within [\d.]+m?s`}, nil},
		{"CONNECT refused", []string{"-u", tlsBase, "--proxy", "http://" + forbidding}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: CONNECT 127\.0\.0\.1:\d+ refused: 403 Forbidden`}, nil},
		{"socks9", []string{"-u", base + "/", "--proxy", "socks9://p:pw@127.0.0.1:1"}, 3,
			[]string{`^HTTP UNKNOWN - invalid --proxy "socks9://p:xxxxx@127\.0\.0\.1:1": proxy scheme not supported: "socks9"`}, []string{"pw@"}},
		{"socks5 accepted", []string{"-u", base + "/", "--proxy", "socks5://" + refused}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: connection refused`}, nil},
		{"socks5, silent", []string{"-u", "http://backend.example/", "--proxy", "socks5://" + silent, "-t", "2"}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: connected, but no answer to the SOCKS handshake for backend\.example:80 within [\d.]+m?s \(is it a SOCKS proxy\?\)`}, []string{"connect timeout"}},
		{"socks5, an HTTP proxy", []string{"-u", "http://backend.example/", "--proxy", "socks5://" + httpSpeaker}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: (SOCKS handshake for backend\.example:80 failed: unexpected protocol version 72 \(it does not speak SOCKS 5\)|closed the connection during the SOCKS handshake for backend\.example:80 \(is it a SOCKS proxy\?\))`}, nil},
	})
	t.Setenv("HTTP_PROXY", "socks9://p:pw@127.0.0.1:1")
	t.Setenv("http_proxy", "")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	runMatrix(t, []matrixCase{
		{"socks9 from the environment", []string{"-u", "http://www.example.org/"}, 3,
			[]string{`^HTTP UNKNOWN - .*HTTP_PROXY: proxy scheme not supported: "socks9"`}, []string{"pw@"}},
	})
}

// -I with a proxy never moves the connection to the proxy: an https
// request asks the proxy for a tunnel to the address (as -C does); a
// plain-http one goes to the proxy as named.
func TestProxyWithConnectTo(t *testing.T) {
	pki := newPKI(t)
	now := time.Now()
	srv := pki.server(t, "good", []string{"www.example.org"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), false)
	gp := port(t, srv)
	px := startConnectProxy(t)
	refused := closedAddr(t)
	runMatrix(t, []matrixCase{
		{"https: the tunnel goes to -I", []string{"-u", "https://www.example.org:8443/text", "-I", "127.0.0.1:" + gp, "--proxy", "http://" + px.addr, "--ca-file", pki.CAFile}, 0,
			[]string{`^HTTP OK - https://www\.example\.org:8443/text 200 OK`}, nil},
		{"https: a silent tunnel is the proxy's", []string{"-u", "https://www.example.org:8443/text", "-I", "127.0.0.1:" + gp, "--proxy", "http://" + startSilent(t), "-t", "2"}, 2,
			[]string{`proxy 127\.0\.0\.1:\d+: no answer to CONNECT 127\.0\.0\.1:` + gp + ` within`}, nil},
		{"plain http: the proxy as named", []string{"-u", "http://www.example.org/", "-I", "192.0.2.1", "--proxy", "http://" + refused}, 2,
			[]string{`proxy ` + regexp.QuoteMeta(refused) + `: connection refused`}, []string{"192.0.2.1"}},
	})
	if got := px.tunnels(); len(got) != 1 || got[0] != "127.0.0.1:"+gp {
		t.Errorf("the proxy was asked for %q, want 127.0.0.1:%s", got, gp)
	}
}

// HTTP/2 failures in words: a header too large for HTTP/2 as for
// HTTP/1, and h2c to a server that speaks HTTP/1 only.
func TestHTTP2Messages(t *testing.T) {
	big := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("a", 1500000))
	}))
	big.Config.ErrorLog = nilLogger()
	big.EnableHTTP2 = true
	big.StartTLS()
	t.Cleanup(big.Close)
	plain := handlerServer(t, func(http.ResponseWriter, *http.Request) {})
	runMatrix(t, []matrixCase{
		{"HTTP/2 header value over the bound", []string{"-u", big.URL, "--insecure"}, 2,
			[]string{`bad response from 127\.0\.0\.1:\d+: HTTP/2 response header refused \((COMPRESSION|PROTOCOL)_ERROR\): larger than the 1 MiB limit, or malformed`}, nil},
		{"h2c to an HTTP/1 server", []string{"-u", plain, "--http-version", "2"}, 2,
			[]string{`127\.0\.0\.1:\d+ does not speak HTTP/2 \(h2c\): it answered in HTTP/1 \(--http-version 1\.1 or auto\)`}, []string{"frame too large"}},
	})
}

// --http-version 1.0 holds through a proxy: an https request through an
// http:// proxy is tunnelled by us, so its request line can be HTTP/1.0;
// a plain-http request's line goes to the proxy as HTTP/1.0. Where the
// Transport would make the TLS itself (an https:// or SOCKS proxy), the
// combination is refused.
func TestHTTP10ThroughProxy(t *testing.T) {
	backend := httptest.NewUnstartedServer(http.HandlerFunc(protoEcho))
	backend.Config.ErrorLog = nilLogger()
	backend.EnableHTTP2 = true
	backend.StartTLS()
	t.Cleanup(backend.Close)
	bp := port(t, backend.URL)
	px := startConnectProxy(t)
	forward := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proxy got %s %s\n", r.Proto, r.URL)
	})
	runMatrix(t, []matrixCase{
		{"https through an http:// proxy", []string{"-u", "https://www.example.test:" + bp + "/x", "--proxy", "http://" + px.addr, "--insecure",
			"--http-version", "1.0", "-s", "proto=HTTP/1.0", "-v"}, 0, []string{`HTTP/1\.0 200 OK`}, []string{"HTTP/1.1"}},
		{"https through an http:// proxy, 1.1", []string{"-u", "https://www.example.test:" + bp + "/x", "--proxy", "http://" + px.addr, "--insecure",
			"--http-version", "1.1", "-s", "proto=HTTP/1.1"}, 0, nil, nil},
		{"plain http through a proxy", []string{"-u", "http://backend.invalid/x", "--proxy", forward,
			"--http-version", "1.0", "-s", "proxy got HTTP/1.0 http://backend.invalid/x"}, 0, nil, nil},
		{"https through a socks5:// proxy is refused", []string{"-u", "https://www.example.test:" + bp + "/x", "--proxy", "socks5://127.0.0.1:1",
			"--http-version", "1.0"}, 3, []string{`^HTTP UNKNOWN - .*HTTP/1\.0.*socks5.*\(--http-version 1\.0 with --proxy or a proxy variable`}, nil},
	})
}

// A malformed header line is named with its fault; the value of a
// cookie or credential header is never printed, whatever -v asks.
func TestMalformedHeaderValueHidden(t *testing.T) {
	serve := func(line string) string {
		return "http://" + rawListen(t, answerWith("HTTP/1.1 200 OK\r\n"+line+"\r\nContent-Length: 0\r\n\r\n", nil)) + "/"
	}
	runMatrix(t, []matrixCase{
		{"Set-Cookie with control bytes", []string{"-u", serve("Set-Cookie: a=\x01\x02secretb; Path=/"), "-vvv"}, 2,
			[]string{`^HTTP CRITICAL - .*malformed Set-Cookie header: byte 0x01 in its value, not allowed in a header \(value not shown\)`}, []string{"secret", "Path=/"}},
		{"Authorization with DEL", []string{"-u", serve("Authorization: Bearer secret\x7f"), "-vvv"}, 2,
			[]string{`malformed Authorization header: byte 0x7f in its value`}, []string{"secret"}},
		{"WWW-Authenticate without a colon", []string{"-u", serve("WWW-Authenticate Basic secret"), "-vvv"}, 2,
			[]string{`malformed WWW-Authenticate header: no colon after its name \(value not shown\)`}, []string{"secret"}},
		{"another header is quoted", []string{"-u", serve("X-Thing: a\x01b")}, 2,
			[]string{`malformed MIME header line: "X-Thing: a\\x01b"`}, nil},
	})
}

// A proxy variable that is no proxy URL is UNKNOWN naming it, never its
// password; under CGI, lowercase http_proxy is used and uppercase
// HTTP_PROXY (which a request header can set: httpoxy) is ignored, with a
// note at -v.
func TestProxyVariables(t *testing.T) {
	forward := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proxied %s\n", r.URL)
	})
	for _, k := range []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	u := "http://backend.invalid/x"
	t.Setenv("http_proxy", "http://pu:pw@127.0.0.1:47090:bad")
	runMatrix(t, []matrixCase{
		{"bad port", []string{"-u", u}, 3, []string{`^HTTP UNKNOWN - .*http_proxy: not a URL`}, []string{"pw", "DNS"}},
	})
	t.Setenv("http_proxy", "::garbage")
	runMatrix(t, []matrixCase{
		{"garbage", []string{"-u", u}, 3, []string{`^HTTP UNKNOWN - .*http_proxy: not a URL`}, nil},
		{"garbage, for https", []string{"-u", "https://backend.invalid/"}, 2, []string{`DNS lookup of backend\.invalid`}, nil},
	})
	t.Setenv("http_proxy", "")
	t.Setenv("HTTPS_PROXY", "http://pu:pw@:3128")
	runMatrix(t, []matrixCase{
		{"no host", []string{"-u", "https://backend.invalid/"}, 3, []string{`^HTTP UNKNOWN - .*HTTPS_PROXY: no host`}, []string{"pw"}},
	})
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("REQUEST_METHOD", "GET")
	t.Setenv("http_proxy", forward)
	runMatrix(t, []matrixCase{
		{"CGI, lowercase http_proxy", []string{"-u", u, "-s", "proxied " + u}, 0, nil, []string{"refusing"}},
	})
	t.Setenv("http_proxy", "")
	t.Setenv("HTTP_PROXY", forward)
	runMatrix(t, []matrixCase{
		{"CGI, uppercase HTTP_PROXY ignored", []string{"-u", u, "-v"}, 2,
			[]string{`DNS lookup of backend\.invalid: no such host`, `(?m)^HTTP_PROXY ignored: under CGI`}, []string{"refusing"}},
		{"CGI, no note without -v", []string{"-u", u}, 2, nil, []string{"HTTP_PROXY"}},
	})
}
