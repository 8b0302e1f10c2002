package httpprobe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
)

// Version is the HTTP version a Client speaks.
type Version int

// The versions: Auto lets TLS's ALPN choose between HTTP/2 and HTTP/1.1
// (plain http is HTTP/1.1), as curl does; the others force one.
const (
	Auto   Version = iota
	HTTP10         // HTTP/1.0 requests, one connection each
	HTTP11         // HTTP/1.1 only, no HTTP/2 offered
	HTTP2          // HTTP/2 only: by ALPN over TLS, prior knowledge (h2c) over plain TCP
)

// ParseVersion maps "1.0", "1.1", "2" and "auto" to a Version.
func ParseVersion(s string) (Version, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "http/") {
	case "", "auto":
		return Auto, nil
	case "1.0", "1":
		return HTTP10, nil
	case "1.1":
		return HTTP11, nil
	case "2", "2.0", "h2":
		return HTTP2, nil
	}
	return Auto, fmt.Errorf("invalid HTTP version %q: use 1.0, 1.1, 2 or auto", s)
}

func (v Version) String() string {
	return [...]string{"auto", "1.0", "1.1", "2"}[v]
}

// apply sets the protocols a Transport may speak.
func (v Version) apply(t *http.Transport, c *Client) {
	var p http.Protocols
	switch v {
	case HTTP10:
		p.SetHTTP1(true)
		t.DisableKeepAlives = true // sends Connection: close, as HTTP/1.0 without keep-alive means
		t.DialTLSContext = c.dialTLS
	case HTTP11:
		p.SetHTTP1(true)
	case HTTP2:
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	t.Protocols = &p
}

// wrap returns conn as the Transport gets it: recording the start of
// each answer (for a message about an answer cut short) and, for
// HTTP/1.0, turning the request line's version into HTTP/1.0 (net/http
// writes HTTP/1.1 always; the two differ in that one word).
func (v Version) wrap(conn net.Conn) net.Conn {
	return &recConn{Conn: conn, http10: v == HTTP10}
}

// dialTLS is the Transport's TLS dialer for HTTP/1.0 only: the request
// line is rewritten above TLS, so the handshake is made here, reporting
// to the request's trace as the Transport would. Proxied https requests
// do not come here (the Transport tunnels them itself) and go out as
// HTTP/1.1 with Connection: close.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: c.cfg.ConnectTimeout}
	if network == "tcp" {
		network = c.cfg.Network
	}
	raw, err := d.DialContext(ctx, network, c.Target(ctx, addr))
	if err != nil {
		return nil, err
	}
	cfg := c.cfg.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	tc := tls.Client(raw, cfg)
	err = tc.HandshakeContext(ctx)
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(tc.ConnectionState(), err)
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &recConn{Conn: tc, http10: true}, nil
}
