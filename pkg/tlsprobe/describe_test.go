package tlsprobe

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// One describer words TLS failures for check_cert_expiry and
// check_http_status alike.
func TestDescribeError(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{
		Subject: pkix.Name{CommonName: "www.example.org"}, Issuer: pkix.Name{CommonName: "Example CA"},
		DNSNames: []string{"www.example.org"}, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(0, 0, -3),
	}
	self := &x509.Certificate{Subject: pkix.Name{CommonName: "box"}, Issuer: pkix.Name{CommonName: "box"}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired}},
			"certificate 'www.example.org' expired on 2026-05-29"},
		{"self-signed", x509.UnknownAuthorityError{Cert: self}, "certificate 'box' is self-signed and not trusted"},
		{"unknown CA", x509.UnknownAuthorityError{Cert: leaf}, `signed by an unknown authority "Example CA"`},
		{"name mismatch", x509.HostnameError{Certificate: leaf, Host: "other.example.org"},
			"certificate is for www.example.org, not other.example.org (name mismatch)"},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, "did not answer with TLS"},
		{"alert after the handshake", &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")},
			"the server refused the connection: certificate required"},
		{"other", errors.New("tls: something odd"), "something odd"},
	} {
		if got := DescribeError(tc.err, now); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q in it", tc.name, got, tc.want)
		}
	}
}
