package tlsprobe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DescribeError says why a TLS handshake failed, for check_cert_expiry
// and check_http_status alike: expired, not yet valid,
// unknown authority (self-signed or missing intermediate), name mismatch,
// or the TLS alert the server sent.
func DescribeError(err error, now time.Time) string {
	var inv x509.CertificateInvalidError
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &inv):
		return describeInvalid(inv, now)
	case errors.As(err, &unk):
		if c := unk.Cert; c != nil && c.Subject.String() == c.Issuer.String() {
			return fmt.Sprintf("certificate %s is self-signed and not trusted", certName(c))
		}
		if c := unk.Cert; c != nil {
			return fmt.Sprintf("certificate %s is signed by an unknown authority %q", certName(c), c.Issuer.CommonName)
		}
		return "certificate signed by an unknown authority"
	case errors.As(err, &host):
		return describeHostname(host)
	case errors.As(err, &rec):
		return "the server did not answer with TLS (plain HTTP on a TLS port?)"
	case errors.As(err, &alert):
		return fmt.Sprintf("the server refused the handshake: %v", alert)
	case isAlert(err):
		var op *net.OpError
		errors.As(err, &op)
		return "the server refused the connection: " + strings.TrimPrefix(op.Err.Error(), "tls: ")
	}
	msg := errText(err)
	return strings.TrimPrefix(msg, "tls: ")
}

func describeInvalid(e x509.CertificateInvalidError, now time.Time) string {
	c := e.Cert
	switch e.Reason {
	case x509.Expired:
		if c != nil && now.After(c.NotAfter) {
			return fmt.Sprintf("certificate %s expired on %s", certName(c), c.NotAfter.UTC().Format(time.DateOnly))
		}
		if c != nil && now.Before(c.NotBefore) {
			return fmt.Sprintf("certificate %s is not valid before %s", certName(c), c.NotBefore.UTC().Format(time.DateTime))
		}
		return "certificate expired or not yet valid"
	case x509.NotAuthorizedToSign:
		return fmt.Sprintf("certificate %s was signed by a certificate that may not sign certificates", certName(c))
	case x509.IncompatibleUsage:
		return fmt.Sprintf("certificate %s is not for server authentication", certName(c))
	}
	return strings.TrimPrefix(e.Error(), "x509: ")
}

func describeHostname(e x509.HostnameError) string {
	c := e.Certificate
	names := c.DNSNames
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = []string{c.Subject.CommonName + " (CN only, no SAN)"}
	}
	if len(names) > 4 {
		names = append(names[:4], fmt.Sprintf("+%d more", len(names)-4))
	}
	return fmt.Sprintf("certificate is for %s, not %s (name mismatch)", strings.Join(names, ", "), e.Host)
}

func certName(c *x509.Certificate) string {
	if c == nil {
		return "(none)"
	}
	if c.Subject.CommonName != "" {
		return "'" + c.Subject.CommonName + "'"
	}
	if len(c.DNSNames) > 0 {
		return "'" + c.DNSNames[0] + "'"
	}
	return "'" + c.Subject.String() + "'"
}

// isAlert reports an alert from the server, which with TLS 1.3 can
// arrive after the handshake seemed done (a missing client certificate).
func isAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && op.Err != nil
}

// errText drops the wrapping that net adds ("dial tcp ...:"), leaving
// the reason.
func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
