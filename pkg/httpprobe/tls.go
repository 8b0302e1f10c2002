package httpprobe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TLSOptions are the TLS settings a sysadmin chooses. Certificates and
// keys come as values: reading files is the caller's business (bounded,
// and safe from hung mounts, in a hindsight check).
type TLSOptions struct {
	RootCAs    *x509.CertPool   // trusted instead of the system roots; nil: the system's
	Insecure   bool             // no chain or name verification
	SNI        string           // server name to send and verify; "" is the URL's host
	NoSNI      bool             // send no server name (still verify against the host)
	ClientCert *tls.Certificate // for client authentication; nil: none
	MinVersion uint16           // tls.VersionTLS12 when 0
}

// ParseRootCAs returns a pool of the PEM certificates in bundle; an error
// when it holds none.
func ParseRootCAs(bundle []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// ParseTLSVersion maps "1.0" to "1.3" to the tls constant.
func ParseTLSVersion(s string) (uint16, error) {
	switch strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tlsv"), "+") {
	case "1", "1.0":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("invalid TLS version %q: use 1.0, 1.1, 1.2 or 1.3", s)
}

// BuildTLS turns the options into a client configuration.
func BuildTLS(o TLSOptions) *tls.Config {
	cfg := &tls.Config{MinVersion: o.MinVersion, ServerName: o.SNI, RootCAs: o.RootCAs}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if o.ClientCert != nil {
		cfg.Certificates = []tls.Certificate{*o.ClientCert}
	} else {
		// With TLS 1.3 the handshake ends for the client before the
		// server has seen that no certificate came: its refusal may meet
		// our request as a closed connection ("broken pipe"). Noting
		// that it asked lets that failure be told as what it is.
		cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if t, ok := cri.Context().Value(tracerKey{}).(*tracer); ok {
				t.mu.Lock()
				t.certAsked = true
				t.mu.Unlock()
			}
			return &tls.Certificate{}, nil
		}
	}
	switch {
	case o.Insecure:
		cfg.InsecureSkipVerify = true
	case o.NoSNI:
		// Go omits SNI only when ServerName is an IP address, and would
		// then verify against that address; so verification is done here
		// against the name the request is for.
		cfg.InsecureSkipVerify = true
		cfg.ServerName = "0.0.0.0"
		roots := cfg.RootCAs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if o.SNI == "" {
				return errors.New("tls: no name to verify the certificate against (NoSNIFor not applied)")
			}
			return VerifyChain(cs.PeerCertificates, roots, o.SNI, time.Now())
		}
	}
	return cfg
}

// NoSNIFor returns cfg for a host when SNI is suppressed: the name
// verified is host (unless --sni named one).
func NoSNIFor(cfg *tls.Config, host string, o TLSOptions) *tls.Config {
	if !o.NoSNI || o.Insecure {
		return cfg
	}
	c := cfg.Clone()
	name := o.SNI
	if name == "" {
		name = host
	}
	roots := cfg.RootCAs
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		return VerifyChain(cs.PeerCertificates, roots, name, time.Now())
	}
	return c
}

// VerifyChain verifies a chain as presented (leaf first) as crypto/tls
// does for a client: to roots (nil: the system's), for name, at now; the
// error is the one a failed handshake would carry.
func VerifyChain(chain []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now})
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: chain, Err: err}
	}
	return nil
}
