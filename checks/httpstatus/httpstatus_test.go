package httpstatus

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// run runs the plugin in-process and returns exit code and output.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := plugin.Runner{Args: args, Stdout: &out, Exit: func(c int) { t.Errorf("watchdog fired: %s", out.String()) }}.Run(Plugin)
	return code, out.String()
}

type matrixCase struct {
	name  string
	args  []string
	code  int
	want  []string // regular expressions the output must match
	avoid []string // substrings that must not appear
}

func runMatrix(t *testing.T, cases []matrixCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output does not match %q:\n%s", w, out)
				}
			}
			for _, a := range tc.avoid {
				if strings.Contains(out, a) {
					t.Errorf("output contains %q:\n%s", a, out)
				}
			}
		})
	}
}

func TestStatusMatrix(t *testing.T) {
	base := startServer(t, nil)
	runMatrix(t, []matrixCase{
		{"200 ok", []string{"-u", base + "/status/200"}, 0, []string{`^HTTP OK - http://127\.0\.0\.1:\d+/status/200 200 OK - 11 bytes in`, `http_status=200`, `time_firstbyte=`, `size=11B`}, nil},
		{"204 ok", []string{"-u", base + "/status/204"}, 0, []string{`204 No Content`}, nil},
		{"403 critical by default (check_http: warning)", []string{"-u", base + "/status/403"}, 2, []string{`^HTTP CRITICAL - .* 403 Forbidden - client error`}, nil},
		{"404 critical", []string{"-u", base + "/status/404"}, 2, []string{`404 Not Found`}, nil},
		{"500 critical", []string{"-u", base + "/status/500"}, 2, []string{`500 Internal Server Error - server error`}, nil},
		{"503 warn-status", []string{"-u", base + "/status/503", "--warn-status", "503"}, 1, []string{`^HTTP WARNING - .*503 Service Unavailable - status 503 is in --warn-status 503`}, nil},
		{"429 warn-status class", []string{"-u", base + "/status/429", "--warn-status", "4xx"}, 1, []string{`429 Too Many Requests`}, nil},
		{"-e 200 gets 403", []string{"-u", base + "/status/403", "-e", "200"}, 2, []string{`403 Forbidden - expected 200`}, nil},
		{"-e 200 gets 200", []string{"-u", base + "/status/200", "-e", "200"}, 0, nil, nil},
		{"-e list", []string{"-u", base + "/status/201", "-e", "200,201,204"}, 0, nil, nil},
		{"-e class", []string{"-u", base + "/status/404", "-e", "4xx"}, 0, nil, nil},
		{"-e range miss", []string{"-u", base + "/status/302", "-e", "200-299"}, 2, []string{`302 Found - expected 200-299`}, nil},
		{"-e check_http spelling", []string{"-u", base + "/status/200", "-e", "HTTP/1.1 200"}, 0, nil, nil},
		{"-e bad", []string{"-u", base + "/", "-e", "20"}, 3, []string{`^HTTP UNKNOWN - .*invalid status "20"`}, nil},
		{"-H/-p/--path", []string{"-H", "127.0.0.1", "-p", port(t, base), "--path", "/status/200"}, 0, []string{`200 OK`}, nil},
		{"-H with -u path", []string{"-H", "127.0.0.1:" + port(t, base), "-u", "/status/404"}, 2, []string{`/status/404 404 Not Found`}, nil},
		{"slow vs -w", []string{"-u", base + "/slow", "-w", "0.1", "-c", "5"}, 1, []string{`^HTTP WARNING - .*200 OK - took \d+\.\d{3}s \(warning 0.1\)`, `time=0\.\d+s;0.1;5;0`}, nil},
		{"slow vs -c", []string{"-u", base + "/slow", "-w", "0.05", "-c", "0.1"}, 2, []string{`took .* \(critical 0.1\)`}, nil},
	})
}

func port(t *testing.T, base string) string {
	u, _ := url.Parse(base)
	return u.Port()
}

