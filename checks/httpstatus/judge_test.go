package httpstatus

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// parsed is the options and plan go-flags and Validate would make of args.
func parsed(t *testing.T, args ...string) (*Options, *plan) {
	t.Helper()
	parser, check, _ := plugin.NewParser(Plugin)
	if _, err := parser.ParseArgs(args); err != nil {
		t.Fatal(err)
	}
	o := check.(*Options)
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	return o, p
}

// answer is a response as httpprobe gives it.
func answer(u string, status int, body string, header ...string) *httpprobe.Response {
	pu, _ := url.Parse(u)
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	return &httpprobe.Response{URL: pu, Status: status, StatusLine: itoa(status) + " " + http.StatusText(status), Proto: "HTTP/1.1",
		Header: h, Body: []byte(body), Timing: httpprobe.Timing{Total: 120 * time.Millisecond}}
}

// judge is a pure function: every case is options and observations in,
// the rendered output out; no server, no file, no clock.
func TestJudge(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{Subject: pkixName("www.example.org"), NotBefore: now.AddDate(0, -2, 0), NotAfter: now.Add(10 * 24 * time.Hour)}
	handshake := &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{leaf}}
	probed := &tlsprobe.Result{Addr: "192.0.2.1:443 via proxy 192.0.2.9:3128", Version: "TLS 1.3", Chain: []*x509.Certificate{leaf}}
	const u = "https://www.example.org/health"
	tests := []struct {
		name string
		args []string
		urls []fetched
		code plugin.State
		want []string // regular expressions the rendered output must match
	}{
		{"2xx OK", nil, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, "fine")}}}, plugin.OK,
			[]string{`^HTTP OK - https://www.example.org/health 200 OK - 4 bytes in 0.120s \|`, `time=0.12s;;;0 `, `http_status=200`}},
		{"every 4xx is CRITICAL", nil, []fetched{{Chain: []*httpprobe.Response{answer(u, 403, "")}}}, plugin.CRITICAL,
			[]string{`403 Forbidden - client error`}},
		{"--warn-status", []string{"--warn-status", "429"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 429, "")}}}, plugin.WARNING,
			[]string{`status 429 is in --warn-status 429`}},
		{"-e exact", []string{"-e", "204"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, "")}}}, plugin.CRITICAL,
			[]string{`200 OK - expected 204`}},
		{"redirect warning", []string{"-f", "warning"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 302, "", "Location", "/login")}}}, plugin.WARNING,
			[]string{`302 Found - redirect to /login`}},
		{"followed redirect", []string{"-f", "follow"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 301, "", "Location", "/new"), answer("https://www.example.org/new", 200, "x")}}}, plugin.OK,
			[]string{`200 OK \(after 1 redirect to https://www.example.org/new\) - 1 bytes in 0.240s`}},
		{"string, regex, jq", []string{"-s", "ok", "-r", "^up", "--jq", ".status == \"ok\""}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, `{"status":"degraded"}`)}}}, plugin.CRITICAL,
			[]string{`string 'ok' not found`, `pattern '\^up' not found`, `--jq '.status == "ok"' gave false, not true`}},
		// --jq reads the body as jq does: JSON values separated by white
		// space, each judged; anything else after a value is not JSON.
		{"jq: trailing garbage is not JSON", []string{"--jq", ".a == 1"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, `{"a":1} garbage <html>`)}}}, plugin.CRITICAL,
			[]string{`--jq: body is not JSON \(after 1 JSON value\(s\): invalid character 'g'`}},
		{"jq: every value judged", []string{"--jq", ".a == 1"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, `{"a":1} {"a":2}`)}}}, plugin.CRITICAL,
			[]string{`--jq '.a == 1' gave false for JSON value 2 of 2, not true`}},
		{"jq: the message is the failing value's", []string{"--jq", ".a", "--jq-message", ".why"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, `{"a":true,"why":"fine"} {"a":false,"why":"disk full"}`)}}}, plugin.CRITICAL,
			[]string{`gave false for JSON value 2 of 2, not true - server says 'disk full'`}},
		{"jq: JSON lines all true", []string{"--jq", ".a > 0"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, "{\"a\":1}\n{\"a\":2}\n")}}}, plugin.OK, nil},
		{"jq: empty body", []string{"--jq", ".a"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, " \n")}}}, plugin.CRITICAL,
			[]string{`--jq: body is not JSON \(empty\)`}},
		{"header rule", []string{"--expect-header", "X-Version:^2"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, "", "X-Version", "1.9")}}}, plugin.CRITICAL,
			[]string{`header X-Version: '1.9' does not match '\^2'`}},
		{"slow", []string{"-w", "0.1", "-c", "1"}, []fetched{{Chain: []*httpprobe.Response{answer(u, 200, "")}}}, plugin.WARNING,
			[]string{`took 0.120s \(warning 0.1\)`, `time=0.12s;0.1;1;0`}},
		{"no answer", nil, []fetched{{Fail: &failure{Text: "connection to 192.0.2.1:443 refused", Elapsed: 3 * time.Millisecond}}}, plugin.CRITICAL,
			[]string{`^HTTP CRITICAL - https://www.example.org/health - connection to 192.0.2.1:443 refused \| time=0.003s;;;0`}},
		{"-C alone: days from the observed time", []string{"-C", "30,7"}, []fetched{{Cert: probed, Took: 50 * time.Millisecond}}, plugin.WARNING,
			[]string{`certificate 'www.example.org' expires in 10(\.0)? days`, `cert_days=10;30:;7:`}},
		{"-C alone -v", []string{"-C", "30,7", "-v"}, []fetched{{Cert: probed, Took: 50 * time.Millisecond}}, plugin.WARNING,
			[]string{`\nwww.example.org TLS 1.3 .*; certificate 'www.example.org' .* from 192.0.2.1:443 via proxy 192.0.2.9:3128`}},
		{"-C on two URLs: days per URL", []string{"-u", u, "-u", "https://www.example.org/other", "-C", "30,7"}, []fetched{{Cert: probed, Took: 50 * time.Millisecond}, {Cert: probed, Took: 60 * time.Millisecond}}, plugin.WARNING,
			[]string{`'www.example.org/health cert_days'=10;30:;7:`, `'www.example.org/other cert_days'=10;30:;7:`}},
		{"-C alone on http", []string{"-C", "30", "-u", "http://www.example.org/"}, []fetched{{}}, plugin.UNKNOWN,
			[]string{`-C needs an https URL`}},
		{"-C continue", []string{"-C", "30,7", "--continue-after-certificate"}, []fetched{{Chain: []*httpprobe.Response{withTLS(answer(u, 500, ""), handshake)}}}, plugin.CRITICAL,
			[]string{`500 Internal Server Error - server error - certificate 'www.example.org' expires in 10`}},
		{"-v notes", []string{"-v"}, []fetched{{Chain: []*httpprobe.Response{withTLS(answer(u, 200, ""), handshake)}}}, plugin.OK,
			[]string{`\nhttps://www.example.org/health HTTP/1.1 200 OK from ; dns`, `TLS 1.3`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !containsArg(args, "-u") {
				args = append([]string{"-u", u}, args...)
			}
			o, p := parsed(t, args...)
			verbose := 0
			if containsArg(args, "-v") {
				verbose = 1
			}
			res := judge(o, p, observations{Now: now, Verbose: verbose, URLs: tt.urls})
			out := plugin.Render("HTTP", res, 0)
			if res.State() != tt.code {
				t.Errorf("state %v, want %v\n%s", res.State(), tt.code, out)
			}
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output does not match %q:\n%s", w, out)
				}
			}
		})
	}
}

// Several URLs: one line each, the summary names the failing ones.
func TestJudgeSeveral(t *testing.T) {
	o, p := parsed(t, "-u", "http://a.example/", "-u", "http://b.example/x")
	res := judge(o, p, observations{URLs: []fetched{
		{Chain: []*httpprobe.Response{answer("http://a.example/", 200, "")}},
		{Fail: &failure{Text: "DNS lookup of b.example: no such host"}},
	}})
	out := plugin.Render("HTTP", res, 0)
	if !strings.HasPrefix(out, "HTTP CRITICAL - 1 of 2 URLs not OK: http://b.example/x - DNS lookup of b.example: no such host | ") ||
		!strings.Contains(out, "urls_not_ok=1;;;0;2") {
		t.Errorf("got\n%s", out)
	}
}

func withTLS(r *httpprobe.Response, cs *tls.ConnectionState) *httpprobe.Response {
	r.TLS = cs
	return r
}

func containsArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }
