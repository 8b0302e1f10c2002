// Package netproxy reaches a TCP endpoint through an HTTP proxy (HTTP
// CONNECT) and picks the proxy from the environment, for these tunnels
// and for an http.Transport alike: the lowercase variable wins over the
// uppercase one, as in curl, and no_proxy names hosts reached directly
// (matched by golang.org/x/net/http/httpproxy, as net/http does). A CONNECT tunnel carries any byte stream, so a
// STARTTLS opening works through it as well as a TLS handshake, if the
// proxy allows CONNECT to that port.
package netproxy

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"
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

// ErrScheme is a proxy whose scheme no client here speaks.
var ErrScheme = errors.New("proxy scheme not supported")

// ParseTransport parses a proxy URL for an http.Transport: http, https,
// socks5 or socks5h ("host:port" alone means http://), with a host.
// Messages never show the password.
func ParseTransport(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URL: use scheme://HOST:PORT")
	}
	if err := checkTransportScheme(u); err != nil {
		return nil, err
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host: use scheme://HOST:PORT")
	}
	return u, nil
}

func checkTransportScheme(u *url.URL) error {
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return nil
	}
	return fmt.Errorf("%w: %q (http, https, socks5 or socks5h)", ErrScheme, u.Scheme)
}

// Env is the proxy configuration of the environment.
type Env struct {
	HTTPS, HTTP string // the raw values of https_proxy and http_proxy
	// HTTPSVar and HTTPVar name the variables they came from
	// ("https_proxy" or "HTTPS_PROXY"), for messages.
	HTTPSVar, HTTPVar string
	NoProxy           string
	// Note says what was left out of the environment and why (an
	// uppercase HTTP_PROXY under CGI), for a verbose output; "" if none.
	Note string
}

// FromEnv reads https_proxy, http_proxy and no_proxy, each lowercase
// first (curl's order; Go's net/http prefers the uppercase one). Under a
// CGI server (REQUEST_METHOD set), HTTP_PROXY may come from a request's
// "Proxy:" header (httpoxy): it is ignored there, as curl does, and
// lowercase http_proxy, which no header can set, is used as anywhere.
// (net/http refuses any http proxy under CGI, lowercase too.)
func FromEnv(getenv func(string) string) Env {
	get := func(name string) (string, string) {
		if v := getenv(name); v != "" {
			return v, name
		}
		up := strings.ToUpper(name)
		return getenv(up), up
	}
	var e Env
	e.HTTPS, e.HTTPSVar = get("https_proxy")
	e.HTTP, e.HTTPVar = get("http_proxy")
	e.NoProxy, _ = get("no_proxy")
	if e.HTTPVar == "HTTP_PROXY" && e.HTTP != "" && getenv("REQUEST_METHOD") != "" {
		e.HTTP, e.HTTPVar = "", "http_proxy"
		e.Note = "HTTP_PROXY ignored: under CGI (REQUEST_METHOD is set) it may come from a request header (httpoxy); set http_proxy"
	}
	return e
}

// VarError is a proxy variable whose value is no proxy URL a client
// here speaks. It names the variable, never the value (which may hold a
// password).
type VarError struct {
	Var string // "http_proxy", "HTTPS_PROXY"
	Err error
}

func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *VarError) Unwrap() error { return e.Err }

// pick is the raw value and name of the variable for scheme.
func (e Env) pick(scheme string) (raw, name string) {
	if scheme == "https" {
		return e.HTTPS, cmp.Or(e.HTTPSVar, "https_proxy")
	}
	return e.HTTP, cmp.Or(e.HTTPVar, "http_proxy")
}

// Request picks the proxy of an HTTP request, for http.Transport's
// Proxy: any proxy the Transport speaks to (http, https, socks5), nil
// when none is set or no_proxy matches (golang.org/x/net/http/httpproxy's
// matching, the code net/http itself uses). A value that is not such a
// proxy URL is a *VarError (wrapping ErrScheme for another scheme), not
// a guess: httpproxy would take "http://u:p@h:1:x" for a proxy named
// "http" and drop "::x" silently.
func (e Env) Request(r *http.Request) (*url.URL, error) {
	raw, name := e.pick(r.URL.Scheme)
	if raw == "" || (r.URL.Scheme != "http" && r.URL.Scheme != "https") || Bypass(e.NoProxy, r.URL.Scheme, r.URL.Host) {
		return nil, nil
	}
	p, err := ParseTransport(raw)
	if err != nil {
		return nil, &VarError{Var: name, Err: err}
	}
	return p, nil
}

// For returns the proxy to tunnel to hostport through under scheme
// "https" or "http", or nil when none is set or no_proxy matches. Only
// an http:// proxy is accepted: the tunnel is a CONNECT. A value that is
// not one is a *VarError.
func (e Env) For(scheme, hostport string) (*url.URL, error) {
	raw, name := e.pick(scheme)
	if raw == "" || Bypass(e.NoProxy, scheme, hostport) {
		return nil, nil
	}
	u, err := Parse(raw)
	if err != nil {
		return nil, &VarError{Var: name, Err: err}
	}
	return u, nil
}

// anyProxy stands for the proxy when only no_proxy is asked about.
const anyProxy = "http://proxy.invalid:3128"

// Bypass says whether no_proxy sends a connection to hostport ("host" or
// "host:port", the port defaulting to scheme's) around the proxy, by
// httpproxy's rules: "*"; the host itself or a domain it is in
// ("example.com" matches it and its subdomains, ".example.com" its
// subdomains, "*.example.com" too); an IP address or a CIDR range
// holding it; an entry with a port matches that port only. "localhost"
// and loopback addresses are never proxied.
func Bypass(noProxy, scheme, hostport string) bool {
	cfg := httpproxy.Config{HTTPProxy: anyProxy, HTTPSProxy: anyProxy, NoProxy: noProxy}
	p, err := cfg.ProxyFunc()(&url.URL{Scheme: scheme, Host: hostport})
	return p == nil && err == nil
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
