package certs

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// ekuNames are the extended key usages by the names openssl and
// check_ssl_cert use (--require-purpose takes them).
var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "any",
	x509.ExtKeyUsageServerAuth:      "serverAuth",
	x509.ExtKeyUsageClientAuth:      "clientAuth",
	x509.ExtKeyUsageCodeSigning:     "codeSigning",
	x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping:    "timeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
	x509.ExtKeyUsageIPSECEndSystem:  "ipsecEndSystem",
	x509.ExtKeyUsageIPSECTunnel:     "ipsecTunnel",
	x509.ExtKeyUsageIPSECUser:       "ipsecUser",
}

// Purpose is an extended key usage by name ("serverAuth"), case-insensitive.
func Purpose(name string) (x509.ExtKeyUsage, bool) {
	for u, n := range ekuNames {
		if strings.EqualFold(n, name) {
			return u, true
		}
	}
	return 0, false
}

// PurposeNames lists the names Purpose knows, for messages.
func PurposeNames() string {
	return "serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, ipsecEndSystem, ipsecTunnel, ipsecUser"
}

// PurposeName is the name of u.
func PurposeName(u x509.ExtKeyUsage) string {
	if n, ok := ekuNames[u]; ok {
		return n
	}
	return fmt.Sprintf("usage %d", u)
}

// Allows says whether a certificate with these extended key usages may be
// used for want: no extension at all allows every purpose, as in TLS
// clients (RFC 5280 4.2.1.12), and so does anyExtendedKeyUsage.
func Allows(ekus []x509.ExtKeyUsage, want x509.ExtKeyUsage) bool {
	if len(ekus) == 0 {
		return true
	}
	for _, u := range ekus {
		if u == want || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// PurposesOf names ekus for messages: "clientAuth, codeSigning".
func PurposesOf(ekus []x509.ExtKeyUsage) string {
	if len(ekus) == 0 {
		return "none given (any)"
	}
	names := make([]string, len(ekus))
	for i, u := range ekus {
		names[i] = PurposeName(u)
	}
	return strings.Join(names, ", ")
}

// Describe is everything about c on one line, for -vvv.
func Describe(c *x509.Certificate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "subject %q, issuer %q, serial %s, SHA-256 %X, valid %s to %s UTC, key %s, signature %s, purposes %s",
		c.Subject.String(), c.Issuer.String(), c.SerialNumber.Text(16), sha256.Sum256(c.Raw),
		c.NotBefore.UTC().Format(time.DateTime), c.NotAfter.UTC().Format(time.DateTime), keyOf(c), c.SignatureAlgorithm, PurposesOf(c.ExtKeyUsage))
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, ", names %s", strings.Join(names, " "))
	}
	if c.IsCA {
		b.WriteString(", CA")
	}
	return b.String()
}

func keyOf(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// DescribeCRL is everything about a CRL on one line, for -vvv.
func DescribeCRL(l *x509.RevocationList) string {
	next := "none"
	if !l.NextUpdate.IsZero() {
		next = l.NextUpdate.UTC().Format(time.DateTime) + " UTC"
	}
	number := "none"
	if l.Number != nil {
		number = l.Number.Text(16)
	}
	return fmt.Sprintf("CRL issuer %q, number %s, this update %s UTC, next update %s, %d revoked, signature %s",
		l.Issuer.String(), number, l.ThisUpdate.UTC().Format(time.DateTime), next, len(l.RevokedCertificateEntries), l.SignatureAlgorithm)
}
