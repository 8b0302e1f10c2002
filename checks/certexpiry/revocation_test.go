package certexpiry

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"golang.org/x/crypto/ocsp"
)

// revocationLab is a CA with a real OpenSSL OCSP responder and a CRL
// server on loopback, and TLS servers for its good and revoked leaves.
type revocationLab struct {
	ca              *certtest.Cert
	caFile          string
	ocspURL, crlURL string
	revokedAt       time.Time
	dir             string
	crlRevoked      atomic.Pointer[[]*certtest.Cert] // listed by the CRL
}

// startOCSP writes an OpenSSL index (good: V, revoked: R with a
// reason) and starts `openssl ocsp` on a free loopback port.
func startOCSP(t *testing.T, lab *revocationLab, good, revoked []*certtest.Cert) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (apt-get install openssl)")
	}
	var idx strings.Builder
	exp := time.Now().Add(certtest.Days(365)).UTC().Format("060102150405Z")
	for _, c := range good {
		fmt.Fprintf(&idx, "V\t%s\t\t%s\tunknown\t/CN=%s\n", exp, hexSerial(c.Cert.SerialNumber), c.Cert.Subject.CommonName)
	}
	for _, c := range revoked {
		fmt.Fprintf(&idx, "R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s\n", exp, lab.revokedAt.UTC().Format("060102150405Z"), hexSerial(c.Cert.SerialNumber), c.Cert.Subject.CommonName)
	}
	index := write(t, filepath.Join(lab.dir, "index.txt"), []byte(idx.String()))
	key := write(t, filepath.Join(lab.dir, "ca.key"), lab.ca.KeyPEM())
	port := lab.ocspURL[strings.LastIndex(lab.ocspURL, ":")+1:]
	cmd := exec.Command(openssl, "ocsp", "-index", index, "-port", port, "-rsigner", lab.caFile, "-rkey", key,
		"-CA", lab.caFile, "-nmin", "10", "-ignore_err")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	waitOCSP(t, lab, good[0], log.String)
}

