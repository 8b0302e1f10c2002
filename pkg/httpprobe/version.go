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

// apply sets the protocols a Transport may speak. TLS connections are
// made by dialTLS whatever the version, so that an HTTP/1.x answer is
// read through a recConn (see dialTLS).
func (v Version) apply(t *http.Transport, c *Client) {
	var p http.Protocols
	switch v {
	case HTTP10:
		p.SetHTTP1(true)
		t.DisableKeepAlives = true // sends Connection: close, as HTTP/1.0 without keep-alive means
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
	t.DialTLSContext = c.dialTLS
}

// alpn is what a TLS connection offers by ALPN: what the Transport would
// offer for the same Protocols, HTTP/1.1 only for a request that needs
// it (a websocket upgrade).
func (v Version) alpn(h1only bool) []string {
	switch {
	case v == HTTP2:
		return []string{"h2"}
	case v == HTTP10 || v == HTTP11 || h1only:
		return []string{"http/1.1"}
	}
	return []string{"h2", "http/1.1"}
}

// wrap returns conn as the Transport gets it: recording the start of
// each answer (for a message about an answer cut short) and, for
// HTTP/1.0, turning the request line's version into HTTP/1.0 (net/http
// writes HTTP/1.1 always; the two differ in that one word).
func (v Version) wrap(conn net.Conn) net.Conn {
	return &recConn{Conn: conn, http10: v == HTTP10}
}

type h1OnlyKey struct{}

// dialTLS is the Transport's TLS dialer. The handshake is made here, as
// the Transport would make it (same configuration, ALPN, reported to the
// request's trace), so that the HTTP/1.x spoken over it goes through a
// recConn above TLS: the Transport's own TLS would leave the recConn
// below, seeing only ciphertext, and a server's answer cut short (a bare
// status line, then close) could not be quoted or accepted. An HTTP/2
// connection goes back as the *tls.Conn itself, which the Transport
// needs to speak HTTP/2 on it. Proxied https requests do not come here:
// the Transport tunnels them and makes their TLS itself.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dialRaw(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// Below TLS too: after a failed write, recConn keeps the server's
	// alert for the TLS reads that follow.
	raw := &recConn{Conn: conn}
	cfg := c.cfg.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		cfg.ServerName = host
	}
	h1only, _ := ctx.Value(h1OnlyKey{}).(bool)
	cfg.NextProtos = c.cfg.Version.alpn(h1only)
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	tc := tls.Client(raw, cfg)
	err = tc.HandshakeContext(ctx)
	cs := tc.ConnectionState()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(cs, err)
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	if cs.NegotiatedProtocol == "h2" || c.cfg.Version == HTTP2 {
		// The Transport reports the handshake of a *tls.Conn to the
		// trace again: the tracer must not take it for a second one.
		if tr, ok := ctx.Value(tracerKey{}).(*tracer); ok {
			tr.replayTLS()
		}
		return tc, nil
	}
	return &recConn{Conn: tc, http10: c.cfg.Version == HTTP10}, nil
}
