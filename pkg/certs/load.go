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
	JKS    Format = "JKS"
	JCEKS  Format = "JCEKS"
)

// ErrNotCertificate is matched by every "this is not a certificate" error,
// as opposed to errors reading the file.
var ErrNotCertificate = errors.New("not a certificate")

// ErrOnlyOtherPEM is matched when a file is valid PEM holding keys,
// requests or parameters but no certificate: noise in a directory of
// certificates (privkey.pem), an error when named on its own.
var ErrOnlyOtherPEM = errors.New("PEM without certificates")

// ErrWrongPassword is matched when a PKCS#12 archive or a Java keystore
// does not open with the password given; the caller knows where the
// password came from and says so.
var ErrWrongPassword = errors.New("wrong password")

// notCert wraps ErrNotCertificate with what was found instead.
type notCert struct {
	why   string
	other bool // valid PEM, only other block types
	p12   bool // a recognised container (PKCS#12, keystore) that failed: its own error is the message
}

func (e *notCert) Error() string { return e.why }
func (e *notCert) Is(target error) bool {
	return target == ErrNotCertificate || (e.other && target == ErrOnlyOtherPEM)
}

// Contents is what a certificate file holds: its certificates (a chain
// leaf first, or a bundle in file order) and its CRLs.
type Contents struct {
	Certs  []*x509.Certificate
	CRLs   []*x509.RevocationList
	Format Format
}

// Parse decodes every certificate in data: all CERTIFICATE blocks of a PEM
// bundle (not just the first), a DER certificate, a PKCS#12 archive (leaf
// first, then its CA certificates) or a Java keystore (JKS, JCEKS) opened
// with password. A file that holds no certificate is an error saying what
// it holds instead.
func Parse(data []byte, password string) ([]*x509.Certificate, Format, error) {
	c, err := ParseFile(data, password)
	if err == nil && len(c.Certs) == 0 {
		err = &notCert{why: fmt.Sprintf("holds no certificate, only %d CRL(s)", len(c.CRLs)), other: true}
	}
	return c.Certs, c.Format, err
}

// ParseFile is Parse that also keeps CRLs (PEM "X509 CRL" blocks, DER): a
// file with only CRLs is fine.
func ParseFile(data []byte, password string) (Contents, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Contents{}, &notCert{why: "empty file"}
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := parsePEM(data)
		c.Format = PEM
		return c, err
	}
	if f, ok := isJavaKeystore(data); ok {
		cs, err := parseKeystore(data, f, password)
		return Contents{Certs: cs, Format: f}, err
	}
	if c, err := x509.ParseCertificate(data); err == nil {
		return Contents{Certs: []*x509.Certificate{c}, Format: DER}, nil
	}
	if crl, err := x509.ParseRevocationList(data); err == nil {
		return Contents{CRLs: []*x509.RevocationList{crl}, Format: DER}, nil
	}
	cs, err := parsePKCS12(data, password)
	var nc *notCert
	if err == nil || !errors.As(err, &nc) || nc.p12 {
		return Contents{Certs: cs, Format: PKCS12}, err
	}
	return Contents{}, &notCert{why: "neither PEM, DER, PKCS#12 nor a Java keystore"}
}