func TestRedirects(t *testing.T) {
	base := startServer(t, nil)
	other := startServer(t, nil)
	runMatrix(t, []matrixCase{
		{"not followed: ok", []string{"-u", base + "/redirect/2"}, 0, []string{`302 Found`}, nil},
		{"not followed: warning", []string{"-u", base + "/redirect/2", "-f", "warning"}, 1, []string{`302 Found - redirect to /redirect/1`}, nil},
		{"not followed: critical", []string{"-u", base + "/redirect/2", "-f", "critical"}, 2, nil, nil},
		{"not followed: judged by -e", []string{"-u", base + "/redirect/2", "-e", "200"}, 2, []string{`302 Found - expected 200`}, nil},
		{"followed", []string{"-u", base + "/redirect/3", "-f", "follow", "-e", "200", "-s", "arrived"}, 0, []string{`200 OK \(after 3 redirects to http://127.0.0.1:\d+/redirect/0\)`}, nil},
		{"too many", []string{"-u", base + "/redirect/5", "-f", "follow", "--max-redirs", "3"}, 2, []string{`more than 3 redirects`}, nil},
		{"loop", []string{"-u", base + "/loop/a", "-f", "follow"}, 2, []string{`redirect loop: .*/loop/a -> .*/loop/b -> .*/loop/a`}, nil},
		{"sticky keeps the address", []string{"-u", "http://app.invalid:" + port(t, other) + "/redirect/1", "--resolve", "app.invalid:" + port(t, other) + ":127.0.0.1", "-f", "sticky"}, 0, []string{`200 OK \(after 1 redirect`}, nil},
		{"follow without sticky resolves again", []string{"-u", base + "/status/301", "-f", "follow"}, 0, []string{`200 OK \(after 1 redirect`}, nil},
	})
}

func TestBody(t *testing.T) {
	base := startServer(t, nil)
	runMatrix(t, []matrixCase{
		{"string found", []string{"-u", base + "/text", "-s", "mirrors synced"}, 0, nil, nil},
		{"string missing", []string{"-u", base + "/text", "-s", "Maintenance"}, 2, []string{`string 'Maintenance' not found`}, nil},
		{"regex", []string{"-u", base + "/text", "-r", `^all \w+ synced$|synced`}, 0, nil, nil},
		{"regex missing", []string{"-u", base + "/text", "-r", `out of sync`}, 2, []string{`pattern 'out of sync' not found`}, nil},
		{"eregi", []string{"-u", base + "/text", "-R", `WELCOME`}, 0, nil, nil},
		{"invert", []string{"-u", base + "/text", "-r", `synced`, "--invert-regex"}, 2, []string{`pattern 'synced' found \(--invert-regex\)`}, nil},
		{"bad regex", []string{"-u", base + "/text", "-r", `(`}, 3, []string{`invalid -r`}, nil},
		{"pipe in pattern stays out of perfdata", []string{"-u", base + "/text", "-r", `a|b|nothere`}, 0, nil, nil},
		{"jq true", []string{"-u", base + "/health/ok", "--jq", `.status == "ok"`}, 0, nil, nil},
		// Values starting with a quote are taken as given, not unquoted.
		{"-s starting with a quote", []string{"-u", base + "/health/ok", "-s", `"status":"ok"`}, 0, nil, nil},
		{"-s quoted word is not the word", []string{"-u", base + "/health/ok", "-s", `"ok`}, 0, nil, nil},
		{"-s quoted absent", []string{"-u", base + "/health/ok", "-s", `"ok"x`}, 2, nil, nil},
		{"jq starting with a string", []string{"-u", base + "/health/ok", "--jq", `"ok" == .status`}, 0, nil, nil},
		{"jq all checks", []string{"-u", base + "/health/ok", "--jq", `all(.checks[]; .ok)`}, 0, nil, nil},
		{"jq false", []string{"-u", base + "/health/degraded", "--jq", `.status == "ok"`}, 2, []string{`--jq '.status == "ok"' gave false, not true`}, nil},
		{"jq not boolean", []string{"-u", base + "/health/degraded", "--jq", `.status`}, 2, []string{`gave "degraded", not true`}, nil},
		{"jq on text", []string{"-u", base + "/text", "--jq", `.status`}, 2, []string{`--jq: body is not JSON`}, nil},
		{"jq invalid", []string{"-u", base + "/text", "--jq", `.status ==`}, 3, []string{`invalid --jq`}, nil},
		{"big body bounded", []string{"-u", base + "/big", "--max-body", "1MiB"}, 0, []string{`over 1MiB \(read no further\)`, `size=1048576B`}, nil},
		{"big body string beyond the bound", []string{"-u", base + "/big", "--max-body", "1MiB", "-s", "needle-at-the-end"}, 2, []string{`string 'needle-at-the-end' not found in the first 1MiB`}, nil},
		{"big body jq", []string{"-u", base + "/big", "--max-body", "64KiB", "--jq", "."}, 2, []string{`larger than --max-body 64KiB, not evaluated`}, nil},
		{"big body read whole", []string{"-u", base + "/big", "-s", "needle-at-the-end", "--max-body", "8MiB"}, 0, nil, nil},
		{"HEAD", []string{"-u", base + "/text", "-j", "HEAD"}, 0, []string{`200 OK - 0 bytes`}, nil},
	})
}

