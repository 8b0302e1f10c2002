package httpprobe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// Phase is a step of a request.
type Phase int

// The phases of a request, in order.
const (
	PhaseWait Phase = iota + 1 // waiting for a free connection to the host
	PhaseDNS
	PhaseConnect
	PhaseTLS
	PhaseRequest   // sending the request
	PhaseFirstByte // waiting for the first byte of the answer
	PhaseHeaders   // reading the response header
	PhaseBody
)

var phaseNames = map[Phase]string{
	PhaseWait: "wait", PhaseDNS: "dns", PhaseConnect: "connect", PhaseTLS: "tls", PhaseRequest: "request",
	PhaseFirstByte: "first byte", PhaseHeaders: "headers", PhaseBody: "body",
}

func (p Phase) String() string { return phaseNames[p] }

// Error is a request that failed, with the phase that did not finish.
type Error struct {
	Phase   Phase
	URL     *url.URL
	Addr    string // the address connected to (the proxy, with one)
	Err     error
	Timeout bool
	Elapsed time.Duration // since the request started
	InPhase time.Duration // time spent in the failing phase
	Waited  time.Duration // time spent waiting for a free connection first
	Status  string        // for a body failure: the status already received
	Got     int64         // for a body failure: bytes received
	Proxy   string        // the proxy's host, when the request went through one
	Head    string        // for a header failure: the start of the answer, when seen
	Tunnel  string        // the host:port asked of the proxy, when its CONNECT failed
	SOCKS   bool          // connected to a SOCKS proxy, which failed in its handshake
	// TLSWithTarget: through a proxy, a TLS failure is the target's, in
	// the proxy's tunnel, not the proxy's own.
	TLSWithTarget bool
}

// ErrNoH2C is an HTTP/1 answer to HTTP/2 spoken in clear with prior
// knowledge (h2c): the server does not speak it.
var ErrNoH2C = errors.New("the server does not speak HTTP/2 (h2c)")

// h2HeaderError is an HTTP/2 response header the client gave up reading:
// net/http says only the HTTP/2 error code, which it sends for a header
// over the bound as for a malformed one.
type h2HeaderError struct{ code string }

func (e *h2HeaderError) Error() string {
	return fmt.Sprintf("HTTP/2 response header refused (%s): larger than the %d MiB limit, or malformed", e.code, MaxHeaderBytes>>20)
}

// h2Reason turns the HTTP/2 errors net/http words for its own
// developers into what they mean for the server checked.
func h2Reason(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection error: PROTOCOL_ERROR"):
		return &h2HeaderError{code: "PROTOCOL_ERROR"}
	case strings.Contains(msg, "connection error: COMPRESSION_ERROR"):
		return &h2HeaderError{code: "COMPRESSION_ERROR"}
	}
	return err
}

// ErrClientCertRequired is a server that asked for a client certificate,
// got none, and closed the connection before its alert was read: as the
// alert itself would say.
var ErrClientCertRequired = errors.New("the server refused the connection: certificate required")

