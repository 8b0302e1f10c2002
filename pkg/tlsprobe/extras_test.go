package tlsprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

func tlsServer(t *testing.T, cfg *tls.Config) (host, port string) {
	t.Helper()
	addr := certtest.ServeTLSConfig(t, "127.0.0.1:0", cfg)
	host, port, _ = net.SplitHostPort(addr)
	return host, port
}

// TestResultExtras: the negotiated cipher and the stapled OCSP response
// are in the result; a client certificate is sent when asked for.
func TestResultExtras(t *testing.T) {
	cert := certtest.New(t, certtest.Spec{CN: "svc.test"}).TLS()
	cert.OCSPStaple = []byte("staple")
	client := certtest.New(t, certtest.Spec{CN: "client"}).TLS()
	sent := make(chan string, 1)
	host, port := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				sent <- "yes"
			}
			return nil
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := Probe(ctx, &net.Dialer{}, Target{Host: host, Port: port, ClientCert: &client})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "TLS 1.3" || !strings.HasPrefix(res.Cipher, "TLS_") || string(res.OCSPStaple) != "staple" {
		t.Errorf("version %q cipher %q staple %q", res.Version, res.Cipher, res.OCSPStaple)
	}
	select {
	case <-sent:
	case <-time.After(time.Second):
		t.Error("the server got no client certificate")
	}
}

// TestAcceptsBelow: the second handshake finds the old versions a
// server still accepts, and nothing on one that refuses them.
func TestAcceptsBelow(t *testing.T) {
	cert := certtest.New(t, certtest.Spec{CN: "svc.test"}).TLS()
	oldHost, oldPort := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10})
	newHost, newPort := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	tests := []struct {
		host, port string
		min        uint16
		want       string
	}{
		{oldHost, oldPort, tls.VersionTLS12, "TLS 1.1"},
		{oldHost, oldPort, tls.VersionTLS11, "TLS 1.0"},
		{oldHost, oldPort, tls.VersionTLS10, ""},
		{newHost, newPort, tls.VersionTLS12, ""},
		{newHost, newPort, tls.VersionTLS13, "TLS 1.2"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		got, err := AcceptsBelow(ctx, &net.Dialer{}, Target{Host: tt.host, Port: tt.port}, tt.min)
		cancel()
		if err != nil || got != tt.want {
			t.Errorf("%s:%s below %s: %q, %v; want %q", tt.host, tt.port, tls.VersionName(tt.min), got, err, tt.want)
		}
	}
}

// TestMinVersion: Probe offers nothing older than Target.MinVersion, and
// a refusal keeps its cause (a caller tells a refused client
// certificate by the alert).
func TestMinVersion(t *testing.T) {
	cert := certtest.New(t, certtest.Spec{CN: "svc.test"}).TLS()
	host, port := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := Probe(ctx, &net.Dialer{}, Target{Host: host, Port: port, MinVersion: tls.VersionTLS12})
	if err != nil || res.Version != "TLS 1.2" {
		t.Errorf("min 1.2: %q, %v", res.Version, err)
	}
	_, err = Probe(ctx, &net.Dialer{}, Target{Host: host, Port: port, MinVersion: tls.VersionTLS13})
	var op *net.OpError
	if err == nil || !strings.HasPrefix(err.Error(), "TLS handshake: ") || !errors.As(err, &op) || op.Op != "remote error" {
		t.Errorf("min 1.3 against a 1.2 server: %v (%#v)", err, op)
	}
}