func TestHeadersMethodAuth(t *testing.T) {
	base := startServer(t, nil)
	dir := t.TempDir()
	authFile := filepath.Join(dir, "auth")
	os.WriteFile(authFile, []byte("nagios:s3cret\n"), 0o600)
	bomFile := filepath.Join(dir, "auth-bom") // as Notepad saves it
	os.WriteFile(bomFile, []byte("\uFEFFnagios:s3cret\r\n"), 0o600)
	dataFile := filepath.Join(dir, "req.json")
	os.WriteFile(dataFile, []byte(`{"q":1}`), 0o600)
	runMatrix(t, []matrixCase{
		{"expect header present", []string{"-u", base + "/text", "--expect-header", "X-Version"}, 0, nil, nil},
		{"expect header matches", []string{"-u", base + "/text", "--expect-header", `X-Version:^1\.2\.`}, 0, nil, nil},
		{"expect header mismatch", []string{"-u", base + "/text", "--expect-header", `x-version:^2\.`}, 2, []string{`header X-Version: '1.2.3' does not match '\^2\\.'`}, nil},
		{"expect header missing", []string{"-u", base + "/text", "--expect-header", "X-Cache"}, 2, []string{`header X-Cache missing`}, nil},
		{"send headers, ua", []string{"-u", base + "/echo", "-k", "X-Test: yes", "-A", "probe/1", "-s", "x-test=yes\n", "-s", "ua=probe/1"}, 0, nil, nil},
		{"post", []string{"-u", base + "/echo", "-P", "a=1", "-s", "method=POST"}, 0, nil, nil},
		{"data file", []string{"-u", base + "/echo", "--data-file", dataFile, "-T", "application/json", "-r", `ct=application/json\nx-test=\nbody=\{"q":1\}`}, 0, nil, nil},
		{"method", []string{"-u", base + "/echo", "-j", "DELETE", "-s", "method=DELETE"}, 0, nil, nil},
		{"method as given", []string{"-u", base + "/echo", "-j", "foo", "-s", "method=foo"}, 0, nil, nil},
		{"no auth", []string{"-u", base + "/auth"}, 2, []string{`401 Unauthorized`}, nil},
		{"-a", []string{"-u", base + "/auth", "-a", "nagios:s3cret", "-vvv"}, 0, nil, []string{"s3cret", "bmFnaW9zOnMzY3JldA"}},
		{"--auth-file", []string{"-u", base + "/auth", "--auth-file", authFile, "-vvv"}, 0, nil, []string{"s3cret"}},
		{"--auth-file with a byte-order mark and CRLF", []string{"-u", base + "/auth", "--auth-file", bomFile}, 0, nil, nil},
		{"wrong password not printed", []string{"-u", base + "/auth", "-a", "nagios:wrong", "-vvv"}, 2, []string{`401`}, []string{"wrong"}},
		{"missing auth file", []string{"-u", base + "/auth", "--auth-file", filepath.Join(dir, "nope")}, 3, []string{`--auth-file: .*nope: no such file`}, nil},
		{"url userinfo redacted", []string{"-u", strings.Replace(base, "//", "//nagios:s3cret@", 1) + "/auth"}, 0, []string{`nagios:xxxxx@`}, []string{"s3cret"}},
	})
}

