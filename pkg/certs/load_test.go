package certs_test

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/certs"
)

func TestParse(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "Test CA", CA: true})
	leaf := certtest.New(t, certtest.Spec{CN: "leaf", DNS: []string{"leaf.test"}, Parent: ca})
	p12, err := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, []*x509.Certificate{ca.Cert}, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert, leaf.Cert}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	bundle := certtest.Bundle(leaf, ca)
	tests := []struct {
		name     string
		data     []byte
		password string
		n        int
		format   certs.Format
		err      string
		notCert  bool
	}{
		{"PEM bundle: every block", bundle, "", 2, certs.PEM, "", false},
		{"PEM with key and text around", append(append([]byte("subject=leaf\n"), leaf.KeyPEM()...), bundle...), "", 2, certs.PEM, "", false},
		{"DER", leaf.Cert.Raw, "", 1, certs.DER, "", false},
		{"PKCS#12 keystore", p12, "s3cret", 2, certs.PKCS12, "", false},
		{"PKCS#12 truststore", trust, "changeit", 2, certs.PKCS12, "", false},
		{"PKCS#12 wrong password", p12, "nope", 0, "", "wrong password", false},
		{"empty", []byte("\n \n"), "", 0, "", "empty file", true},
		{"garbage", []byte("hello world, not a certificate\x00\x01"), "", 0, "", "neither PEM, DER, PKCS#12 nor a Java keystore", true},
		{"private key only", leaf.KeyPEM(), "", 0, "", "only PRIVATE KEY", true},
		{"truncated PEM", bundle[:len(bundle)-200], "", 0, "", "truncated PEM after 1 certificate", true},
		{"truncated first block", leaf.PEM()[:100], "", 0, "", "truncated PEM: a BEGIN line", true},
		{"corrupt base64 inside", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "", 0, "", "PEM block 1 (CERTIFICATE)", true},
		{"truncated DER", leaf.Cert.Raw[:len(leaf.Cert.Raw)/2], "", 0, "", "neither", true},
	}
	for _, tt := range tests {
		cs, f, err := certs.Parse(tt.data, tt.password)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			if errors.Is(err, certs.ErrNotCertificate) != tt.notCert {
				t.Errorf("%s: errors.Is(ErrNotCertificate) = %v", tt.name, !tt.notCert)
			}
			continue
		}
		if err != nil || len(cs) != tt.n || f != tt.format {
			t.Errorf("%s: %d certs, %q, %v; want %d, %q", tt.name, len(cs), f, err, tt.n, tt.format)
		}
	}
}

func TestOnlyOtherPEMIsSkippable(t *testing.T) {
	k := certtest.New(t, certtest.Spec{CN: "x"})
	_, _, err := certs.Parse(k.KeyPEM(), "")
	if !errors.Is(err, certs.ErrOnlyOtherPEM) {
		t.Errorf("key-only PEM: %v, want ErrOnlyOtherPEM", err)
	}
	_, _, err = certs.Parse([]byte("junk"), "")
	if errors.Is(err, certs.ErrOnlyOtherPEM) {
		t.Errorf("garbage must not be skippable")
	}
}

func FuzzParse(f *testing.F) {
	ca := certtest.New(f, certtest.Spec{CN: "Fuzz CA", CA: true, NotAfter: time.Now().Add(time.Hour)})
	leaf := certtest.New(f, certtest.Spec{CN: "leaf", Parent: ca})
	p12, _ := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, nil, "")
	f.Add(certtest.Bundle(leaf, ca))
	f.Add(leaf.Cert.Raw)
	f.Add(p12)
	f.Add(leaf.KeyPEM())
	f.Add([]byte("-----BEGIN TRUSTED CERTIFICATE-----\nMAA=\n-----END TRUSTED CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, _, err := certs.Parse(data, "")
		if err == nil && len(cs) == 0 {
			t.Fatal("no error and no certificate")
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	})
}
