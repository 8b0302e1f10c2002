package netproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

func TestFromEnvLowercaseWins(t *testing.T) {
	env := map[string]string{"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2", "HTTP_PROXY": "http://up:3", "NO_PROXY": "x.test", "no_proxy": "y.test"}
	e := FromEnv(func(k string) string { return env[k] })
	if e.HTTPS != "http://low:1" || e.HTTP != "http://up:3" || e.NoProxy != "y.test" || e.Note != "" {
		t.Errorf("FromEnv = %+v", e)
	}
	for _, tt := range []struct {
		url, want string
	}{
		{"https://a.test/", "http://low:1"},
		{"http://a.test/", "http://up:3"},
		{"https://y.test/", ""},
		{"https://x.test/", "http://low:1"}, // NO_PROXY lost to no_proxy
		{"https://127.0.0.1/", ""},          // loopback: never proxied
	} {
		req, _ := http.NewRequest("GET", tt.url, nil)
		got, err := e.Request(req)
		if err != nil || (got == nil) != (tt.want == "") || (got != nil && got.String() != tt.want) {
			t.Errorf("Request(%s) = %v, %v; want %q", tt.url, got, err, tt.want)
		}
		u, _ := url.Parse(tt.url)
		tun, err := e.For(u.Scheme, u.Host)
		if err != nil || (tun == nil) != (tt.want == "") || (tun != nil && tun.String() != tt.want) {
			t.Errorf("For(%s) = %v, %v; want %q", tt.url, tun, err, tt.want)
		}
	}
	// A tunnel needs an http:// proxy with a port; a request does not.
	e = Env{HTTPS: "socks5://s:1080"}
	if _, err := e.For("https", "a.test:443"); err == nil || !strings.Contains(err.Error(), `https_proxy: scheme "socks5"`) {
		t.Errorf("For with socks5: %v", err)
	}
	req, _ := http.NewRequest("GET", "https://a.test/", nil)
	if p, err := e.Request(req); err != nil || p == nil || p.Scheme != "socks5" {
		t.Errorf("Request with socks5: %v, %v", p, err)
	}
	// Under CGI, HTTP_PROXY may be a request header (httpoxy): ignored,
	// with a note; lowercase http_proxy, which no header sets, is used.
	cgi := FromEnv(func(k string) string {
		return map[string]string{"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}[k]
	})
	req, _ = http.NewRequest("GET", "http://a.test/", nil)
	if p, err := cgi.Request(req); p != nil || err != nil || !strings.Contains(cgi.Note, "HTTP_PROXY ignored") {
		t.Errorf("CGI, HTTP_PROXY: %v, %v, note %q", p, err, cgi.Note)
	}
	cgi = FromEnv(func(k string) string {
		return map[string]string{"http_proxy": "http://good:1", "HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}[k]
	})
	if p, err := cgi.Request(req); err != nil || p == nil || p.Host != "good:1" || cgi.Note != "" {
		t.Errorf("CGI, http_proxy: %v, %v, note %q", p, err, cgi.Note)
	}
	cgi = FromEnv(func(k string) string {
		return map[string]string{"HTTPS_PROXY": "http://up:1", "REQUEST_METHOD": "GET"}[k]
	})
	req, _ = http.NewRequest("GET", "https://a.test/", nil)
	if p, err := cgi.Request(req); err != nil || p == nil || p.Host != "up:1" {
		t.Errorf("CGI, HTTPS_PROXY (no header can set it): %v, %v", p, err)
	}
}

// A variable that is not a proxy URL is an error naming it, never its
// value; for a request that would use it only.
func TestInvalidVariables(t *testing.T) {
	for _, tc := range []struct {
		env      map[string]string
		url      string
		want     string // "" : no error, no proxy
		tunnelOK bool
	}{
		{map[string]string{"http_proxy": "http://pu:pw@127.0.0.1:47090:bad"}, "http://a.test/", "http_proxy: not a URL", false},
		{map[string]string{"http_proxy": "::garbage"}, "http://a.test/", "http_proxy: not a URL", false},
		{map[string]string{"HTTPS_PROXY": "http://pu:pw@:3128"}, "https://a.test/", "HTTPS_PROXY: no host", false},
		{map[string]string{"https_proxy": "ftp://pu:pw@p:21"}, "https://a.test/", `https_proxy: proxy scheme not supported: "ftp"`, false},
		{map[string]string{"http_proxy": "::garbage"}, "https://a.test/", "", true},                      // not the variable of https
		{map[string]string{"http_proxy": "::garbage", "no_proxy": "a.test"}, "http://a.test/", "", true}, // bypassed
	} {
		e := FromEnv(func(k string) string { return tc.env[k] })
		req, _ := http.NewRequest("GET", tc.url, nil)
		p, err := e.Request(req)
		var ve *VarError
		switch {
		case tc.want == "" && (err != nil || p != nil):
			t.Errorf("%v %s: %v, %v; want none", tc.env, tc.url, p, err)
		case tc.want != "" && (!errors.As(err, &ve) || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%v %s: %v; want %q", tc.env, tc.url, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "pw"):
			t.Errorf("%v: the password is shown: %v", tc.env, err)
		}
		u, _ := url.Parse(tc.url)
		if _, err := e.For(u.Scheme, u.Host); (err == nil) != tc.tunnelOK || (err != nil && (!errors.As(err, &ve) || strings.Contains(err.Error(), "pw"))) {
			t.Errorf("For %v %s: %v", tc.env, tc.url, err)
		}
	}
}

func TestBypass(t *testing.T) {
	tests := []struct {
		noProxy, host string
		want          bool
	}{
		{"", "a.test", false},
		{"*", "a.test", true},
		{"a.test", "a.test", true},
		{"a.test", "www.a.test", true},
		{".a.test", "www.a.test", true},
		{"*.a.test", "www.a.test", true},
		{"a.test", "ba.test", false},
		{"b.test, A.TEST:443", "a.test", true},
		{"A.TEST:8443", "a.test", false}, // a port in an entry is that port only
		{"A.TEST:8443", "a.test:8443", true},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.1.2.3", false},
		{"fd00::/8", "[fd00::1]", true},
		{"192.0.2.1", "192.0.2.1", true},
		{"192.0.2.1", "192.0.2.2", false},
		{"2001:db8::1", "[2001:db8::1]", true},
		{"", "localhost", true}, // loopback: never proxied
		{"", "127.0.0.1", true},
		{"", "[::1]", true},
	}
	for _, tt := range tests {
		if got := Bypass(tt.noProxy, "https", tt.host); got != tt.want {
			t.Errorf("Bypass(%q, %q) = %v", tt.noProxy, tt.host, got)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"http://p.test:3128":        "",
		"p.test:3128":               "",
		"socks5://p.test:1080":      `scheme "socks5" is not supported`,
		"http://p.test":             "no port",
		"http://u:secret@:1":        "no host",
		"http://p.test:3128/x?y=z":  "no path or query",
		"http://u:secret@p.test:80": "",
	} {
		_, err := Parse(in)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q) shows the password: %v", in, err)
		}
	}
}

// TestDial: a CONNECT tunnel to a server that speaks first (as SMTP
// does) loses none of the bytes the proxy sent along with its answer.
func TestDial(t *testing.T) {
	target := serve(t, func(c net.Conn) { io.WriteString(c, "220 hello\r\n"); io.Copy(c, c) })
	auths := make(chan string, 4)
	proxy := serve(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil || req.Method != http.MethodConnect {
			return
		}
		auths <- req.Header.Get("Proxy-Authorization")
		if req.Host == "refused.test:25" {
			io.WriteString(c, "HTTP/1.1 403 Forbidden\r\n\r\n")
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer up.Close()
		// The answer and the server's greeting in one write.
		greeting := make([]byte, 11)
		io.ReadFull(up, greeting)
		c.Write(append([]byte("HTTP/1.1 200 Connection established\r\n\r\n"), greeting...))
		go io.Copy(up, c)
		io.Copy(c, up)
	})
	u, _ := Parse("http://user:pw@" + proxy)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := Dial(ctx, &net.Dialer{}, "tcp", u, "svc.test:25")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	line, _ := r.ReadString('\n')
	if line != "220 hello\r\n" {
		t.Errorf("greeting %q", line)
	}
	io.WriteString(c, "echo\n")
	if line, _ = r.ReadString('\n'); line != "echo\n" {
		t.Errorf("echo %q", line)
	}
	if auth := <-auths; auth != "Basic dXNlcjpwdw==" {
		t.Errorf("Proxy-Authorization %q", auth)
	}
	if _, err := Dial(ctx, &net.Dialer{}, "tcp", u, "refused.test:25"); err == nil || !strings.Contains(err.Error(), "CONNECT refused.test:25 refused: 403 Forbidden") {
		t.Errorf("refused: %v", err)
	}
}

func serve(t *testing.T, f func(net.Conn)) string {
	t.Helper()
	return testutil.Serve(t, "127.0.0.1:0", f)
}

func TestTransportSchemes(t *testing.T) {
	for _, s := range []string{"http://p:1", "https://p:1", "socks5://u:pw@p:1", "socks5h://p:1", "p:3128"} {
		if _, err := ParseTransport(s); err != nil {
			t.Errorf("ParseTransport(%q): %v", s, err)
		}
	}
	for _, s := range []string{"socks9://p:pw@p:1", "ftp://p:1", "http://"} {
		_, err := ParseTransport(s)
		if err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("ParseTransport(%q) = %v, want an error without the password", s, err)
		}
	}
	env := map[string]string{"HTTPS_PROXY": "socks9://u:pw@p:1"}
	e := FromEnv(func(k string) string { return env[k] })
	req, _ := http.NewRequest("GET", "https://a.test/", nil)
	_, err := e.Request(req)
	if !errors.Is(err, ErrScheme) || !strings.HasPrefix(err.Error(), "HTTPS_PROXY: ") || strings.Contains(err.Error(), "pw") {
		t.Errorf("Request through socks9 = %v", err)
	}
}
