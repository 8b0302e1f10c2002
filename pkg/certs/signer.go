package certs

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinRSABits is the smallest RSA key accepted (NIST SP 800-131A).
const MinRSABits = 2048

// SelfSigned reports whether c is signed by its own key: a root CA, or a
// leaf nobody vouches for.
func SelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	// Go refuses to check SHA-1 and MD5 signatures at all; such a
	// certificate naming itself as issuer is taken at its word.
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// Weaknesses names what makes c weak: a SHA-1 or MD5 signature (not
// judged on self-signed certificates: a trust anchor's own signature is
// never checked, whether it is a version 3 CA or a version 1 root without
// basic constraints) and an RSA key under MinRSABits.
func Weaknesses(c *x509.Certificate) []string {
	var out []string
	weak := ""
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		weak = "SHA-1 signature (" + c.SignatureAlgorithm.String() + ")"
	case x509.MD5WithRSA, x509.MD2WithRSA:
		weak = "MD5 signature (" + c.SignatureAlgorithm.String() + ")"
	}
	// SelfSigned only for weak signatures: it checks a signature, which
	// a thousand files should not cost.
	if weak != "" && !SelfSigned(c) {
		out = append(out, weak)
	}
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < MinRSABits {
		out = append(out, fmt.Sprintf("RSA key of %d bits (under %d)", k.N.BitLen(), MinRSABits))
	}
	return out
}

// SignedBy checks that c was signed by one of cas, directly or through
// intermediates from its own bundle that were. It returns "" when it was,
// else why not, worded for the case that matters after a CA was
// replaced: an issuer with the CA's name whose key is not the CA's.
func SignedBy(c *x509.Certificate, cas, intermediates []*x509.Certificate) string {
	if signedBy(c, cas) {
		return ""
	}
	for _, in := range intermediates {
		if in != c && signedBy(c, []*x509.Certificate{in}) && signedBy(in, cas) {
			return ""
		}
	}
	for _, ca := range cas {
		if bytes.Equal(c.RawIssuer, ca.RawSubject) {
			return fmt.Sprintf("issuer %q has the CA's name but not its key: signed by an older or other CA of that name (CA replaced?)", Name(ca))
		}
	}
	if SelfSigned(c) {
		return "self-signed, not signed by the CA"
	}
	return fmt.Sprintf("issued by %q, not by the CA %q", IssuerName(c), Name(cas[0]))
}

func signedBy(c *x509.Certificate, cas []*x509.Certificate) bool {
	for _, ca := range cas {
		if !bytes.Equal(c.RawIssuer, ca.RawSubject) {
			continue
		}
		// CheckSignatureFrom also insists on the CA flag, which some
		// old private CAs lack; the signature is what matters here.
		if ca.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
			return true
		}
	}
	return false
}

// Name is the most telling name of a certificate's subject: its common
// name, else its first DNS name, else the whole subject.
func Name(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "(no subject)"
}

// IssuerName is the most telling name of c's issuer.
func IssuerName(c *x509.Certificate) string { return IssuerNameOf(c.Issuer) }

// IssuerNameOf is the common name of n, else all of it.
func IssuerNameOf(n pkix.Name) string {
	if n.CommonName != "" {
		return n.CommonName
	}
	return n.String()
}

// VerifyChain verifies chain (leaf first, as served or bundled) to roots
// (nil: the system's). Expiry is judged per certificate by JudgeDates, so
// a chain that only fails because something in it expired is verified
// again at a moment when all of it was valid: the finding then is the
// expiry, not a vague "chain invalid" on top of it.
func VerifyChain(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	_, err := chain[0].Verify(opts)
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		opts.CurrentTime = latestNotBefore(chain).Add(time.Second)
		_, err = chain[0].Verify(opts)
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil // dates are judged per certificate
		}
	}
	if err != nil {
		return errors.New(describeVerify(err, chain))
	}
	return nil
}

func latestNotBefore(chain []*x509.Certificate) time.Time {
	t := chain[0].NotBefore
	for _, c := range chain[1:] {
		if c.NotBefore.After(t) {
			t = c.NotBefore
		}
	}
	return t
}

// describeVerify words a verification failure. An unknown authority is
// told apart: the chain reaches a root that is not trusted, or stops at
// an issuer that was not presented (a missing intermediate).
func describeVerify(err error, chain []*x509.Certificate) string {
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return "chain does not verify: " + strings.TrimPrefix(err.Error(), "x509: ")
	}
	leaf := chain[0]
	if SelfSigned(leaf) {
		return "self-signed certificate where a CA-signed one is expected"
	}
	top := topOf(chain)
	if SelfSigned(top) {
		return fmt.Sprintf("chain does not verify: its root %q is in the presented chain but not trusted", Name(top))
	}
	if top != leaf {
		return fmt.Sprintf("chain does not verify: issuer %q of %q is not trusted and not in the presented chain (missing intermediate?)", IssuerName(top), Name(top))
	}
	return fmt.Sprintf("chain does not verify: issuer %q is not trusted and not in the presented chain (missing intermediate?)", IssuerName(leaf))
}

// topOf follows issuers from the leaf through the presented chain and
// returns the last certificate reached.
func topOf(chain []*x509.Certificate) *x509.Certificate {
	cur := chain[0]
	for range chain {
		if SelfSigned(cur) {
			return cur
		}
		next := (*x509.Certificate)(nil)
		for _, c := range chain {
			if c != cur && bytes.Equal(cur.RawIssuer, c.RawSubject) && c.CheckSignature(cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature) == nil {
				next = c
				break
			}
		}
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

// VerifyHostname checks that leaf is valid for host (DNS name with
// wildcards, or IP address), wording the mismatch for people.
func VerifyHostname(leaf *x509.Certificate, host string) error {
	if err := leaf.VerifyHostname(host); err != nil {
		names := append([]string(nil), leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			return fmt.Errorf("hostname %s does not match: the certificate has no subject alternative names (CN %q is not used for matching)", host, leaf.Subject.CommonName)
		}
		if len(names) > 5 {
			names = append(names[:5], fmt.Sprintf("+%d more", len(names)-5))
		}
		return fmt.Errorf("hostname %s does not match the certificate (valid for %s)", host, strings.Join(names, ", "))
	}
	return nil
}
