package httpstatus

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// peerCase is one case of monitoring-plugins' own tests for the peers
// (plugins/tests/check_curl.t and check_http.t): the peer's options and
// state, ours, and, where the states differ, the words of --help and the
// README that document the difference.
type peerCase struct {
	// src is the peer's test file: "curl", "http" or "both"; "semantics"
	// is a case of neither file, the peers' behaviour ported (noted).
	src  string
	peer []string // after "-H 127.0.0.1 -p PORT" (and --ssl over https); whole with custom
	ours []string // nil: the peer's options work as they are
	env  []string // environment of both runs
	// custom: peer is the whole command line; {port}, {sport} and
	// {expired} are the daemons' ports.
	custom bool
	scope  string // "both" (http and https, as run_common_tests), "http", "https"
	want   plugin.State
	got    plugin.State // ours, when it differs from the peer's
	doc    string       // a difference: words --help and the README both hold
	note   string
}

const critical4xx = "every 4xx and 5xx is critical"

func peerCases() []peerCase {
	ok, warn, crit := plugin.OK, plugin.WARNING, plugin.CRITICAL
	return []peerCase{
		{src: "both", peer: []string{"-u", "/file/root"}, want: ok},
		{src: "both", peer: []string{"-u", "/file/root", "-s", "Root"}, want: ok},
		{src: "both", peer: []string{"-u", "/file/root", "-s", "NonRoot"}, want: crit},
		{src: "both", peer: []string{"-u", "/file/root", "-s", "NonRootWithOver30charsAndMoreFunThanAWetFish"}, want: crit},
		{src: "both", peer: []string{"-u", "/header_check", "-d", "foo"}, want: ok},
		{src: "curl", peer: []string{"-u", "/header_check", "-d", "bar"}, want: crit},
		{src: "http", peer: []string{"-u", "/header_check", "-d", "foobar"}, want: crit},
		{src: "curl", peer: []string{"-u", "/header_broken_check"}, want: ok, note: "a header line 'Test1:: broken' and one with leading white space"},
		{src: "both", peer: []string{"-u", "/slow"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/200"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/200", "-e", "200"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/201"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/201", "-e", "201"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/201", "-e", "200"}, want: crit},
		{src: "both", peer: []string{"-u", "/statuscode/200", "-e", "200,201,202"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/201", "-e", "200,201,202"}, want: ok},
		{src: "both", peer: []string{"-u", "/statuscode/203", "-e", "200,201,202"}, want: crit},
		{src: "both", peer: []string{"-j", "HEAD", "-u", "/method"}, want: ok, note: "the answer is a bare status line"},
		{src: "both", peer: []string{"-j", "POST", "-u", "/method"}, want: ok, note: "the answer is a bare status line"},
		{src: "both", peer: []string{"-j", "GET", "-u", "/method"}, want: ok, note: "the answer is a bare status line"},
		{src: "both", peer: []string{"-u", "/method"}, want: ok, note: "the answer is a bare status line"},
		{src: "both", peer: []string{"-P", "foo", "-u", "/method"}, want: ok, note: "the answer is a bare status line"},
		{src: "both", peer: []string{"-j", "DELETE", "-u", "/method"}, want: warn, got: crit, doc: critical4xx, note: "405"},
		{src: "both", peer: []string{"-j", "foo", "-u", "/method"}, want: crit, note: "501 only if 'foo' is sent as it is (methods are case-sensitive)"},
		{src: "both", peer: []string{"-P", "stufftoinclude", "-u", "/postdata", "-s", "POST:stufftoinclude"}, want: ok},
		{src: "both", peer: []string{"-j", "PUT", "-P", "stufftoinclude", "-u", "/postdata", "-s", "PUT:stufftoinclude"}, want: ok},
		{src: "both", peer: []string{"-P", "stufftoinclude", "-j", "PUT", "-u", "/postdata", "-s", "PUT:stufftoinclude"}, want: ok},
		{src: "both", peer: []string{"-u", "/redirect"}, want: ok},
		{src: "both", peer: []string{"-f", "follow", "-u", "/redirect"}, want: ok},
		{src: "both", peer: []string{"-u", "/redirect", "-k", "follow: me"}, want: ok},
		{src: "both", peer: []string{"-f", "follow", "-u", "/redirect", "-k", "follow: me"}, want: ok},
		{src: "both", peer: []string{"-f", "sticky", "-u", "/redirect", "-k", "follow: me"}, want: ok},
		{src: "both", peer: []string{"-f", "stickyport", "-u", "/redirect", "-k", "follow: me"}, want: ok},
		{src: "curl", peer: []string{"-f", "follow", "-u", "/redirect_rel", "-s", "redirected"}, want: ok},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment/path1/path2/path3/path4", "--onredirect=follow", "-vvv"}, want: warn, got: crit, doc: critical4xx, note: "redirected to /, which answers 403"},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment/path1/path2;redirect_count=0;p1=1;p2=ab?qp1=10&qp2=kl#f1=test", "--onredirect=follow", "-vvv"}, want: ok},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment/path1/path2;location_redirect_count=0;p1=1;p2=ab?qp1=10&qp2=kl#f1=test", "--onredirect=follow", "-vvv"}, want: ok},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment/path1/path2;redirect_count=0;fail_count=2", "--onredirect=follow", "-vvv"}, want: warn, got: crit, doc: critical4xx, note: "403 when fail_count reaches 3"},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment;redirect_count=0;?qp0=0&qp1=1&qp2=2&qp3=3&qp4=4&qp5=5", "--onredirect=follow", "-vvv"}, want: ok},
		{src: "curl", peer: []string{"-u", "/redirect_with_increment/path1/path2;redirect_count=0;fragment=ebiil?qp1=0", "--onredirect=follow", "-vvv"}, want: ok},
		{src: "both", peer: []string{"-f", "stickyport", "-u", "/redir_external", "-t", "5", "-s", "redirected"}, want: ok, note: "stickyport keeps 127.0.0.1 and the port"},
		{src: "both", peer: []string{"-f", "sticky", "-u", "/redir_external", "-t", "5", "-s", "redirected"}, want: crit, note: "sticky keeps 127.0.0.1 on port 80/443, where nothing answers; the peer's test asserts only 'not OK'"},
		{src: "both", peer: []string{"-u", "/timeout", "-t", "5"}, ours: []string{"-u", "/timeout", "-t", "1"}, want: crit, note: "-t 1 to keep the test short; the peer's test asserts only that it still runs after 2s"},
		{src: "both", peer: []string{"-f", "follow", "-u", "/redir_timeout", "-t", "2"}, ours: []string{"-f", "follow", "-u", "/redir_timeout", "-t", "1"}, want: crit, note: "-t 1 to keep the test short"},
		{src: "curl", peer: []string{"-u", "/chunked", "-s", "chunkedencodingtest", "-d", "Transfer-Encoding: chunked"}, want: ok, note: "Transfer-Encoding must reach -d"},

		// --noproxy and the proxy variables: the peer's test asserts its -v
		// trace; the state follows from the options.
		{src: "curl", peer: []string{"-u", "/statuscode/200", "-v"}, env: []string{"no_proxy=internal.acme.org"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "-v"}, env: []string{"no_proxy=taken.acme.org", "NO_PROXY=discarded.acme.org"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--noproxy", "taken.acme.org", "-v"}, env: []string{"no_proxy=taken.acme.org", "NO_PROXY=discarded.acme.org"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--noproxy", "internal1.acme.org,internal2.acme.org,internal3.acme.org", "-v"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--noproxy", "10.11.12.13,256.256.256.256,0.0.0.0,192.156.0.0/22,10.0.0.0/4", "-v"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--noproxy", "0123:4567:89AB:CDEF:0123:4567:89AB:CDEF,0123::CDEF,0123:4567/96,[::1],::1,[1234::5678:ABCD/4]", "-v"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--noproxy", "300.400.500.600,1.2.3,XYZD:0123::,1:2:3:4:5:6:7,1::2::3,1.1.1.1/64,::/256", "-v"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--proxy", "http://proxy.example.com:8080", "--noproxy", "*", "-v"}, want: ok},
		{src: "curl", peer: []string{"-u", "/statuscode/200", "--proxy", "http://proxy.example.com:8080", "--noproxy", "127.0.0.1", "-v"}, want: ok},

		// Certificates (the peers run these over https only).
		{src: "both", scope: "https", custom: true, peer: []string{"-H", "127.0.0.1", "-p", "{sport}", "-S", "-C", "14"}, want: ok},
		{src: "both", scope: "https", custom: true, peer: []string{"-H", "127.0.0.1", "-p", "{sport}", "-S", "-C", "14000"}, want: warn},
		{src: "both", scope: "https", custom: true, peer: []string{"-H", "127.0.0.1", "-p", "{sport}", "-S", "-C", "13960,14000"}, want: crit, note: "CRIT above WARN"},
		{src: "both", scope: "https", custom: true, peer: []string{"-H", "127.0.0.1", "-p", "{expired}", "-S", "-C", "7"}, want: crit},

		// Virtual host and port (check_curl's "advanced checks").
		{src: "curl", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{port}", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com:{port}$"}, want: ok},
		{src: "curl", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com:42", "-I", "127.0.0.1", "-p", "{port}", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com:42$"}, want: ok, note: "the port of -H goes to the Host header"},
		{src: "curl", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com:80", "-I", "127.0.0.1", "-p", "{port}", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com$"}, want: ok, note: "-H host:80 sends Host: host"},
		{src: "curl", scope: "https", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{sport}", "--ssl", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com:{sport}$"}, want: ok},
		{src: "curl", scope: "https", custom: true, peer: []string{"-H", "www.somefunnyhost.com:42", "-I", "127.0.0.1", "-p", "{sport}", "--ssl", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com:42$"}, want: ok, note: "the port of -H goes to the Host header"},
		{src: "curl", scope: "https", custom: true, peer: []string{"-H", "www.somefunnyhost.com:443", "-I", "127.0.0.1", "-p", "{sport}", "--ssl", "-u", "/virtual_port", "-r", "^www.somefunnyhost.com$"}, want: ok, note: "-H host:443 sends Host: host"},

		// -I with redirects: check_curl maps -I to the URL's own host and
		// port (CURLOPT_RESOLVE) and lets curl follow, so a Location on
		// another host is resolved; check_http's redir() connects to the
		// Location's host too. sticky and stickyport keep -I's address.
		{src: "semantics", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{port}", "-u", "/redir_other_host", "-f", "follow"}, want: crit, note: "other.invalid is resolved, and does not resolve"},
		{src: "semantics", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{port}", "-u", "/redir_other_host", "-f", "sticky", "-s", "redirected"}, want: ok, note: "sticky keeps 127.0.0.1, the Location's port"},
		{src: "semantics", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{port}", "-u", "/redir_other_host", "-f", "stickyport", "-s", "redirected"}, want: ok},
		{src: "semantics", scope: "http", custom: true, peer: []string{"-H", "www.somefunnyhost.com", "-I", "127.0.0.1", "-p", "{port}", "-u", "/redirect_rel", "-f", "follow", "-s", "redirected"}, want: ok, note: "a Location on the same host and port goes to -I"},
	}
}

// Left out, as they need the internet or assert only the peer's -v
// trace of a proxy no one runs: the HTTP_EXTERNAL redirect to
// 169.254.169.254 with -f follow, and the http_proxy/HTTPS_PROXY/-x
// cases without --noproxy (a request through proxy.example.com).

// verifiedTLS is the difference every https case has: we verify the
// certificate, the peers do not; their daemons' certificates are
// self-signed, so our runs add --insecure.
const verifiedTLS = "verified by default"

// TestPeerSuites runs the peers' own test cases against their daemon,
// re-created in Go, over http and https.
func TestPeerSuites(t *testing.T) {
	srv := startPeerServers(t)
	bin := testutil.Binary(t, "check_http_status")
	help, readme := helpAndReadme(t)
	for _, doc := range []string{critical4xx, verifiedTLS} {
		if !strings.Contains(help, doc) || !strings.Contains(readme, doc) {
			t.Errorf("the difference %q is not in both --help and the README", doc)
		}
	}
	clean := []string{"http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "no_proxy=", "NO_PROXY=", "ALL_PROXY=", "all_proxy="}
	for i, c := range peerCases() {
		for _, scheme := range []string{"http", "https"} {
			if c.scope != "" && c.scope != "both" && c.scope != scheme {
				continue
			}
			peer, ours := c.commandLines(scheme, srv)
			name := strconv.Itoa(i) + "/" + scheme + "/" + strings.Join(c.peer, " ")
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				want := c.want
				if c.doc != "" {
					want = c.got
					if !strings.Contains(help, c.doc) || !strings.Contains(readme, c.doc) {
						t.Errorf("the difference %q is not documented in --help and the README", c.doc)
					}
				}
				res := testutil.RunEnv(t, append(clean, c.env...), bin, ours...)
				if plugin.State(res.Code) != want {
					t.Errorf("peer: %s (%s)\nours: %s\nexit %d, want %d (peer %d) %s\n%s",
						strings.Join(peer, " "), c.src, strings.Join(ours, " "), res.Code, want, c.want, c.note, res.Stdout)
				}
			})
		}
	}
}

// commandLines are the peer's command line and ours for one scheme.
func (c peerCase) commandLines(scheme string, s peerServers) (peer, ours []string) {
	port := s.http
	if scheme == "https" {
		port = s.https
	}
	sub := strings.NewReplacer("{port}", strconv.Itoa(s.http), "{sport}", strconv.Itoa(s.https), "{expired}", strconv.Itoa(s.expired))
	expand := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = sub.Replace(a)
		}
		return out
	}
	prefix := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	if scheme == "https" {
		prefix = append(prefix, "--ssl")
	}
	if c.custom {
		prefix = nil
	}
	peer = append(append([]string(nil), prefix...), expand(c.peer)...)
	o := c.ours
	if o == nil {
		o = c.peer
	}
	ours = append(append([]string(nil), prefix...), expand(o)...)
	if scheme == "https" {
		ours = append(ours, "--insecure") // the peers do not verify; see verifiedTLS
	}
	return peer, ours
}

// helpAndReadme are --help and the README's check_http_status section,
// in lower case.
func helpAndReadme(t *testing.T) (string, string) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	if i := strings.Index(readme, "<!-- section: check_http_status -->"); i >= 0 {
		readme = readme[i:]
	}
	if i := strings.Index(readme, "<!-- end: check_http_status -->"); i >= 0 {
		readme = readme[:i]
	}
	return strings.ToLower(Plugin.Help), strings.ToLower(strings.Join(strings.Fields(readme), " "))
}