func TestAuthFromEnvironment(t *testing.T) {
	base := startServer(t, nil)
	t.Setenv(AuthEnv, "nagios:s3cret")
	runMatrix(t, []matrixCase{{"env", []string{"-u", base + "/auth"}, 0, []string{"authorised|200 OK"}, nil}})
}

func TestNetworkFailures(t *testing.T) {
	silent := startSilent(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()
	base := startServer(t, nil)
	cases := []struct {
		name string
		args []string
		want string
		max  time.Duration
	}{
		{"refused", []string{"-u", "http://" + refused + "/"}, `connection to 127\.0\.0\.1:\d+ refused`, 5 * time.Second},
		{"dns", []string{"-u", "http://no-such-host.invalid/"}, `DNS lookup of no-such-host.invalid: `, 5 * time.Second},
		{"never answers", []string{"-u", "http://" + silent + "/", "-t", "2"}, `accepted the request but sent no response within [\d.]+m?s \(first-byte timeout\)`, 3 * time.Second},
		{"slow first byte", []string{"-u", base + "/slow-first-byte", "-t", "2"}, `sent no response within [\d.]+m?s \(first-byte timeout\)`, 3 * time.Second},
		{"trickling body", []string{"-u", base + "/trickle", "-t", "2"}, `answered 200 OK but the body did not complete within [\d.]+m?s \(\d+ bytes received, body timeout\)`, 3 * time.Second},
		{"TLS to plain", []string{"-u", "https://" + strings.TrimPrefix(base, "http://") + "/"}, `did not answer with TLS`, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := run(t, tc.args...)
			took := time.Since(start)
			if code != 2 || !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, out)
			}
			if took > tc.max {
				t.Errorf("took %s, want under %s", took, tc.max)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	pki := newPKI(t)
	now := time.Now()
	good := pki.server(t, "good", []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), false)
	soon := pki.server(t, "soon", []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(10*24*time.Hour), false)
	expired := pki.server(t, "expired", []string{"localhost", "127.0.0.1"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour), false)
	self := pki.server(t, "self", []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), true)
	wrong := pki.server(t, "wrong", []string{"www.example.org"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), false)
	gp := port(t, good)
	ca := pki.CAFile
	runMatrix(t, []matrixCase{
		{"system roots do not know the test CA", []string{"-u", good + "/text"}, 2, []string{`TLS handshake with 127\.0\.0\.1:\d+ failed: certificate 'localhost' is signed by an unknown authority "hindsight test CA"`}, nil},
		{"ca-file", []string{"-u", good + "/text", "--ca-file", ca, "-v"}, 0, []string{`200 OK`, `TLS 1\.3`, `time_tls=0\.0`}, nil},
		{"name via -I keeps Host and SNI", []string{"-u", "https://localhost:" + gp + "/echo", "-I", "127.0.0.1", "--ca-file", ca, "-s", "host=localhost:" + gp}, 0, nil, nil},
		{"-H -I -S", []string{"-H", "localhost", "-I", "127.0.0.1", "-p", gp, "-S", "--path", "/text", "--ca-file", ca}, 0, nil, nil},
		{"resolve", []string{"-u", "https://localhost:" + gp + "/text", "--resolve", "localhost:" + gp + ":127.0.0.1", "--ca-file", ca}, 0, nil, nil},
		{"expired", []string{"-u", expired + "/", "--ca-file", ca}, 2, []string{`certificate 'localhost' expired on \d{4}-\d\d-\d\d`}, nil},
		{"self-signed", []string{"-u", self + "/", "--ca-file", ca}, 2, []string{`certificate 'localhost' is self-signed and not trusted`}, nil},
		{"self-signed insecure", []string{"-u", self + "/text", "--insecure"}, 0, nil, nil},
		{"wrong name", []string{"-u", wrong + "/", "--ca-file", ca}, 2, []string{`certificate is for www\.example\.org, not 127\.0\.0\.1 \(name mismatch\)`}, nil},
		{"wrong name with --sni", []string{"-u", wrong + "/text", "--ca-file", ca, "--sni=www.example.org"}, 0, nil, nil},
		{"no sni still verifies", []string{"-u", wrong + "/", "--ca-file", ca, "--no-sni"}, 2, []string{`name mismatch`}, nil},
		{"no sni good", []string{"-u", good + "/text", "--ca-file", ca, "--no-sni"}, 0, nil, nil},
		{"-C ok, no request", []string{"-u", good + "/status/500", "--ca-file", ca, "-C", "30,7"}, 0, []string{`certificate 'localhost' expires in 8\d days`, `cert_days=8\d(\.\d\d?)?;30:;7:`}, []string{"Internal Server Error"}},
		{"-C warning", []string{"-u", soon + "/", "--ca-file", ca, "-C", "30,7"}, 1, []string{`^HTTP WARNING - .*certificate 'localhost' expires in 9\.\d days`}, nil},
		{"-C critical", []string{"-u", soon + "/", "--ca-file", ca, "-C", "30,14"}, 2, nil, nil},
		{"-C expired insecure", []string{"-u", expired + "/", "--insecure", "-C", "30"}, 2, []string{`certificate 'localhost' expired 1\.\d days ago`}, nil},
		{"-C continue", []string{"-u", soon + "/status/500", "--ca-file", ca, "-C", "30,7", "--continue-after-certificate"}, 2, []string{`500 Internal Server Error - server error - certificate 'localhost' expires in 9\.\d days`}, nil},
		{"tls-min 1.3 ok", []string{"-u", good + "/text", "--ca-file", ca, "--tls-min", "1.3"}, 0, nil, nil},
		{"bad tls-min", []string{"-u", good + "/text", "--tls-min", "1.4"}, 3, []string{`--tls-min: invalid TLS version "1.4"`}, nil},
		{"bad ca-file", []string{"-u", good + "/text", "--ca-file", "/nonexistent/ca.pem"}, 3, []string{`--ca-file: /nonexistent/ca.pem: no such file`}, nil},
	})
}

func TestTLSMinVersionRefused(t *testing.T) {
	pki := newPKI(t)
	pair, _, _ := pki.leaf(t, "old", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, x509.ExtKeyUsageServerAuth)
	old := startServer(t, &tls.Config{Certificates: []tls.Certificate{pair}, MaxVersion: tls.VersionTLS12})
	runMatrix(t, []matrixCase{
		{"1.2 server, 1.3 required", []string{"-u", old + "/text", "--ca-file", pki.CAFile, "--tls-min", "1.3"}, 2, []string{`TLS handshake with .* failed: .*(protocol version|alert)`}, nil},
		{"1.2 server, default", []string{"-u", old + "/text", "--ca-file", pki.CAFile}, 0, nil, nil},
	})
}

func TestClientCertificate(t *testing.T) {
	pki := newPKI(t)
	pair, _, _ := pki.leaf(t, "srv", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, x509.ExtKeyUsageServerAuth)
	_, cert, key := pki.leaf(t, "client", []string{"nagios-client"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca)
	srv := startServer(t, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	runMatrix(t, []matrixCase{
		{"with client cert", []string{"-u", srv + "/text", "--ca-file", pki.CAFile, "-J", cert, "-K", key}, 0, nil, nil},
		{"without client cert", []string{"-u", srv + "/text", "--ca-file", pki.CAFile}, 2, []string{`TLS handshake with 127\.0\.0\.1:\d+ failed: the server refused the connection: certificate required \(--client-cert/--client-key\)`}, nil},
		{"key without cert", []string{"-u", srv + "/text", "-K", key}, 3, []string{`--client-key needs --client-cert`}, nil},
	})
}

func TestProxy(t *testing.T) {
	base := startServer(t, nil)
	target, _ := url.Parse(base)
	var mu sync.Mutex
	var seen []string
	proxy := &http.Server{ErrorLog: nilLogger(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String())
		mu.Unlock()
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ServeHTTP(w, r)
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })
	proxyURL := "http://" + ln.Addr().String()
	runMatrix(t, []matrixCase{
		{"--proxy", []string{"-u", "http://backend.invalid/text", "--proxy", proxyURL, "-s", "Welcome"}, 0, nil, nil},
		{"--no-proxy", []string{"-u", "http://backend.invalid/text", "--no-proxy"}, 2, []string{`DNS lookup of backend.invalid`}, nil},
		{"bad proxy", []string{"-u", base + "/text", "--proxy", "::nope"}, 3, []string{`invalid --proxy`}, nil},
	})
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "http://backend.invalid/text" {
		t.Errorf("proxy saw %q", got)
	}
	// The environment is read once per process: through the binary.
	bin := testutil.Binary(t, "check_http_status")
	res := testutil.RunEnv(t, []string{"http_proxy=" + proxyURL, "no_proxy="}, bin, "-u", "http://backend.invalid/text", "-s", "Welcome")
	if res.Code != 0 {
		t.Errorf("http_proxy from the environment: exit %d\n%s", res.Code, res.Stdout)
	}
	res = testutil.RunEnv(t, []string{"http_proxy=" + proxyURL, "no_proxy="}, bin, "-u", "http://backend.invalid/text", "--no-proxy")
	if res.Code != 2 || !strings.Contains(res.Stdout, "DNS lookup") {
		t.Errorf("--no-proxy with http_proxy set: exit %d\n%s", res.Code, res.Stdout)
	}
}

func TestManyURLs(t *testing.T) {
	base := startServer(t, nil)
	args := []string{"-w", "5"}
	for i := 0; i < 50; i++ {
		args = append(args, "-u", base+"/text?n="+itoa(i))
	}
	code, out := run(t, args...)
	if code != 0 || !strings.HasPrefix(out, "HTTP OK - all 50 URLs OK, slowest ") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	args = append(args, "-u", base+"/status/503", "-u", base+"/status/404")
	code, out = run(t, args...)
	lines := strings.Split(out, "\n")
	if code != 2 || !strings.HasPrefix(lines[0], "HTTP CRITICAL - 2 of 52 URLs not OK: ") ||
		!strings.HasPrefix(lines[1], "[CRITICAL] ") || !strings.HasPrefix(lines[3], "[OK] ") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if len(out) > plugin.DefaultMaxOutput {
		t.Errorf("output %d bytes, over the bound", len(out))
	}
}

// URLs queued behind slow ones on the same server, when the deadline
// passes, say they never got a connection; the slow ones say what they
// were waiting for.
func TestQueuedBehindSlowURLs(t *testing.T) {
	base := startServer(t, nil)
	args := []string{"-t", "1"}
	for i := 0; i < maxConnsPerHost+2; i++ {
		args = append(args, "-u", base+"/slow-first-byte?n="+itoa(i))
	}
	start := time.Now()
	code, out := run(t, args...)
	if code != 2 || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("exit %d after %v\n%s", code, time.Since(start), out)
	}
	long := strings.Split(out, "\n")[1:] // one line per URL
	count := func(re string) int {
		n := 0
		for _, l := range long {
			if regexp.MustCompile(re).MatchString(l) {
				n++
			}
		}
		return n
	}
	// The held requests and the queued ones share the deadline: when the
	// held ones give up their connections, a queued one may get one in
	// the same instant and time out waiting for its first byte. It still
	// says it waited for a connection (seen on a loaded machine as "no
	// response within <1ms").
	queued := `(no connection to .* free within \d+ms \(other requests to it still pending\)|, after waiting \d+ms for a free connection \(other requests to it still pending\))$`
	if n := count(`^\[CRITICAL\] .* accepted the request but sent no response within \d+ms \(first-byte timeout\)$`); n != maxConnsPerHost {
		t.Errorf("%d first-byte timeouts, want %d\n%s", n, maxConnsPerHost, out)
	}
	if n := count(`^\[CRITICAL\] .*` + queued); n != 2 {
		t.Errorf("%d URLs reported waiting for a connection, want 2\n%s", n, out)
	}
}

