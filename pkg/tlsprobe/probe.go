// Package tlsprobe connects to a TLS endpoint, directly or after a
// STARTTLS opening (SMTP, IMAP, POP3, FTP, XMPP, LDAP, PostgreSQL,
// MySQL), and captures the certificate chain the server presents. It
// verifies nothing: judging the chain is the caller's job, so that a bad
// certificate is always reported instead of failing the handshake.
package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
)

// Dialer opens connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Target is one endpoint to probe.
type Target struct {
	Host       string // name as given: the default SNI and XMPP domain
	Port       string
	Addr       string // address to connect to instead of resolving Host
	SNI        string // server name to send; "" means Host unless it is an IP
	Protocol   string // "" or "tls" for implicit TLS, else a STARTTLS protocol
	XMPPDomain string // "to" of the XMPP stream; "" means Host
	Network    string // "tcp", "tcp4" or "tcp6"
	// Proxy, when set, is an HTTP proxy the connection is tunnelled
	// through with CONNECT (STARTTLS openings too).
	Proxy *url.URL
	// ClientCert, when set, is sent to a server that asks for one.
	ClientCert *tls.Certificate
	// MinVersion is the oldest TLS version Probe offers; 0 is TLS 1.0.
	MinVersion uint16
	// NoSNI sends no server name, even for a name.
	NoSNI bool
}

// ServerName is the SNI sent: none for an IP literal (RFC 6066).
func (t Target) ServerName() string {
	if t.NoSNI {
		return ""
	}
	if t.SNI != "" {
		return t.SNI
	}
	if net.ParseIP(strings.Trim(t.Host, "[]")) != nil {
		return ""
	}
	return t.Host
}

// Result is what a probe saw.
type Result struct {
	Addr    string              // address connected to
	Chain   []*x509.Certificate // as presented, leaf first
	Version string              // "TLS 1.3"
	Cipher  string              // "TLS_AES_128_GCM_SHA256"
	// OCSPStaple is the OCSP response the server stapled, if any.
	OCSPStaple []byte
}

// Protocols lists the STARTTLS protocols and their standard ports.
var Protocols = map[string]string{
	"smtp": "25", "imap": "143", "pop3": "110", "ftp": "21", "xmpp": "5222",
	"ldap": "389", "postgres": "5432", "mysql": "3306",
}

// Probe connects to t and returns the chain the server presents. ctx
// bounds everything: the dial, every read of the STARTTLS opening and the
// handshake.
func Probe(ctx context.Context, d Dialer, t Target) (Result, error) {
	// Go's client refuses TLS 1.0 and 1.1 unless asked (since Go 1.22):
	// a certificate on an old server is still a certificate to judge.
	return handshake(ctx, d, t, t.config(max(tls.VersionTLS10, t.MinVersion), 0, nil))
}

// config is the client configuration for t, offering versions from min
// to max (0: the newest) and suites (nil: Go's defaults).
func (t Target) config(min, max uint16, suites []uint16) *tls.Config {
	cfg := &tls.Config{
		ServerName:         t.ServerName(),
		InsecureSkipVerify: true, // we judge the chain ourselves, even a bad one
		MinVersion:         min,
		MaxVersion:         max,
		CipherSuites:       suites,
		// Classic curves only: the post-quantum key share costs more CPU
		// than the rest of the handshake, and a certificate probe has no
		// secret to keep.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
	}
	if c := t.ClientCert; c != nil {
		// Sent whatever CAs the server names: it is the server's call.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
	}
	return cfg
}

