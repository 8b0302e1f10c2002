package httpprobe

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"
)

// Handshake connects to u's host and completes a TLS handshake only, for
// a certificate check that must not depend on the HTTP answer (a URL
// behind a tarpit would otherwise time out before the certificate is
// seen; monitoring-plugins #2162).
func (c *Client) Handshake(ctx context.Context, u *url.URL) (*tls.ConnectionState, time.Duration, error) {
	start := time.Now()
	addr := c.Target(ctx, canonicalAddr(u))
	tr := newTracer(c, u)
	tr.addr = addr
	tr.enter(PhaseConnect)
	d := net.Dialer{Timeout: c.cfg.ConnectTimeout}
	raw, err := d.DialContext(ctx, c.cfg.Network, addr)
	if err != nil {
		return nil, 0, tr.fail(ctx, err, nil)
	}
	defer raw.Close()
	cfg := c.cfg.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	tr.enter(PhaseTLS)
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		e := tr.fail(ctx, err, nil).(*Error)
		e.Phase = PhaseTLS
		return nil, 0, e
	}
	cs := conn.ConnectionState()
	return &cs, time.Since(start), nil
}