func TestBadInput(t *testing.T) {
	runMatrix(t, []matrixCase{
		{"no target", nil, 3, []string{`^HTTP UNKNOWN - no target`}, nil},
		{"empty -u", []string{"-u", ""}, 3, []string{`^HTTP UNKNOWN - -u: the URL is empty`}, []string{`"http:"`}},
		{"blank -u", []string{"-u", " "}, 3, []string{`^HTTP UNKNOWN - -u: the URL is empty`}, nil},
		{"bad scheme", []string{"-u", "ftp://x/"}, 3, []string{`scheme must be http or https`}, nil},
		{"bad port", []string{"-u", "http://x:99999/"}, 3, []string{`bad port`}, nil},
		{"full URL with -H", []string{"-H", "x", "-u", "http://y/"}, 3, []string{`is a full URL`}, nil},
		{"path without host", []string{"-u", "/x"}, 3, []string{`is a path`}, nil},
		{"-4 -6", []string{"-u", "http://x/", "-4", "-6"}, 3, []string{`exclude each other`}, nil},
		{"bad resolve", []string{"-u", "http://x/", "--resolve", "x:80"}, 3, []string{`invalid --resolve`}, nil},
		{"bad header", []string{"-u", "http://x/", "-k", "NoColon"}, 3, []string{`invalid header`}, nil},
		{"bad -C", []string{"-u", "https://x/", "-C", "30,x"}, 3, []string{`invalid certificate days "30,x"`}, nil},
		{"bad max-body", []string{"-u", "http://x/", "--max-body", "lots"}, 3, []string{`invalid size`}, nil},
		{"bad onredirect", []string{"-u", "http://x/", "-f", "maybe"}, 3, []string{`onredirect`}, nil},
		{"missing data file", []string{"-u", "http://x/", "--data-file", "/nonexistent"}, 3, []string{`--data-file: /nonexistent: no such file`}, nil},
		{"-S with an http:// URL", []string{"-u", "HTTP://u:pw@x/", "-S"}, 3, []string{`^HTTP UNKNOWN - -S asks for https, but -u HTTP://u:xxxxx@x/ is an http:// URL`}, []string{"pw@"}},
		{"-S with an https:// URL", []string{"-u", "https://127.0.0.1:1/", "-S"}, 2, nil, nil},
		{"--continue-after-certificate alone", []string{"-u", "https://x/", "--continue-after-certificate"}, 3, []string{`--continue-after-certificate goes with -C`}, nil},
	})
}

func TestHelpSaysTheDifference(t *testing.T) {
	_, out := run(t, "--help")
	for _, w := range []string{"EVERY 4xx and 5xx is CRITICAL", "check_http makes 4xx only WARNING", "--auth-file", AuthEnv, "Examples:"} {
		if !strings.Contains(out, w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}

func TestAddressFamily(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := &http.Server{Handler: testMux(), ErrorLog: nilLogger()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	runMatrix(t, []matrixCase{
		{"-6 literal", []string{"-u", "http://[::1]:" + p + "/text", "-6"}, 0, []string{`http://\[::1\]:\d+/text 200 OK`}, nil},
		{"-6 via resolve", []string{"-u", "http://v6.test:" + p + "/echo", "--resolve", "v6.test:" + p + ":[::1]", "-6", "-s", "host=v6.test:" + p}, 0, nil, nil},
		{"-4 cannot reach ::1", []string{"-u", "http://[::1]:" + p + "/text", "-4"}, 2, []string{`connect to \[::1\]:\d+ failed`}, nil},
		{"-H v6 with -p", []string{"-H", "::1", "-p", p, "--path", "/text"}, 0, nil, nil},
	})
}
