// Package netproxy reaches a TCP endpoint through an HTTP proxy (HTTP
// CONNECT) and picks the proxy from the environment the way curl does:
// the lowercase variable wins over the uppercase one, and no_proxy names
// hosts reached directly. A CONNECT tunnel carries any byte stream, so a
// STARTTLS opening works through it as well as a TLS handshake, if the
// proxy allows CONNECT to that port.
package netproxy

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Dialer opens connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Parse parses a proxy URL: http:// only (CONNECT is spoken in clear to
// the proxy; "host:port" alone means http://), with a port, as proxies
// listen on no standard one. Messages never show the password.
func Parse(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URL: use http://HOST:PORT")
	}
	switch {
	case u.Scheme != "http":
		return nil, fmt.Errorf("scheme %q is not supported: an HTTP proxy (http://HOST:PORT) that speaks CONNECT", u.Scheme)
	case u.Hostname() == "":
		return nil, errors.New("no host: use http://HOST:PORT")
	case u.Port() == "":
		return nil, errors.New("no port: use http://HOST:PORT")
	case u.Path != "" && u.Path != "/", u.RawQuery != "":
		return nil, errors.New("a proxy URL has no path or query: use http://HOST:PORT")
	}
	return u, nil
}

// Env is the proxy configuration of the environment.
type Env struct {
	HTTPS, HTTP string // the raw values of https_proxy and http_proxy
	NoProxy     string
}

// FromEnv reads https_proxy, http_proxy and no_proxy, each lowercase
// first (curl's order; Go's net/http prefers the uppercase one).
func FromEnv(getenv func(string) string) Env {
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return getenv(strings.ToUpper(name))
	}
	return Env{HTTPS: get("https_proxy"), HTTP: get("http_proxy"), NoProxy: get("no_proxy")}
}

// For returns the proxy for host (a name or an address, no port) under
// scheme "https" or "http", or nil when none is set or no_proxy matches.
func (e Env) For(scheme, host string) (*url.URL, error) {
	raw := e.HTTP
	if scheme == "https" {
		raw = e.HTTPS
	}
	if raw == "" || Bypass(e.NoProxy, host) {
		return nil, nil
	}
	u, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s_proxy: %w", scheme, err)
	}
	return u, nil
}

// Bypass says whether no_proxy names host: "*", the host itself, a
// domain it is in (".example.com" or "example.com"), an IP address or a
// CIDR range holding it. Ports in entries are ignored.
func Bypass(noProxy, host string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	ip := net.ParseIP(host)
	for _, e := range strings.FieldsFunc(noProxy, func(r rune) bool { return r == ',' || r == ' ' }) {
		e = strings.ToLower(e)
		if e == "*" {
			return true
		}
		if _, n, err := net.ParseCIDR(e); err == nil {
			if ip != nil && n.Contains(ip) {
				return true
			}
			continue
		}
		if h, _, err := net.SplitHostPort(e); err == nil {
			e = h
		}
		e = strings.Trim(e, "[]")
		if eip := net.ParseIP(e); eip != nil {
			if ip != nil && eip.Equal(ip) {
				return true
			}
			continue
		}
		e = strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
		if e != "" && (host == e || strings.HasSuffix(host, "."+e)) {
			return true
		}
	}
	return false
}

// Dial connects to addr ("host:port") through the HTTP proxy with
// CONNECT. ctx bounds the dial and the proxy's answer.
func Dial(ctx context.Context, d Dialer, network string, proxy *url.URL, addr string) (net.Conn, error) {
	conn, err := d.DialContext(ctx, network, proxy.Host)
	if err != nil {
		return nil, &Error{Proxy: proxy.Host, Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, err := connect(conn, proxy, addr)
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, &Error{Proxy: proxy.Host, Err: err}
	}
	return c, nil
}

// Error is a failure to reach addr through the proxy: the proxy's
// address is named, so it is not taken for the endpoint's.
type Error struct {
	Proxy string // host:port
	Err   error
}

func (e *Error) Error() string { return "proxy " + e.Proxy + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// maxHeader bounds the proxy's answer to CONNECT.
const maxHeader = 16 << 10

func connect(conn net.Conn, proxy *url.URL, addr string) (net.Conn, error) {
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return nil, fmt.Errorf("CONNECT: %w", err)
	}
	br := bufio.NewReaderSize(&limited{conn, maxHeader}, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, fmt.Errorf("CONNECT %s: no valid answer: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("CONNECT %s refused: %s", addr, resp.Status)
	}
	// What the proxy sent after its answer (an SMTP greeting, say) is
	// already in br: read it from there first.
	return &tunnel{Conn: conn, r: br}, nil
}

// limited fails reads past n bytes: the header must fit.
type limited struct {
	conn net.Conn
	n    int
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("answer header too long")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.conn.Read(p)
	l.n -= n
	return n, err
}

// tunnel reads what the proxy sent past its answer from r, then conn.
type tunnel struct {
	net.Conn
	r *bufio.Reader
}

func (t *tunnel) Read(p []byte) (int, error) {
	if t.r != nil && t.r.Buffered() > 0 {
		return t.r.Read(p)
	}
	t.r = nil
	return t.Conn.Read(p)
}