// handshake dials t, speaks its opening and completes a handshake with
// cfg.
func handshake(ctx context.Context, d Dialer, t Target, cfg *tls.Config) (Result, error) {
	network := t.Network
	if network == "" {
		network = "tcp"
	}
	host := t.Addr
	if host == "" {
		host = t.Host
	}
	addr := net.JoinHostPort(strings.Trim(host, "[]"), t.Port)
	within := Within(ctx)
	var conn net.Conn
	var err error
	if t.Proxy != nil {
		conn, err = netproxy.Dial(ctx, d, network, t.Proxy, addr)
	} else {
		conn, err = d.DialContext(ctx, network, addr)
	}
	var pe *netproxy.Error
	switch {
	case errors.As(err, &pe):
		return Result{Addr: addr}, fmt.Errorf("proxy %s: %w", pe.Proxy, describeDial(ctx, pe.Err, within))
	case err != nil:
		return Result{Addr: addr}, describeDial(ctx, err, within)
	}
	defer conn.Close()
	res := Result{Addr: conn.RemoteAddr().String()}
	if t.Proxy != nil {
		res.Addr = addr + " via proxy " + t.Proxy.Host
	}
	// One deadline covers every read and write of the opening and the
	// handshake; cancelling ctx closes the connection too.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if err := startTLS(conn, t); err != nil {
		return res, describeIO(ctx, err, within)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return res, describeHandshake(ctx, err, within)
	}
	st := tc.ConnectionState()
	res.Chain = st.PeerCertificates
	res.Version = tls.VersionName(st.Version)
	res.Cipher = tls.CipherSuiteName(st.CipherSuite)
	res.OCSPStaple = st.OCSPResponse
	tc.Close()
	if len(res.Chain) == 0 {
		return res, errors.New("the server presented no certificate")
	}
	return res, nil
}

// LookupAll resolves host to every address of the wanted family, for
// checking each member behind a load-balanced name.
func LookupAll(ctx context.Context, r *net.Resolver, host, network string) ([]string, error) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []string{ip.String()}, nil
	}
	fam := "ip"
	switch network {
	case "tcp4":
		fam = "ip4"
	case "tcp6":
		fam = "ip6"
	}
	ips, err := r.LookupIP(ctx, fam, host)
	if err != nil {
		return nil, describeDial(ctx, err, Within(ctx))
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out, nil
}

func describeDial(ctx context.Context, err error, within string) error {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("host %s does not resolve", dns.Name)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot resolve %s: %s", dns.Name, dns.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return errors.New("no route to host")
	case isTimeout(ctx, err):
		return fmt.Errorf("no answer to connect within %s (port filtered?)", within)
	}
	return err
}

func describeIO(ctx context.Context, err error, within string) error {
	var se *stageError
	if errors.As(err, &se) {
		switch {
		case isTimeout(ctx, se.err):
			return fmt.Errorf("%s: no answer within %s", se.stage, within)
		case errors.Is(se.err, io.EOF), errors.Is(se.err, syscall.ECONNRESET):
			return fmt.Errorf("%s: the server closed the connection", se.stage)
		}
	}
	return err
}

func describeHandshake(ctx context.Context, err error, within string) error {
	var rec tls.RecordHeaderError
	switch {
	case isTimeout(ctx, err):
		return fmt.Errorf("TLS handshake: no answer within %s", within)
	case errors.As(err, &rec):
		return fmt.Errorf("%w: the server answered %q instead of a TLS handshake", ErrNotTLS, printable(rec.RecordHeader[:]))
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return errors.New("TLS handshake: the server closed the connection")
	}
	return &described{"TLS handshake: " + DescribeError(err, time.Now()), err}
}

// described is an error in words that keeps its cause, so a caller can
// still tell a refused client certificate from a refused version.
type described struct {
	text string
	err  error
}

func (d *described) Error() string { return d.text }
func (d *described) Unwrap() error { return d.err }

func isTimeout(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) || ctx.Err() != nil
}

// Within is the time ctx leaves, for messages: "3s", "250ms".
func Within(ctx context.Context) string {
	dl, ok := ctx.Deadline()
	if !ok {
		return "the time allowed"
	}
	d := time.Until(dl)
	// Rounded, not cut: what is left of -t 10 is 9.99s, and "10s" is
	// what the user set.
	switch {
	case d >= 10*time.Second:
		return human.Duration(d.Round(time.Second))
	case d >= time.Second:
		return human.Duration(d.Round(100 * time.Millisecond))
	case d > 0:
		return human.Duration(d.Round(time.Millisecond))
	}
	return "the time allowed"
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, string(b))
}