// waitOCSP waits until the responder answers a real request. A bare
// connect would not do: OpenSSL 3.0's responder serves one connection
// at a time and wedges on one closed without a request.
func waitOCSP(t *testing.T, lab *revocationLab, leaf *certtest.Cert, log func() string) {
	t.Helper()
	req, err := ocsp.CreateRequest(leaf.Cert, lab.ca.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Post(lab.ocspURL, "application/ocsp-request", bytes.NewReader(req))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("the OCSP responder does not answer on %s\n%s", lab.ocspURL, log())
}

// hexSerial is a serial as OpenSSL's index spells it: upper case hex of
// whole bytes.
func hexSerial(n *big.Int) string {
	s := fmt.Sprintf("%X", n)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// crlServer serves a CRL of the lab's CA listing lab.crlRevoked, made
// at each request: the leaves naming its URL are made after it starts.
func crlServer(t *testing.T, lab *revocationLab) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var entries []x509.RevocationListEntry
		if l := lab.crlRevoked.Load(); l != nil {
			for _, c := range *l {
				entries = append(entries, x509.RevocationListEntry{SerialNumber: c.Cert.SerialNumber, RevocationTime: lab.revokedAt, ReasonCode: ocsp.Superseded})
			}
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: time.Now().Add(-time.Hour),
			NextUpdate: time.Now().Add(certtest.Days(7)), RevokedCertificateEntries: entries}, lab.ca.Cert, lab.ca.Key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(der)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/ca.crl"
}

// serveTLSConfig serves the handshake with cfg on loopback.
func serveTLSConfig(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	return certtest.ServeTLSConfig(t, "127.0.0.1:0", cfg)
}

// TestRevocation: revoked leaves are CRITICAL naming how it was found,
// good ones OK, and a responder that cannot answer is its own state.
func TestRevocation(t *testing.T) {
	lab := &revocationLab{dir: t.TempDir(), revokedAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
	now := time.Now()
	lab.ca = certtest.New(t, certtest.Spec{CN: "Rev CA", CA: true, NotBefore: now.Add(-certtest.Days(30)), NotAfter: now.Add(certtest.Days(3650))})
	lab.caFile = write(t, filepath.Join(lab.dir, "ca.pem"), lab.ca.PEM())
	lab.ocspURL = "http://127.0.0.1:" + freePort(t)
	dead := "http://" + closedPort(t)
	leaf := func(cn string, ocspURLs, crlURLs []string) *certtest.Cert {
		return certtest.New(t, certtest.Spec{CN: cn, DNS: []string{cn}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Parent: lab.ca,
			NotAfter: now.Add(certtest.Days(60.5)), OCSP: ocspURLs, CRL: crlURLs})
	}
	good := leaf("good.test", []string{lab.ocspURL}, nil)
	revoked := leaf("revoked.test", []string{lab.ocspURL}, nil)
	startOCSP(t, lab, []*certtest.Cert{good}, []*certtest.Cert{revoked})
	lab.crlURL = crlServer(t, lab)
	crlGood := leaf("crl-good.test", nil, []string{lab.crlURL})
	crlBad := leaf("crl-revoked.test", nil, []string{lab.crlURL})
	lab.crlRevoked.Store(&[]*certtest.Cert{crlBad})
	unreachable := leaf("dead.test", []string{dead + "/ocsp"}, nil)
	silent := "http://" + listen(t, func(c net.Conn) { time.Sleep(10 * time.Second) })
	hanging := leaf("hang.test", []string{silent + "/ocsp"}, nil)
	srvHang := certtest.ServeTLS(t, hanging.TLS(lab.ca))
	stapledRevoked := leaf("stapled.test", []string{dead + "/never-asked"}, nil)
	staple, err := ocsp.CreateResponse(lab.ca.Cert, lab.ca.Cert, ocsp.Response{Status: ocsp.Revoked, SerialNumber: stapledRevoked.Cert.SerialNumber,
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedAt: lab.revokedAt, RevocationReason: ocsp.CessationOfOperation}, lab.ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	stapled := stapledRevoked.TLS(lab.ca)
	stapled.OCSPStaple = staple

	srvGood := certtest.ServeTLS(t, good.TLS(lab.ca))
	srvRevoked := certtest.ServeTLS(t, revoked.TLS(lab.ca))
	srvCRLGood := certtest.ServeTLS(t, crlGood.TLS(lab.ca))
	srvCRLRevoked := certtest.ServeTLS(t, crlBad.TLS(lab.ca))
	srvDead := certtest.ServeTLS(t, unreachable.TLS(lab.ca))
	srvStapled := certtest.ServeTLS(t, stapled)
	ca := []string{"--ca-file", lab.caFile}
	revokedFile := write(t, filepath.Join(lab.dir, "revoked.pem"), certtest.Bundle(revoked, lab.ca))

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"OCSP good", []string{"-H", srvGood}, 0, []string{"[OK] " + srvGood + "#0 (good.test): expires in 60 days (", "; not revoked (OCSP responder " + lab.ocspURL + ")"}},
		{"OCSP revoked", []string{"-H", srvRevoked}, 2, []string{"CERT CRITICAL - " + srvRevoked + "#0 (revoked.test): REVOKED 2026-03-04 05:06 UTC (keyCompromise), says the OCSP responder " + lab.ocspURL}},
		{"stapled, responder never asked", []string{"-H", srvStapled}, 2, []string{"REVOKED 2026-03-04 05:06 UTC (cessationOfOperation), says the stapled OCSP response"}},
		{"CRL good", []string{"-H", srvCRLGood}, 0, []string{"not revoked (CRL " + lab.crlURL + ")"}},
		{"CRL revoked", []string{"-H", srvCRLRevoked}, 2, []string{"REVOKED 2026-03-04 05:06 UTC (superseded), says the CRL " + lab.crlURL}},
		{"responder unreachable: WARNING", []string{"-H", srvDead}, 1, []string{"revocation not checked: OCSP responder " + dead + "/ocsp: connection refused"}},
		{"responder never answers: WARNING within the budget", []string{"-H", srvHang}, 1, []string{"revocation not checked: OCSP responder " + silent + "/ocsp: no answer in time", "expires in 60 days"}},
		{"responder unreachable: chosen state", []string{"-H", srvDead, "--revocation-error-state", "critical"}, 2, nil},
		{"responder unreachable: check_ssl_cert's --ignore-ocsp-errors", []string{"-H", srvDead, "--ignore-ocsp-errors"}, 0, []string{"revocation not checked"}},
		{"--no-revocation", []string{"-H", srvRevoked, "--no-revocation"}, 0, nil},
		{"files are not checked unless asked", []string{"-f", revokedFile}, 0, nil},
		{"files with --check-revocation", []string{"-f", revokedFile, "--check-revocation"}, 2, []string{revokedFile + "#0 (revoked.test): REVOKED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string(nil), tt.args...), ca...)
			code, out := run(t, args...)
			expect(t, tt.name, code, out, tt.code, tt.want...)
			if tt.name == "--no-revocation" && contains(out, "REVOKED") {
				t.Errorf("--no-revocation still checked:\n%s", out)
			}
		})
	}

	// The binary, for -v (the runtime sets the verbosity): the
	// negotiated version and cipher, the staple.
	bin := testutil.Binary(t, "check_cert_expiry")
	r := testutil.Run(t, bin, "-H", srvStapled, "--ca-file", lab.caFile, "-v")
	expect(t, "-v", r.Code, r.Stdout, 2, srvStapled+": TLS 1.3, TLS_AES_128_GCM_SHA256, OCSP response stapled")
}
