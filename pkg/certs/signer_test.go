package certs_test

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/certs"
)

func TestWeaknesses(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "CA", CA: true, RSABits: 2048})
	tests := []struct {
		name string
		c    *certtest.Cert
		want string
	}{
		{"ECDSA, SHA-256", certtest.New(t, certtest.Spec{CN: "ok", Parent: ca}), ""},
		{"RSA 2048", certtest.New(t, certtest.Spec{CN: "ok", Parent: ca, RSABits: 2048}), ""},
		{"RSA 1024", certtest.New(t, certtest.Spec{CN: "weak", Parent: ca, RSABits: 1024}), "RSA key of 1024 bits (under 2048)"},
		{"SHA-1 signed", certtest.New(t, certtest.Spec{CN: "sha1", Parent: ca, SHA1: true}), "SHA-1 signature"},
		// Self-signed without the CA flag, as a version 1 root is: a trust
		// anchor whose own signature nobody checks.
		{"SHA-1 self-signed, no CA flag (a v1 root)", certtest.New(t, certtest.Spec{CN: "v1root", RSABits: 2048, SHA1: true}), ""},
		{"SHA-1 signed below a root", certtest.New(t, certtest.Spec{CN: "sha1", Parent: ca, RSABits: 2048, SHA1: true}), "SHA-1 signature"},
		{"SHA-1 self-signed root is not judged on its signature", certtest.New(t, certtest.Spec{CN: "root", CA: true, RSABits: 2048, SHA1: true}), ""},
	}
	for _, tt := range tests {
		got := strings.Join(certs.Weaknesses(tt.c.Cert), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSignedBy(t *testing.T) {
	old := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true})
	cur := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true}) // replaced: same name, new key
	other := certtest.New(t, certtest.Spec{CN: "other-ca", CA: true})
	inter := certtest.New(t, certtest.Spec{CN: "intermediate", CA: true, Parent: cur})
	tests := []struct {
		name   string
		c      *certtest.Cert
		bundle []*x509.Certificate
		want   string
	}{
		{"signed by the current CA", certtest.New(t, certtest.Spec{CN: "apiserver", Parent: cur}), nil, ""},
		{"signed by the replaced CA", certtest.New(t, certtest.Spec{CN: "admin", Parent: old}), nil, "has the CA's name but not its key"},
		{"signed by another CA", certtest.New(t, certtest.Spec{CN: "x", Parent: other}), nil, `issued by "other-ca"`},
		{"self-signed", certtest.New(t, certtest.Spec{CN: "self"}), nil, "self-signed"},
	}
	viaInter := certtest.New(t, certtest.Spec{CN: "leaf", Parent: inter})
	tests = append(tests, struct {
		name   string
		c      *certtest.Cert
		bundle []*x509.Certificate
		want   string
	}{"through an intermediate in its bundle", viaInter, []*x509.Certificate{viaInter.Cert, inter.Cert}, ""})
	for _, tt := range tests {
		got := certs.SignedBy(tt.c.Cert, []*x509.Certificate{cur.Cert}, tt.bundle)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVerifyChain(t *testing.T) {
	now := time.Now()
	root := certtest.New(t, certtest.Spec{CN: "Root", CA: true, NotAfter: now.Add(certtest.Days(3650))})
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inter := certtest.New(t, certtest.Spec{CN: "Inter", CA: true, Parent: root})
	expiredInter := certtest.New(t, certtest.Spec{CN: "Old Inter", CA: true, Parent: root,
		NotBefore: now.Add(-certtest.Days(400)), NotAfter: now.Add(-certtest.Days(2))})
	leaf := certtest.New(t, certtest.Spec{CN: "www", DNS: []string{"www.test"}, Parent: inter})
	leafOfExpired := certtest.New(t, certtest.Spec{CN: "www", DNS: []string{"www.test"}, Parent: expiredInter,
		NotBefore: now.Add(-certtest.Days(30))})
	self := certtest.New(t, certtest.Spec{CN: "www", DNS: []string{"www.test"}})
	otherRoot := certtest.New(t, certtest.Spec{CN: "Other Root", CA: true})
	otherInter := certtest.New(t, certtest.Spec{CN: "Other Inter", CA: true, Parent: otherRoot})
	otherLeaf := certtest.New(t, certtest.Spec{CN: "www", DNS: []string{"www.test"}, Parent: otherInter})
	tests := []struct {
		name  string
		chain []*x509.Certificate
		want  string
	}{
		{"complete chain", []*x509.Certificate{leaf.Cert, inter.Cert}, ""},
		{"missing intermediate", []*x509.Certificate{leaf.Cert}, `issuer "Inter" is not trusted and not in the presented chain`},
		{"self-signed", []*x509.Certificate{self.Cert}, "self-signed certificate where a CA-signed one is expected"},
		{"untrusted root presented", []*x509.Certificate{otherLeaf.Cert, otherInter.Cert, otherRoot.Cert}, `its root "Other Root" is in the presented chain but not trusted`},
		{"intermediate presented, its issuer missing", []*x509.Certificate{otherLeaf.Cert, otherInter.Cert}, `issuer "Other Root" of "Other Inter" is not trusted and not in the presented chain`},
		// The expired intermediate is judged by its dates; the chain
		// itself is sound and not reported twice.
		{"expired intermediate", []*x509.Certificate{leafOfExpired.Cert, expiredInter.Cert}, ""},
	}
	for _, tt := range tests {
		err := certs.VerifyChain(tt.chain, roots, now)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVerifyHostname(t *testing.T) {
	c := certtest.New(t, certtest.Spec{CN: "www", DNS: []string{"*.example.test", "example.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	for host, ok := range map[string]bool{"www.example.test": true, "example.test": true, "127.0.0.1": true, "a.b.example.test": false, "other.test": false, "::1": false} {
		err := certs.VerifyHostname(c.Cert, host)
		if (err == nil) != ok {
			t.Errorf("%s: %v", host, err)
		}
		if err != nil && !strings.Contains(err.Error(), "valid for *.example.test, example.test, 127.0.0.1") {
			t.Errorf("%s: %v does not list the names", host, err)
		}
	}
}
