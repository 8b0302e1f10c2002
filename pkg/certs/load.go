package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Format is how a certificate file was encoded.
type Format string

// The formats Parse recognises.
const (
	PEM    Format = "PEM"
	DER    Format = "DER"
	PKCS12 Format = "PKCS#12"
)

// ErrNotCertificate is matched by every "this is not a certificate" error,
// as opposed to errors reading the file.
var ErrNotCertificate = errors.New("not a certificate")

// ErrOnlyOtherPEM is matched when a file is valid PEM holding keys,
// requests or parameters but no certificate: noise in a directory of
// certificates (privkey.pem), an error when named on its own.
var ErrOnlyOtherPEM = errors.New("PEM without certificates")

// ErrWrongPassword is matched when a PKCS#12 archive does not open with
// the password given; the caller knows where the password came from and
// says so.
var ErrWrongPassword = errors.New("PKCS#12: wrong password")

// notCert wraps ErrNotCertificate with what was found instead.
type notCert struct {
	why   string
	other bool // valid PEM, only other block types
}

func (e *notCert) Error() string { return e.why }
func (e *notCert) Is(target error) bool {
	return target == ErrNotCertificate || (e.other && target == ErrOnlyOtherPEM)
}

// Parse decodes every certificate in data: all CERTIFICATE blocks of a PEM
// bundle (not just the first), a DER certificate, or a PKCS#12 archive
// (leaf first, then its CA certificates) opened with password. A file that
// holds no certificate is an error saying what it holds instead.
func Parse(data []byte, password string) ([]*x509.Certificate, Format, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "", &notCert{why: "empty file"}
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		cs, err := parsePEM(data)
		return cs, PEM, err
	}
	if c, err := x509.ParseCertificate(data); err == nil {
		return []*x509.Certificate{c}, DER, nil
	}
	if cs, err := parsePKCS12(data, password); err == nil || !errors.Is(err, ErrNotCertificate) {
		return cs, PKCS12, err
	}
	return nil, "", &notCert{why: "neither PEM, DER nor PKCS#12"}
}

// parsePEM keeps CERTIFICATE and TRUSTED CERTIFICATE blocks, as openssl
// and x509-certificate-exporter do; a bundle with other blocks (the key
// next to the chain) is fine as long as one certificate is in it.
func parsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	var others []string
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				// TRUSTED CERTIFICATE carries openssl's trust settings
				// after the DER; ParseCertificate refuses the trailer.
				if b.Type == "TRUSTED CERTIFICATE" {
					c, err = parseWithTrailer(b.Bytes)
				}
				if err != nil {
					return nil, &notCert{why: fmt.Sprintf("PEM block %d (%s): %v", n, b.Type, err)}
				}
			}
			out = append(out, c)
		default:
			others = append(others, b.Type)
		}
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		// pem.Decode stops at a block without its END line: a file cut
		// short by a full disk or an interrupted copy.
		if len(out) == 0 {
			return nil, &notCert{why: "truncated PEM: a BEGIN line without its END"}
		}
		return nil, &notCert{why: fmt.Sprintf("truncated PEM after %d certificate(s): a BEGIN line without its END", len(out))}
	}
	if len(out) == 0 {
		if len(others) > 0 {
			return nil, &notCert{why: "PEM holds no certificate, only " + strings.Join(others, ", "), other: true}
		}
		return nil, &notCert{why: "no valid PEM block"}
	}
	return out, nil
}

// parseWithTrailer parses the DER certificate at the start of b and
// ignores what follows it.
func parseWithTrailer(b []byte) (*x509.Certificate, error) {
	if len(b) < 4 || b[0] != 0x30 {
		return nil, errors.New("not DER")
	}
	var n int
	switch l := int(b[1]); {
	case l < 0x80:
		n = 2 + l
	case l == 0x81:
		n = 3 + int(b[2])
	case l == 0x82:
		n = 4 + (int(b[2])<<8 | int(b[3]))
	default:
		return nil, errors.New("bad DER length")
	}
	if n > len(b) {
		return nil, errors.New("truncated DER")
	}
	return x509.ParseCertificate(b[:n])
}

// parsePKCS12 opens a PKCS#12 archive: a keystore (key, leaf, chain) or a
// truststore (certificates only, as Java writes them).
func parsePKCS12(data []byte, password string) ([]*x509.Certificate, error) {
	if len(data) < 2 || data[0] != 0x30 {
		return nil, &notCert{why: "not PKCS#12"}
	}
	_, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err == nil {
		return append([]*x509.Certificate{leaf}, chain...), nil
	}
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, ErrWrongPassword
	}
	if ts, terr := pkcs12.DecodeTrustStore(data, password); terr == nil {
		if len(ts) == 0 {
			return nil, &notCert{why: "PKCS#12 holds no certificate"}
		}
		return ts, nil
	} else if errors.Is(terr, pkcs12.ErrIncorrectPassword) {
		return nil, ErrWrongPassword
	}
	return nil, &notCert{why: "not PKCS#12: " + err.Error()}
}