// closedByPeer reports a connection the other end closed or reset.
func closedByPeer(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// TunnelRefused is a proxy's answer other than 200 to CONNECT.
type TunnelRefused struct {
	Status string // "403 Forbidden"
}

func (e *TunnelRefused) Error() string { return "CONNECT refused: " + e.Status }

func (e *Error) Unwrap() error { return e.Err }

// Error says what failed in words a sysadmin reads at 3 a.m.: "connect
// to 10.0.0.2:80: no answer within 8s", "TLS handshake with
// 127.0.0.1:443: certificate expired 3 days ago".
func (e *Error) Error() string {
	msg := hideHeaderValues(e.text())
	// A request that spent most of its time queued for a connection and
	// timed out just after getting one did not time out for the reason
	// its phase alone suggests ("no response within <1ms").
	if e.Timeout && e.Phase != PhaseWait && e.Waited > e.InPhase {
		msg += fmt.Sprintf(", after waiting %s for a free connection (other requests to it still pending)", human.Duration(e.Waited))
	}
	return msg
}

func (e *Error) text() string {
	wait := human.Duration(e.InPhase)
	if e.Proxy != "" {
		if s := e.proxyText(wait); s != "" {
			return s
		}
	}
	var h2h *h2HeaderError
	switch {
	case errors.Is(e.Err, ErrNoH2C):
		return fmt.Sprintf("%s does not speak HTTP/2 (h2c): it answered in HTTP/1", e.Addr)
	case errors.As(e.Err, &h2h):
		return fmt.Sprintf("bad response from %s: %s", e.Addr, h2h.Error())
	}
	switch e.Phase {
	case PhaseWait:
		if e.Timeout {
			return fmt.Sprintf("no connection to %s free within %s (other requests to it still pending)", e.Addr, wait)
		}
		return fmt.Sprintf("no connection to %s: %s", e.Addr, rootCause(e.Err))
	case PhaseDNS:
		host := e.URL.Hostname()
		var dns *net.DNSError
		if e.Proxy != "" && (!errors.As(e.Err, &dns) || dns.Name == e.Proxy) {
			host = "proxy " + e.Proxy // the target's name is the proxy's to resolve
		}
		if e.Timeout {
			return fmt.Sprintf("DNS lookup of %s: no answer within %s", host, wait)
		}
		if errors.As(e.Err, &dns) {
			if dns.IsNotFound {
				return fmt.Sprintf("DNS lookup of %s: no such host", host)
			}
			return fmt.Sprintf("DNS lookup of %s failed: %s", host, dns.Err)
		}
		return fmt.Sprintf("DNS lookup of %s failed: %v", host, e.Err)
	case PhaseConnect:
		switch {
		case e.Timeout:
			return fmt.Sprintf("connect to %s: no answer within %s (connect timeout)", e.Addr, wait)
		case errors.Is(e.Err, syscall.ECONNREFUSED):
			return fmt.Sprintf("connection to %s refused", e.Addr)
		}
		return fmt.Sprintf("connect to %s failed: %s", e.Addr, rootCause(e.Err))
	case PhaseTLS:
		peer := e.Addr
		if e.Proxy != "" && e.TLSWithTarget {
			peer = fmt.Sprintf("%s (through proxy %s)", CanonicalAddr(e.URL), e.Addr)
		}
		if e.Timeout {
			return fmt.Sprintf("TLS handshake with %s: no answer within %s", peer, wait)
		}
		return fmt.Sprintf("TLS handshake with %s failed: %s", peer, tlsprobe.DescribeError(e.Err, time.Now()))
	case PhaseRequest:
		if e.Timeout {
			return fmt.Sprintf("sending the request to %s: not accepted within %s", e.Addr, wait)
		}
		return fmt.Sprintf("sending the request to %s failed: %s", e.Addr, rootCause(e.Err))
	case PhaseFirstByte:
		if e.Timeout {
			return fmt.Sprintf("%s accepted the request but sent no response within %s (first-byte timeout)", e.Addr, wait)
		}
		if isEOF(e.Err) {
			return fmt.Sprintf("%s closed the connection without a response (empty reply)", e.Addr)
		}
		return fmt.Sprintf("waiting for the response from %s failed: %s", e.Addr, rootCause(e.Err))
	case PhaseHeaders:
		if e.Timeout {
			return fmt.Sprintf("%s started a response but the header did not complete within %s", e.Addr, wait)
		}
		if isEOF(e.Err) {
			if line, _, _ := strings.Cut(e.Head, "\n"); line != "" {
				return fmt.Sprintf("%s sent %q and closed the connection before the response header ended", e.Addr, human.Truncate(strings.TrimSpace(line), 80))
			}
			return fmt.Sprintf("%s closed the connection before the response header ended", e.Addr)
		}
		return fmt.Sprintf("bad response from %s: %s", e.Addr, rootCause(e.Err))
	case PhaseBody:
		if e.Timeout {
			return fmt.Sprintf("%s answered %s but the body did not complete within %s (%d bytes received, body timeout)", e.Addr, e.Status, human.Duration(e.Elapsed-e.Waited), e.Got)
		}
		return fmt.Sprintf("%s answered %s but reading the body failed after %d bytes: %s", e.Addr, e.Status, e.Got, rootCause(e.Err))
	}
	return rootCause(e.Err)
}

// proxyText words a failure that is the proxy's: its connect, its
// answer to CONNECT, its silence. "" for one that is not.
func (e *Error) proxyText(wait string) string {
	p := "proxy " + e.Addr
	var refused *TunnelRefused
	var tunnel *netproxy.Error
	switch {
	case e.Phase == PhaseConnect && errors.Is(e.Err, syscall.ECONNREFUSED):
		return p + ": connection refused"
	case e.Phase == PhaseConnect && errors.As(e.Err, &refused):
		return fmt.Sprintf("%s: CONNECT %s refused: %s", p, e.Tunnel, refused.Status)
	case e.Phase == PhaseConnect && e.Tunnel != "":
		switch {
		case e.Timeout:
			return fmt.Sprintf("%s: no answer to CONNECT %s within %s", p, e.Tunnel, wait)
		case isEOF(e.Err):
			return fmt.Sprintf("%s closed the connection without answering CONNECT %s", p, e.Tunnel)
		case errors.As(e.Err, &tunnel): // the tunnel dial tunnels itself
			return tunnel.Error()
		}
		return fmt.Sprintf("%s: CONNECT %s failed: %s", p, e.Tunnel, rootCause(e.Err))
	case e.Phase == PhaseConnect && e.SOCKS:
		target := CanonicalAddr(e.URL)
		switch {
		case e.Timeout:
			return fmt.Sprintf("%s: connected, but no answer to the SOCKS handshake for %s within %s (is it a SOCKS proxy?)", p, target, wait)
		case isEOF(e.Err):
			return fmt.Sprintf("%s closed the connection during the SOCKS handshake for %s (is it a SOCKS proxy?)", p, target)
		}
		why := socksCause(e.Err)
		if strings.Contains(why, "unexpected protocol version") {
			why += " (it does not speak SOCKS 5)"
		}
		return fmt.Sprintf("%s: SOCKS handshake for %s failed: %s", p, target, why)
	case e.Phase == PhaseConnect:
		switch {
		case e.Timeout:
			return fmt.Sprintf("%s: no answer within %s (connect timeout)", p, wait)
		}
		return fmt.Sprintf("%s: connect failed: %s", p, rootCause(e.Err))
	case e.Phase == PhaseFirstByte && e.Timeout:
		return fmt.Sprintf("%s accepted the request but sent no response within %s (first-byte timeout: the proxy or the server behind it)", p, wait)
	}
	return ""
}

// socksCause is the reason of a failed SOCKS handshake without the
// wrapping net/http puts on it ("socks connect tcp A->B: ").
func socksCause(err error) string {
	msg := rootCause(err)
	if i := strings.LastIndex(msg, ": "); strings.HasPrefix(msg, "socks ") && i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// isTLSAlert reports an alert from the server, which with TLS 1.3 can
// arrive after the handshake seemed done (a missing client certificate).
func isTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && op.Err != nil
}

// RefusedClientCert reports whether err is the server refusing the
// handshake for want of an acceptable client certificate, for the
// caller to say which of its options would supply one.
func RefusedClientCert(err error) bool {
	if errors.Is(err, ErrClientCertRequired) {
		return true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	msg := op.Err.Error()
	return strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate")
}

// UnknownAuthority reports whether err is a certificate no trusted root
// vouches for, and whether it is self-signed, for the caller to say how
// to trust it.
func UnknownAuthority(err error) (unknown, selfSigned bool) {
	var unk x509.UnknownAuthorityError
	if !errors.As(err, &unk) {
		return false, false
	}
	c := unk.Cert
	return true, c != nil && c.Subject.String() == c.Issuer.String()
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// rootCause drops the wrapping that net/http and net add ("Get ...: dial
// tcp ...:"), leaving the reason.
func rootCause(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return strings.TrimPrefix(op.Err.Error(), "connect: ")
	}
	return err.Error()
}
