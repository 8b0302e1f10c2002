package tlsprobe

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
)

// Versions maps the names --min-tls-version style options take to
// crypto/tls versions.
var Versions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// AcceptsBelow makes a second handshake offering only versions below min
// (from TLS 1.0, which Go's client offers only when MinVersion says so)
// with every cipher suite Go knows, insecure ones included, so that a
// server accepting an old version with old suites is not missed. It
// returns the version the server agreed to, or "" when it refused them
// all; err is for a probe that could not tell (unreachable, timeout).
func AcceptsBelow(ctx context.Context, d Dialer, t Target, min uint16) (string, error) {
	if min <= tls.VersionTLS10 {
		return "", nil
	}
	var suites []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for _, v := range s.SupportedVersions {
			if v < min && v < tls.VersionTLS13 {
				suites = append(suites, s.ID)
				break
			}
		}
	}
	res, err := handshake(ctx, d, t, t.config(tls.VersionTLS10, min-1, suites))
	if err == nil {
		return res.Version, nil
	}
	if refused(err) {
		return "", nil
	}
	return "", fmt.Errorf("probing TLS versions below %s: %w", tls.VersionName(min), err)
}

// refused says whether a handshake failed because the server would not
// agree on a version or suite: an alert, or a close right after hello
// (OpenSSL servers do both). describeHandshake keeps only the text.
func refused(err error) bool {
	s := err.Error()
	for _, m := range []string{"protocol version", "handshake failure", "insufficient security",
		"the server closed the connection", "no cipher suite", "unsupported versions", "unsupported protocol version"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
