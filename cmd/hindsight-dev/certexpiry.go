package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

func init() {
	const peers = "/usr/lib/nagios/plugins/"
	many := []string{"{bin}/check_cert_expiry", "--ca-file", "{dir}/cert/ca.pem"}
	for i := 0; i < 50; i++ {
		many = append(many, "-H", fmt.Sprintf("127.0.0.1:{ep%d}", i))
	}
	var ocspAnswers atomic.Int64
	register(Entry{
		Plugin: "check_cert_expiry",
		Demo: [][]string{
			{"-f", "/etc/ssl/certs/ssl-cert-snakeoil.pem"},
			{"-d", "/etc/ssl/certs", "--min-certs", "100", "-w", "90", "-c", "30"},
			{"-f", "/etc/ssl/private/*.key"},
			{"--kubeadm"},
			{"-H", "127.0.0.1", "--insecure"},
		},
		Bench: []Row{
			{
				Name:     "cert: one TLS endpoint vs check_ssl_cert",
				Ours:     []string{"{bin}/check_cert_expiry", "-H", "127.0.0.1:{ep0}", "--ca-file", "{dir}/cert/ca.pem", "-w", "14", "-c", "7"},
				Peer:     []string{peers + "check_ssl_cert", "-H", "127.0.0.1", "-p", "{ep0}", "-s", "--ignore-sct", "--ignore-ocsp", "--ignore-maximum-validity", "--no-proxy", "-w", "14", "-c", "7"},
				Setup:    tlsEndpoints(50),
				MaxRatio: 1.0 / 50,
			},
			{
				// Both ask the leaf's OCSP responder: one more round trip,
				// within the endpoint's budget.
				Name:     "cert: one TLS endpoint with OCSP vs check_ssl_cert with OCSP",
				Ours:     []string{"{bin}/check_cert_expiry", "-H", "127.0.0.1:{ocsp_ep}", "--ca-file", "{dir}/ocsp/ca.pem", "--no-proxy", "-w", "14", "-c", "7"},
				Peer:     []string{peers + "check_ssl_cert", "-H", "127.0.0.1", "-p", "{ocsp_ep}", "--rootcert-file", "{dir}/ocsp/ca.pem", "--ignore-sct", "--ignore-maximum-validity", "--no-proxy", "-w", "14", "-c", "7"},
				Setup:    ocspEndpoint(&ocspAnswers),
				MaxRatio: 1.0 / 20,
				Observe: func(*Lab) func() string {
					before := ocspAnswers.Load()
					return func() string {
						return fmt.Sprintf("the OCSP responder answered %d requests", ocspAnswers.Load()-before)
					}
				},
			},
			{
				Name:     "cert: one TLS endpoint vs check_http -C",
				Ours:     []string{"{bin}/check_cert_expiry", "-H", "127.0.0.1:{ep0}", "--insecure", "-w", "14", "-c", "7"},
				Peer:     []string{peers + "check_http", "-H", "127.0.0.1", "-p", "{ep0}", "-S", "-C", "14,7"},
				Setup:    tlsEndpoints(50),
				MaxRatio: 1.0,
			},
			{
				Name:    "cert: 1000 PEM files in a directory",
				Ours:    []string{"{bin}/check_cert_expiry", "-d", "{dir}/pems", "--min-certs", "1000"},
				Setup:   pemFiles(1000),
				MaxWall: 150 * time.Millisecond,
				MaxRSS:  16 << 10, // 14 MiB before the runtime's file source: keep it there
			},
			{
				// The peer is ourselves on one endpoint: 50 endpoints in
				// one run must cost no more than twice one.
				Name:     "cert: 50 endpoints vs 1 endpoint",
				Ours:     many,
				Peer:     []string{"{bin}/check_cert_expiry", "-H", "127.0.0.1:{ep0}", "--ca-file", "{dir}/cert/ca.pem"},
				Setup:    tlsEndpoints(50),
				MaxRatio: 2,
			},
		},
	})
}

