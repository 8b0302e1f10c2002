package httpstatus

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Bad option values are an UNKNOWN naming the option and the text, before
// any request is made (the URLs point nowhere reachable: a request would
// be a CRITICAL).
func TestStrictOptionValues(t *testing.T) {
	u := []string{"-u", "http://192.0.2.1/"}
	with := func(args ...string) []string { return append(append([]string(nil), u...), args...) }
	runMatrix(t, []matrixCase{
		{"-p 0", []string{"-H", "192.0.2.1", "-p", "0"}, 3, []string{`^HTTP UNKNOWN - invalid argument for flag -p, --port: invalid port "0": use 1-65535`}, nil},
		{"-p 65536", []string{"-H", "192.0.2.1", "-p", "65536"}, 3, []string{`flag -p, --port.*invalid port "65536"`}, nil},
		{"-p ''", []string{"-H", "192.0.2.1", "-p", ""}, 3, []string{`flag -p, --port.*invalid port ""`}, nil},
		{"-p 0x50", []string{"-H", "192.0.2.1", "-p", "0x50"}, 3, []string{`flag -p, --port.*invalid port "0x50"`}, nil},
		{"-I ''", with("-I", ""), 3, []string{`flag -I, --ip.*invalid address "": empty`}, nil},
		{"-I unbalanced", with("-I", "[::1"), 3, []string{`flag -I, --ip.*invalid address "\[::1"`}, nil},
		{"-I bad IPv4", with("-I", "192.0.2.300"), 3, []string{`flag -I, --ip.*invalid address "192.0.2.300": "192.0.2.300" is not an IP address`}, nil},
		{"-I bad port", with("-I", "192.0.2.1:0"), 3, []string{`flag -I, --ip.*invalid port "0"`}, nil},
		{"-I with a space", with("-I", "not an ip"), 3, []string{`flag -I, --ip.*is not an IP address or host name`}, nil},
		{"-H unbalanced", []string{"-H", "[::1"}, 3, []string{`^HTTP UNKNOWN - invalid -H "\[::1"`}, nil},
		{"-H port 0", []string{"-H", "example.org:0"}, 3, []string{`^HTTP UNKNOWN - invalid -H "example.org:0": invalid port "0"`}, nil},
		{"--jq ''", with("--jq", ""), 3, []string{`flag --jq.*invalid jq expression "": empty`}, nil},
		{"--jq ' '", with("--jq", " "), 3, []string{`flag --jq.*invalid jq expression " ": empty`}, nil},
		{"--jq syntax", with("--jq", ".a =="), 3, []string{`^HTTP UNKNOWN - invalid --jq "\.a =="`}, nil},
		{"-j ''", with("-j", ""), 3, []string{`flag -j, --method.*invalid method "": empty`}, nil},
		{"-j space", with("-j", "GE T"), 3, []string{`flag -j, --method.*invalid method "GE T"`}, nil},
		{"-j CRLF", with("-j", "GET\r\nX-Evil: 1"), 3, []string{`flag -j, --method.*invalid method "GET\\r\\nX-Evil: 1"`}, nil},
		{"-k CRLF", with("-k", "X-A: b\r\nX-Evil: 1"), 3, []string{`^HTTP UNKNOWN - invalid -k "X-A: b\\r\\nX-Evil: 1": control characters`}, nil},
		{"-k LF", with("-k", "X-A: b\nc"), 3, []string{`invalid -k "X-A: b\\nc"`}, nil},
		{"-A CR", with("-A", "agent\r"), 3, []string{`^HTTP UNKNOWN - invalid -A "agent\\r"`}, nil},
		{"-T LF", with("-P", "x", "-T", "text/plain\nX: y"), 3, []string{`^HTTP UNKNOWN - invalid -T "text/plain\\nX: y"`}, nil},
		{"-C spaces", []string{"-u", "https://192.0.2.1/", "-C", "30, 14"}, 3, []string{`flag -C, --certificate.*invalid certificate days "30, 14"`}, nil},
		{"-C inf", []string{"-u", "https://192.0.2.1/", "-C", "inf"}, 3, []string{`invalid certificate days "inf"`}, nil},
		{"-w 5%", with("-w", "5%"), 3, []string{`flag -w, --warning.*invalid range "5%": "5%" is not a number`}, nil},
		{"-c ' 5'", with("-c", " 5"), 3, []string{`flag -c, --critical.*invalid range " 5"`}, nil},
		{"-t ''", with("-t", ""), 3, []string{`flag -t, --timeout.*invalid timeout "": empty`}, nil},
	})
}

// -I with a full -u URL is where that URL's connections go; it used to be
// ignored unless -H was given.
func TestIPWithFullURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	runMatrix(t, []matrixCase{
		{"-I ADDR:PORT", []string{"-u", "http://unreachable.test/", "-I", "127.0.0.1:" + port, "-s", "host=unreachable.test", "-t", "5"}, 0, []string{`^HTTP OK`}, nil},
		{"-I ADDR keeps the URL's port", []string{"-u", "http://unreachable.test:" + port + "/", "-I", "127.0.0.1", "-t", "5"}, 0, []string{`^HTTP OK`}, nil},
	})
}

// -H HOST:PORT with -p, as check_curl: the port of -H is the URL's and
// the Host header's (none when it is the scheme's default), -p is where
// connections go; the URL shown is the one requested.
func TestVirtualPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	runMatrix(t, []matrixCase{
		{"-H HOST:PORT -I -p", []string{"-H", "unreachable.test:42", "-I", "127.0.0.1", "-p", port, "-u", "/x", "-r", "^host=unreachable.test:42$", "-t", "5"}, 0, []string{`^HTTP OK - http://unreachable.test:42/x `}, nil},
		{"-H HOST:80 -I -p", []string{"-H", "unreachable.test:80", "-I", "127.0.0.1", "-p", port, "-r", "^host=unreachable.test$", "-t", "5"}, 0, []string{`^HTTP OK - http://unreachable.test/ `}, nil},
		{"-H ADDR:PORT -p, no -I", []string{"-H", "127.0.0.1:42", "-p", port, "-r", "^host=127.0.0.1:42$", "-t", "5"}, 0, []string{`^HTTP OK - http://127.0.0.1:42/ `}, nil},
		{"-H HOST:PORT -I ADDR:PORT", []string{"-H", "unreachable.test:42", "-I", "127.0.0.1:" + port, "-p", "9", "-r", "^host=unreachable.test:42$", "-t", "5"}, 0, []string{`^HTTP OK`}, nil},
		{"--resolve gives the address, -p the port", []string{"-H", "unreachable.test:42", "-I", "192.0.2.1", "-p", port, "--resolve", "unreachable.test:42:127.0.0.1", "-t", "5"}, 0, []string{`^HTTP OK`}, nil},
	})
}