// parsePEM keeps CERTIFICATE and TRUSTED CERTIFICATE blocks, as openssl
// and x509-certificate-exporter do; a bundle with other blocks (the key
// next to the chain) is fine as long as one certificate is in it.
func parsePEM(data []byte) (Contents, error) {
	var out []*x509.Certificate
	var crls []*x509.RevocationList
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
					return Contents{}, &notCert{why: fmt.Sprintf("PEM block %d (%s): %v", n, b.Type, err)}
				}
			}
			out = append(out, c)
		case "X509 CRL":
			crl, err := x509.ParseRevocationList(b.Bytes)
			if err != nil {
				return Contents{}, &notCert{why: fmt.Sprintf("PEM block %d (%s): %v", n, b.Type, err)}
			}
			crls = append(crls, crl)
		default:
			others = append(others, b.Type)
		}
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		// pem.Decode stops at a block without its END line: a file cut
		// short by a full disk or an interrupted copy.
		if len(out)+len(crls) == 0 {
			return Contents{}, &notCert{why: "truncated PEM: a BEGIN line without its END"}
		}
		return Contents{}, &notCert{why: fmt.Sprintf("truncated PEM after %d certificate(s) and %d CRL(s): a BEGIN line without its END", len(out), len(crls))}
	}
	if len(out)+len(crls) == 0 {
		if len(others) > 0 {
			return Contents{}, &notCert{why: "PEM holds no certificate, only " + strings.Join(others, ", "), other: true}
		}
		return Contents{}, &notCert{why: "no valid PEM block"}
	}
	return Contents{Certs: out, CRLs: crls}, nil
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
// truststore (certificates only, as Java writes them). A password that
// does not open it is followed by the empty one, and a password given for
// an archive without a MAC is dropped, as x509-certificate-exporter does.
func parsePKCS12(data []byte, password string) ([]*x509.Certificate, error) {
	if len(data) < 2 || data[0] != 0x30 {
		return nil, &notCert{why: "not PKCS#12"}
	}
	cs, err := decodePKCS12(data, password)
	if err != nil && password != "" && (errors.Is(err, pkcs12.ErrIncorrectPassword) || isNoMAC(err)) {
		if cs2, err2 := decodePKCS12(data, ""); err2 == nil {
			return cs2, nil
		}
	}
	if err != nil && password != "" && isNoMAC(err) {
		// No MAC, contents encrypted with the password.
		if rebuilt, merr := withMAC(data, password); merr == nil {
			cs, err = decodePKCS12(rebuilt, password)
			if err != nil && strings.Contains(err.Error(), "decryption") {
				err = fmt.Errorf("no MAC, and the password does not decrypt it: %w", pkcs12.ErrIncorrectPassword)
			}
		}
	}
	switch {
	case err == nil:
		return cs, nil
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return nil, fmt.Errorf("PKCS#12: %w", ErrWrongPassword)
	case strings.Contains(err.Error(), "error reading P12 data"):
		return nil, &notCert{why: "not PKCS#12: " + err.Error()}
	}
	return nil, &notCert{why: "PKCS#12: " + strings.TrimPrefix(err.Error(), "pkcs12: "), p12: true}
}

func isNoMAC(err error) bool { return strings.Contains(err.Error(), "no MAC in data") }

// decodePKCS12 tries the archive as a key and chain, then as a Java
// truststore, then as openssl's certificates-only archive, and keeps the
// error that says most: the chain decoder's
// "expected exactly 2 items" only says it is not a key and chain.
func decodePKCS12(data []byte, password string) ([]*x509.Certificate, error) {
	_, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err == nil {
		return append([]*x509.Certificate{leaf}, chain...), nil
	}
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || isNoMAC(err) {
		return nil, err
	}
	ts, terr := pkcs12.DecodeTrustStore(data, password)
	switch {
	case terr == nil && len(ts) == 0:
		return nil, errors.New("holds no certificate")
	case terr == nil:
		return ts, nil
	case strings.Contains(terr.Error(), "not marked as trusted"):
		// openssl pkcs12 -export -nokeys: certificates only, without
		// Java's trust attribute.
		cs, cerr := certsOnlyPKCS12(data, password)
		if cerr == nil || errors.Is(cerr, pkcs12.ErrIncorrectPassword) {
			return cs, cerr
		}
		return nil, fmt.Errorf("certificates only, not marked as a Java truststore: not readable here (%v; %v); convert it to PEM with openssl pkcs12 -nokeys", terr, cerr)
	case strings.Contains(err.Error(), "items in the authenticated safe"):
		return nil, terr
	}
	return nil, err
}
