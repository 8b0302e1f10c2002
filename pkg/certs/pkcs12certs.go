package certs

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"hash"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"
)

// The PKCS#12 structures certsOnlyPKCS12 touches (RFC 7292): the outer
// PDU, its authenticated safe and the MAC over it.
type pfxPDU struct {
	Version  int
	AuthSafe struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	MacData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	} `asn1:"optional"`
}

var oidData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}

// macHashes are the MAC digests of RFC 7292 (PBMAC1 is not handled here).
var macHashes = map[string]func() hash.Hash{
	"1.3.14.3.2.26":          sha1.New,
	"2.16.840.1.101.3.4.2.1": sha256.New,
	"2.16.840.1.101.3.4.2.3": sha512.New,
}

// certsOnlyPKCS12 reads an archive of certificates only that is not a
// Java truststore, as openssl pkcs12 -export -nokeys writes it: one item
// in the authenticated safe, no trust attribute. go-pkcs12 decodes a key
// and chain (two items) or a Java truststore, not this; but its ToPEM
// decrypts and converts any two items. So the archive gets an empty
// second item and its MAC, checked with the password first, is computed
// anew; go-pkcs12 then does all the decryption. Only certificates are
// kept.
func certsOnlyPKCS12(data []byte, password string) ([]*x509.Certificate, error) {
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(data, &pfx); err != nil || len(rest) > 0 || !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, errors.New("not a password-protected PKCS#12")
	}
	var safe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &safe); err != nil {
		return nil, err
	}
	var items []asn1.RawValue
	if _, err := asn1.Unmarshal(safe, &items); err != nil || len(items) != 1 {
		return nil, errors.New("not a certificates-only PKCS#12")
	}
	newHash, ok := macHashes[pfx.MacData.Mac.Algorithm.Algorithm.String()]
	if !ok {
		return nil, errors.New("MAC algorithm " + pfx.MacData.Mac.Algorithm.Algorithm.String() + " not handled")
	}
	pw := bmpPassword(password)
	if !hmac.Equal(pkcs12MAC(newHash, pfx.MacData.MacSalt, pw, pfx.MacData.Iterations, safe), pfx.MacData.Mac.Digest) {
		return nil, pkcs12.ErrIncorrectPassword
	}
	empty, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     []byte `asn1:"tag:0,explicit"`
	}{oidData, []byte{0x30, 0x00}}) // data: an empty SafeContents
	if err != nil {
		return nil, err
	}
	safe, err = asn1.Marshal([]asn1.RawValue{items[0], {FullBytes: empty}})
	if err != nil {
		return nil, err
	}
	octets, err := asn1.Marshal(safe)
	if err != nil {
		return nil, err
	}
	pfx.AuthSafe.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}
	pfx.MacData.Mac.Digest = pkcs12MAC(newHash, pfx.MacData.MacSalt, pw, pfx.MacData.Iterations, safe)
	rebuilt, err := asn1.Marshal(pfx)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 deprecated for how it labels private keys; only its certificate blocks are used
	blocks, err := pkcs12.ToPEM(rebuilt, password)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("holds no certificate")
	}
	return out, nil
}

// bmpPassword is the password as PKCS#12 hashes it: UTF-16BE with a
// terminating zero (the empty password too, as openssl does).
func bmpPassword(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r>>8), byte(r))
	}
	return append(b, 0, 0)
}

// pkcs12MAC is the HMAC of RFC 7292 over message, its key derived with
// the PKCS#12 KDF (appendix B.2, ID 3).
func pkcs12MAC(newHash func() hash.Hash, salt, password []byte, iterations int, message []byte) []byte {
	key := pkcs12KDF(newHash, salt, password, iterations, 3, newHash().Size())
	m := hmac.New(newHash, key)
	m.Write(message)
	return m.Sum(nil)
}

// pkcs12KDF is RFC 7292 appendix B.2.
func pkcs12KDF(newHash func() hash.Hash, salt, password []byte, iterations int, id byte, size int) []byte {
	h := newHash()
	v := h.BlockSize()
	fill := func(x []byte) []byte {
		if len(x) == 0 {
			return nil
		}
		n := (len(x) + v - 1) / v * v
		out := make([]byte, n)
		for i := range out {
			out[i] = x[i%len(x)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h.Reset()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(nil)
		}
		out = append(out, a...)
		b := fill(a)[:v]
		for j := 0; j+v <= len(in); j += v { // I_j = (I_j + B + 1) mod 2^(8v)
			carry := 1
			for k := v - 1; k >= 0; k-- {
				s := int(in[j+k]) + int(b[k]) + carry
				in[j+k], carry = byte(s), s>>8
			}
		}
	}
	return out[:size]
}

// withMAC gives an archive without a MAC (openssl pkcs12 -nomac) one
// computed with password: go-pkcs12 opens an archive without a MAC only
// with the empty password, although its contents may be encrypted with
// another. The MAC proves nothing here; the decryption that follows does.
func withMAC(data []byte, password string) ([]byte, error) {
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(data, &pfx); err != nil || len(rest) > 0 || len(pfx.MacData.Mac.Algorithm.Algorithm) > 0 {
		return nil, errors.New("not a PKCS#12 without MAC")
	}
	var safe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &safe); err != nil {
		return nil, err
	}
	pfx.MacData.Mac.Algorithm.Algorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	pfx.MacData.Mac.Algorithm.Parameters = asn1.NullRawValue
	pfx.MacData.MacSalt = []byte("hindsight")
	pfx.MacData.Iterations = 1
	pfx.MacData.Mac.Digest = pkcs12MAC(sha256.New, pfx.MacData.MacSalt, bmpPassword(password), 1, safe)
	return asn1.Marshal(pfx)
}
