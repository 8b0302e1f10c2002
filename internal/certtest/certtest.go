// Package certtest makes certificates and loopback TLS servers for tests:
// chosen validity, issuer, key and signature, generated in-process with
// crypto/x509 so that no fixture ever expires under a test.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// Spec describes a certificate to make.
type Spec struct {
	CN        string
	DNS       []string
	IPs       []net.IP
	NotBefore time.Time // zero: a day ago
	NotAfter  time.Time // zero: 90 days after NotBefore
	CA        bool
	Parent    *Cert // nil: self-signed
	RSABits   int   // 0: ECDSA P-256
	SHA1      bool  // sign with SHA-1 (RSA only)
	Key       crypto.Signer
	EKU       []x509.ExtKeyUsage // nil: serverAuth and clientAuth (leaves)
	OCSP      []string           // AIA OCSP responder URLs
	CRL       []string           // CRL distribution points
}

// Cert is a made certificate with its key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var serial atomic.Int64

// Days is a duration of d days.
func Days(d float64) time.Duration { return time.Duration(d * 24 * float64(time.Hour)) }

// New makes a certificate as s says.
func New(t testing.TB, s Spec) *Cert {
	t.Helper()
	key := s.Key
	var err error
	if key == nil {
		if s.RSABits > 0 {
			key, err = rsa.GenerateKey(rand.Reader, s.RSABits)
		} else {
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.NotBefore.IsZero() {
		s.NotBefore = time.Now().Add(-Days(1))
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = s.NotBefore.Add(Days(90))
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1) + time.Now().UnixNano()%1e9*1000),
		Subject:               pkix.Name{CommonName: s.CN},
		DNSNames:              s.DNS,
		IPAddresses:           s.IPs,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.CA,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		OCSPServer:            s.OCSP,
		CRLDistributionPoints: s.CRL,
	}
	if s.EKU != nil {
		tmpl.ExtKeyUsage = s.EKU
	}
	if s.CA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = nil
	}
	if s.SHA1 {
		tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	}
	parent, signer := tmpl, key
	if s.Parent != nil {
		parent, signer = s.Parent.Cert, s.Parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("create %s: %v", s.CN, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: c, Key: key}
}

// PEM is the certificate in PEM.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM is the private key in PKCS#8 PEM.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// Bundle is certificates concatenated in PEM, in the order given.
func Bundle(cs ...*Cert) []byte {
	var b []byte
	for _, c := range cs {
		b = append(b, c.PEM()...)
	}
	return b
}

// TLS is c with chain as a tls.Certificate a server can present.
func (c *Cert) TLS(chain ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
	for _, x := range chain {
		tc.Certificate = append(tc.Certificate, x.Cert.Raw)
	}
	return tc
}

// ServeTLS starts a TLS server on 127.0.0.1 presenting cert, which
// completes the handshake and closes. It returns "127.0.0.1:port".
func ServeTLS(t testing.TB, cert tls.Certificate) string {
	t.Helper()
	return ServeTLSOn(t, "127.0.0.1:0", cert)
}

// ServeTLSOn is ServeTLS on a chosen loopback address.
func ServeTLSOn(t testing.TB, addr string, cert tls.Certificate) string {
	t.Helper()
	return ServeTLSConfig(t, addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}

// ServeTLSConfig serves the handshake with cfg on addr (a loopback
// address, port 0 for any) until the test ends, and returns the address.
func ServeTLSConfig(t testing.TB, addr string, cfg *tls.Config) string {
	t.Helper()
	return testutil.Serve(t, addr, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		tc := tls.Server(c, cfg)
		tc.Handshake()
		tc.Read(make([]byte, 1))
	})
}
