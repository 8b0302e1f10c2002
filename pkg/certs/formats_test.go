package certs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

// The files are made by keytool and openssl (testdata/certs/formats/
// generate.sh) and committed: what users have, not what Go writes.
func TestFormatsFromTools(t *testing.T) {
	const dir = "../../testdata/certs/formats/"
	tests := []struct {
		file, password string
		format         Format
		certs, crls    int
		err            string // substring of the error, "" for none
	}{
		{"keystore.jks", "changeit", JKS, 2, 0, ""},
		{"keystore.jks", "", JKS, 2, 0, ""}, // read unverified, as keytool -list
		{"keystore.jks", "wrong", JKS, 0, 0, "wrong password"},
		{"truststore.jks", "changeit", JKS, 1, 0, ""},
		{"keystore.jceks", "changeit", JCEKS, 2, 0, ""},
		{"truststore.jceks", "changeit", JCEKS, 1, 0, ""},
		{"truststore.jceks", "wrong", JCEKS, 0, 0, "wrong password"},
		{"secret.jceks", "changeit", JCEKS, 0, 0, "JCEKS secret-key entry"},
		{"nomac.p12", "secret", PKCS12, 2, 0, ""}, // a password given for an archive without MAC
		{"nomac.p12", "", PKCS12, 2, 0, ""},
		{"nomac-encrypted.p12", "secret", PKCS12, 2, 0, ""}, // no MAC, encrypted with the password
		{"nomac-encrypted.p12", "wrong", PKCS12, 0, 0, "wrong password"},
		{"certs-only.p12", "secret", PKCS12, 2, 0, ""}, // openssl pkcs12 -export -nokeys
		{"certs-only.p12", "wrong", PKCS12, 0, 0, "wrong password"},
		{"certs-only-legacy.p12", "secret", PKCS12, 2, 0, ""}, // RC2-40, SHA-1 MAC (openssl 1.1's default)
		{"certs-only-3des.p12", "secret", PKCS12, 1, 0, ""},
		{"crl.pem", "", PEM, 0, 1, ""},
		{"crl.der", "", DER, 0, 1, ""},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(dir + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseFile(data, tt.password)
		name := tt.file + " " + tt.password
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Format != tt.format || len(c.Certs) != tt.certs || len(c.CRLs) != tt.crls {
			t.Errorf("%s: %s with %d certificates and %d CRLs, want %s, %d, %d", name, c.Format, len(c.Certs), len(c.CRLs), tt.format, tt.certs, tt.crls)
		}
		if tt.certs == 2 && c.Certs[0].Subject.CommonName != "formats-leaf" {
			t.Errorf("%s: first certificate %s, want the leaf", name, c.Certs[0].Subject.CommonName)
		}
	}
	// A CRL alone is not a certificate for the callers that want one.
	data, _ := os.ReadFile(dir + "crl.pem")
	if _, _, err := Parse(data, ""); !errors.Is(err, ErrNotCertificate) {
		t.Errorf("Parse(crl.pem): %v, want a not-a-certificate error", err)
	}
}

// An archive made with the empty password opens when another password
// is given (one password for many files), as x509-certificate-exporter
// does.
func TestPKCS12EmptyPasswordFallback(t *testing.T) {
	c := certtest.New(t, certtest.Spec{CN: "empty"})
	p12, err := pkcs12.Modern.Encode(c.Key, c.Cert, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := Parse(p12, "for-the-other-files")
	if err != nil || len(cs) != 1 || cs[0].Subject.CommonName != "empty" {
		t.Errorf("%v, %v", cs, err)
	}
}
