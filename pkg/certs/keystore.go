package certs

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"fmt"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
)

// Java keystores start with one of these magic numbers.
const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

// isJavaKeystore tells JKS and JCEKS files by their magic number.
func isJavaKeystore(data []byte) (Format, bool) {
	if len(data) < 4 {
		return "", false
	}
	switch binary.BigEndian.Uint32(data) {
	case jksMagic:
		return JKS, true
	case jceksMagic:
		return JCEKS, true
	}
	return "", false
}

// whitener is what Java mixes into a keystore's integrity digest.
var whitener = []byte("Mighty Aphrodite")

// keystoreDigest is Java's integrity digest of a keystore body: SHA-1 of
// the password in UTF-16BE, the whitener and the body.
func keystoreDigest(body []byte, password string) []byte {
	h := sha1.New()
	for _, r := range password {
		h.Write([]byte{byte(r >> 8), byte(r)})
	}
	h.Write(whitener)
	h.Write(body)
	return h.Sum(nil)
}

// parseKeystore reads the certificates of a JKS or JCEKS keystore or
// truststore, in alias order, each private key entry's chain leaf first.
//
// keystore-go reads JKS only. JCEKS is the same container with another
// magic number (its private keys are encrypted differently, but the
// certificates are stored in clear in both), so the file's digest is
// checked here, and keystore-go is handed the body as a JKS. With no
// password the certificates are read without the integrity check, as
// keytool -list does; a password that does not match is an error.
// Private keys are never decrypted.
func parseKeystore(data []byte, format Format, password string) ([]*x509.Certificate, error) {
	if len(data) < 4+sha1.Size {
		return nil, &notCert{why: string(format) + ": truncated keystore", p12: true}
	}
	body, digest := data[:len(data)-sha1.Size], data[len(data)-sha1.Size:]
	if password != "" && !bytes.Equal(keystoreDigest(body, password), digest) {
		return nil, fmt.Errorf("%s: %w", format, ErrWrongPassword)
	}
	jks := append([]byte(nil), body...)
	binary.BigEndian.PutUint32(jks, jksMagic)
	jks = append(jks, keystoreDigest(jks, "")...)
	ks := keystore.New(keystore.WithOrderedAliases(), keystore.WithCaseExactAliases())
	if err := ks.Load(bytes.NewReader(jks), nil); err != nil {
		why := err.Error()
		if format == JCEKS && bytes.Contains([]byte(why), []byte("unknown entry tag")) {
			why += " (a JCEKS secret-key entry: its certificates cannot be reached)"
		}
		return nil, &notCert{why: string(format) + ": " + why, p12: true}
	}
	var out []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var raw []keystore.Certificate
		if ks.IsPrivateKeyEntry(alias) {
			raw, _ = ks.GetPrivateKeyEntryCertificateChain(alias)
		} else if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
			raw = []keystore.Certificate{e.Certificate}
		}
		for _, r := range raw {
			c, err := x509.ParseCertificate(r.Content)
			if err != nil {
				return nil, &notCert{why: fmt.Sprintf("%s entry %q: %v", format, alias, err), p12: true}
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, &notCert{why: string(format) + " holds no certificate", p12: true}
	}
	return out, nil
}