// benchCert makes a self-signed certificate for 127.0.0.1, valid for 60
// days, written to {dir}/cert/ca.pem.
func benchCert(l *Lab) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "bench.test"},
		DNSNames: []string{"bench.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour),
		BasicConstraintsValid: true, IsCA: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	dir := filepath.Join(l.Dir, "cert")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tlsEndpoints starts n TLS servers on 127.0.0.1 (once per bench run)
// and sets {ep0}..{epN-1} to their ports.
func tlsEndpoints(n int) func(*Lab) error {
	return func(l *Lab) error {
		if _, ok := l.Vars[fmt.Sprintf("ep%d", n-1)]; ok {
			return nil
		}
		cert, err := benchCert(l)
		if err != nil {
			return err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		for i := 0; i < n; i++ {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
			if err != nil {
				return err
			}
			l.Cleanup(func() { ln.Close() })
			go serveTLS(ln)
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			l.Vars[fmt.Sprintf("ep%d", i)] = port
		}
		return nil
	}
}

// serveTLS answers every connection with a handshake and, for
// check_http, a minimal HTTP response.
func serveTLS(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			if n, _ := c.Read(buf); n > 0 {
				c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}
		}()
	}
}

// pemFiles writes n certificates, one PEM file each, to {dir}/pems.
func pemFiles(n int) func(*Lab) error {
	return func(l *Lab) error {
		dir := filepath.Join(l.Dir, "pems")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("host%04d.test", i)},
				DNSNames:  []string{fmt.Sprintf("host%04d.test", i)},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(30+i%300) * 24 * time.Hour),
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			if err != nil {
				return err
			}
			p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("host%04d.pem", i)), p, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

// ocspEndpoint starts a CA with an OCSP responder and one TLS server
// presenting a leaf (and the CA) whose AIA names the responder; it sets
// {ocsp_ep} and writes {dir}/ocsp/ca.pem; the responder also serves the
// CA at the leaf's CA Issuers URL. Observe counts the answers,
// so the table shows both sides asked.
func ocspEndpoint(answers *atomic.Int64) func(*Lab) error {
	return func(l *Lab) error {
		if _, ok := l.Vars["ocsp_ep"]; ok {
			return nil
		}
		ca, caKey, err := benchIssue(nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "Bench OCSP CA"}, IsCA: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature})
		if err != nil {
			return err
		}
		responder := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ca.crt" {
				// check_ssl_cert asks OCSP only with the issuer fetched
				// from the AIA's CA Issuers URL.
				w.Write(ca.Raw)
				return
			}
			body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if r.Method == http.MethodGet {
				body, _ = base64.StdEncoding.DecodeString(strings.TrimPrefix(r.URL.Path, "/"))
			}
			req, err := ocsp.ParseRequest(body)
			if err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			answers.Add(1)
			der, _ := ocsp.CreateResponse(ca, ca, ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber,
				ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}, caKey)
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write(der)
		})}
		rln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go responder.Serve(rln)
		l.Cleanup(func() { responder.Close() })
		leaf, leafKey, err := benchIssue(ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "ocsp.test"},
			DNSNames: []string{"ocsp.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			OCSPServer: []string{"http://" + rln.Addr().String()}, IssuingCertificateURL: []string{"http://" + rln.Addr().String() + "/ca.crt"},
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			return err
		}
		dir := filepath.Join(l.Dir, "ocsp")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
			return err
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: leafKey}}})
		if err != nil {
			return err
		}
		l.Cleanup(func() { ln.Close() })
		go serveTLS(ln)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		l.Vars["ocsp_ep"] = port
		return nil
	}
}

// benchIssue signs tmpl with parent (nil: self-signed), valid for 60
// days from an hour ago, with a fresh P-256 key.
func benchIssue(parent *x509.Certificate, parentKey crypto.Signer, tmpl *x509.Certificate) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour)
	tmpl.BasicConstraintsValid = true
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}
