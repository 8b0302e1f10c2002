package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func init() {
	const peers = "/usr/lib/nagios/plugins/"
	many := []string{"{bin}/check_cert_expiry", "--ca-file", "{dir}/cert/ca.pem"}
	for i := 0; i < 50; i++ {
		many = append(many, "-H", fmt.Sprintf("127.0.0.1:{ep%d}", i))
	}
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
