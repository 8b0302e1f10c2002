package certexpiry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
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
}

// startOCSP writes an OpenSSL index (good: V, revoked: R with a
// reason) and starts `openssl ocsp` on a free loopback port.
func startOCSP(t *testing.T, lab *revocationLab, good, revoked []*certtest.Cert) {
	port := lab.ocspURL[strings.LastIndex(lab.ocspURL, ":")+1:]
	runOCSP(t, lab.dir, lab.ca, port, lab.revokedAt, good, revoked)
}

// runOCSP starts `openssl ocsp` on 127.0.0.1:port answering for the
// certificates ca signed: good ones V, revoked ones R (keyCompromise) in
// its index, written in a directory of dir.
func runOCSP(t *testing.T, dir string, ca *certtest.Cert, port string, revokedAt time.Time, good, revoked []*certtest.Cert) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (apt-get install openssl)")
	}
	dir, err = os.MkdirTemp(dir, "ocsp")
	if err != nil {
		t.Fatal(err)
	}
	var idx strings.Builder
	exp := time.Now().Add(certtest.Days(365)).UTC().Format("060102150405Z")
	for _, c := range good {
		fmt.Fprintf(&idx, "V\t%s\t\t%s\tunknown\t/CN=%s\n", exp, hexSerial(c.Cert.SerialNumber), c.Cert.Subject.CommonName)
	}
	for _, c := range revoked {
		fmt.Fprintf(&idx, "R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s\n", exp, revokedAt.UTC().Format("060102150405Z"), hexSerial(c.Cert.SerialNumber), c.Cert.Subject.CommonName)
	}
	index := write(t, filepath.Join(dir, "index.txt"), []byte(idx.String()))
	caFile := write(t, filepath.Join(dir, "ca.pem"), ca.PEM())
	key := write(t, filepath.Join(dir, "ca.key"), ca.KeyPEM())
	cmd := exec.Command(openssl, "ocsp", "-index", index, "-port", port, "-rsigner", caFile, "-rkey", key,
		"-CA", caFile, "-nmin", "10", "-ignore_err")
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
	waitOCSP(t, "http://127.0.0.1:"+port, ca, append(good, revoked...)[0], log.String)
}

// waitOCSP waits until the responder answers a real request. A bare
// connect would not do: OpenSSL 3.0's responder serves one connection
// at a time and wedges on one closed without a request.
func waitOCSP(t *testing.T, url string, ca, leaf *certtest.Cert, log func() string) {
	t.Helper()
	req, err := ocsp.CreateRequest(leaf.Cert, ca.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(req))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("the OCSP responder does not answer on %s\n%s", url, log())
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

// crlServer serves a CRL of signer listing its revoked certificates
// with reason, made at each request (the certificates naming its URL
// are made after it starts), and counts the requests.
type crlServer struct {
	url     string
	hits    atomic.Int64
	revoked atomic.Pointer[[]*certtest.Cert]
}

func newCRLServer(t *testing.T, signer *certtest.Cert, revokedAt time.Time, reason int) *crlServer {
	cs := &crlServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		var entries []x509.RevocationListEntry
		if l := cs.revoked.Load(); l != nil {
			for _, c := range *l {
				entries = append(entries, x509.RevocationListEntry{SerialNumber: c.Cert.SerialNumber, RevocationTime: revokedAt, ReasonCode: reason})
			}
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: time.Now().Add(-time.Hour),
			NextUpdate: time.Now().Add(certtest.Days(7)), RevokedCertificateEntries: entries}, signer.Cert, signer.Key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(der)
	}))
	t.Cleanup(srv.Close)
	cs.url = srv.URL + "/ca.crl"
	return cs
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
	crl := newCRLServer(t, lab.ca, lab.revokedAt, ocsp.Superseded)
	lab.crlURL = crl.url
	crlGood := leaf("crl-good.test", nil, []string{lab.crlURL})
	crlBad := leaf("crl-revoked.test", nil, []string{lab.crlURL})
	crl.revoked.Store(&[]*certtest.Cert{crlBad})
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

// ocspFront is the URL certificates name for an `openssl ocsp`
// responder: a loopback proxy in front of it that counts the requests
// it passes on.
type ocspFront struct {
	url, port string // the front's URL, the responder's port
	hits      atomic.Int64
}

func newOCSPFront(t *testing.T) *ocspFront {
	f := &ocspFront{port: freePort(t)}
	back := &url.URL{Scheme: "http", Host: "127.0.0.1:" + f.port}
	proxy := httputil.NewSingleHostReverseProxy(back)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/ocsp"
	return f
}

// chainLab is a root and intermediates, each intermediate asked about
// at the root's OCSP responder or CRL, each leaf at its intermediate's;
// the responders are `openssl ocsp` and small CRL servers on loopback.
type chainLab struct {
	root, leafGood, leafRev *certtest.Cert
	rootFile, dead          string
	revokedAt               time.Time
	rootOCSP, interOCSP     *ocspFront // interOCSP answers for Chain CA 1's leaves
	rootCRL                 *crlServer
	inter                   []*certtest.Cert // Chain CA 1 to 5 at 1 to 5
	leaf                    []*certtest.Cert // leaf.N.test under Chain CA N, 2 to 5
	crls                    []*crlServer     // Chain CA N's CRL, 2 to 5
}

// newChainLab makes
//
//	Chain Root (self-signed; names a dead responder, never asked)
//	├ Chain CA 1  good per the root's OCSP responder
//	│  ├ good.test     good per CA 1's OCSP responder
//	│  └ revoked.test  revoked per CA 1's OCSP responder
//	├ Chain CA 2  revoked per the root's OCSP responder
//	├ Chain CA 3  revoked per the root's CRL
//	├ Chain CA 4  its OCSP responder unreachable
//	└ Chain CA 5  good per the root's CRL
//
// and a leaf "leaf.N.test" under CA N (2 to 5), good per CA N's CRL.
// Every leaf is for pool.test and 127.0.0.1.
func newChainLab(t *testing.T) *chainLab {
	now := time.Now()
	l := &chainLab{revokedAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC), dead: "http://" + closedPort(t)}
	dir := t.TempDir()
	l.root = certtest.New(t, certtest.Spec{CN: "Chain Root", CA: true, NotBefore: now.Add(-certtest.Days(30)), NotAfter: now.Add(certtest.Days(3650)), OCSP: []string{l.dead + "/root"}})
	l.rootFile = write(t, filepath.Join(dir, "root.pem"), l.root.PEM())
	l.rootOCSP, l.interOCSP = newOCSPFront(t), newOCSPFront(t)
	l.rootCRL = newCRLServer(t, l.root, l.revokedAt, ocsp.KeyCompromise)
	interAsk := map[int][2]string{1: {l.rootOCSP.url}, 2: {l.rootOCSP.url}, 3: {"", l.rootCRL.url}, 4: {l.dead + "/ocsp"}, 5: {"", l.rootCRL.url}}
	l.inter = make([]*certtest.Cert, 6)
	l.leaf = make([]*certtest.Cert, 6)
	l.crls = make([]*crlServer, 6)
	for n := 1; n <= 5; n++ {
		o, c := urls(interAsk[n])
		l.inter[n] = certtest.New(t, certtest.Spec{CN: fmt.Sprintf("Chain CA %d", n), CA: true, Parent: l.root,
			NotBefore: now.Add(-certtest.Days(30)), NotAfter: now.Add(certtest.Days(1000)), OCSP: o, CRL: c})
	}
	leaf := func(cn string, parent *certtest.Cert, ask [2]string) *certtest.Cert {
		o, c := urls(ask)
		return certtest.New(t, certtest.Spec{CN: cn, DNS: []string{cn, "pool.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Parent: parent,
			NotAfter: now.Add(certtest.Days(60.5)), OCSP: o, CRL: c})
	}
	l.leafGood = leaf("good.test", l.inter[1], [2]string{l.interOCSP.url})
	l.leafRev = leaf("revoked.test", l.inter[1], [2]string{l.interOCSP.url})
	for n := 2; n <= 5; n++ {
		l.crls[n] = newCRLServer(t, l.inter[n], l.revokedAt, ocsp.KeyCompromise)
		l.leaf[n] = leaf(fmt.Sprintf("leaf.%d.test", n), l.inter[n], [2]string{"", l.crls[n].url})
	}
	l.rootCRL.revoked.Store(&[]*certtest.Cert{l.inter[3]})
	runOCSP(t, dir, l.root, l.rootOCSP.port, l.revokedAt, []*certtest.Cert{l.inter[1], l.inter[5]}, []*certtest.Cert{l.inter[2]})
	runOCSP(t, dir, l.inter[1], l.interOCSP.port, l.revokedAt, []*certtest.Cert{l.leafGood}, []*certtest.Cert{l.leafRev})
	return l
}

// urls is the OCSP and CRL URLs of a certificate: ask[0] and ask[1]
// when not empty.
func urls(ask [2]string) (o, c []string) {
	if ask[0] != "" {
		o = []string{ask[0]}
	}
	if ask[1] != "" {
		c = []string{ask[1]}
	}
	return o, c
}

// resetHits zeroes every responder's count.
func (l *chainLab) resetHits() {
	l.rootOCSP.hits.Store(0)
	l.interOCSP.hits.Store(0)
	l.rootCRL.hits.Store(0)
	for _, c := range l.crls[2:] {
		c.hits.Store(0)
	}
}

// hits is every responder's count.
func (l *chainLab) hits() int64 {
	n := l.rootOCSP.hits.Load() + l.interOCSP.hits.Load() + l.rootCRL.hits.Load()
	for _, c := range l.crls[2:] {
		n += c.hits.Load()
	}
	return n
}

// TestRevocationChain: every certificate of the served chain but the
// root is asked about against its issuer; a revoked intermediate is
// CRITICAL naming it and how it was found, whatever its leaf's answer.
func TestRevocationChain(t *testing.T) {
	l := newChainLab(t)
	serve := func(leaf *certtest.Cert, chain ...*certtest.Cert) string {
		return certtest.ServeTLS(t, leaf.TLS(chain...))
	}
	allGood := serve(l.leafGood, l.inter[1], l.root) // the root presented: never asked
	leafRevoked := serve(l.leafRev, l.inter[1])
	interOCSPRevoked := serve(l.leaf[2], l.inter[2])
	interCRLRevoked := serve(l.leaf[3], l.inter[3])
	interDead := serve(l.leaf[4], l.inter[4])
	allGoodCRL := serve(l.leaf[5], l.inter[5])
	bundle := write(t, filepath.Join(t.TempDir(), "bundle.pem"), certtest.Bundle(l.leaf[3], l.inter[3]))
	silent := "http://" + listen(t, func(c net.Conn) { time.Sleep(10 * time.Second) }) + "/ocsp"
	interHang := certtest.New(t, certtest.Spec{CN: "Chain CA 6", CA: true, Parent: l.root, OCSP: []string{silent}})
	hangCRL := newCRLServer(t, interHang, l.revokedAt, ocsp.KeyCompromise)
	leafHang := certtest.New(t, certtest.Spec{CN: "leaf.6.test", IPs: []net.IP{net.ParseIP("127.0.0.1")}, Parent: interHang, CRL: []string{hangCRL.url}})
	interSilent := serve(leafHang, interHang)
	when := "on 2026-03-04 05:06 UTC"
	root := func(args ...string) []string { return append(args, "--ca-file", l.rootFile) }
	plain := func(args ...string) []string { return args }

	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string
		absent []string
	}{
		{"OCSP: all good, the root never asked", root("-H", allGood), 0, []string{
			"#0 (good.test): expires in 60 days", "; not revoked (OCSP responder " + l.interOCSP.url + ")",
			"#1 (Chain CA 1): expires in", "; not revoked (OCSP responder " + l.rootOCSP.url + ")"}, []string{"revocation not checked", "/root"}},
		{"CRL: all good", root("-H", allGoodCRL), 0, []string{
			"#0 (leaf.5.test): expires in 60 days", "; not revoked (CRL " + l.crls[5].url + ")",
			"#1 (Chain CA 5): expires in", "; not revoked (CRL " + l.rootCRL.url + ")"}, nil},
		{"only the leaf revoked", root("-H", leafRevoked), 2, []string{
			"CERT CRITICAL - " + leafRevoked + "#0 (revoked.test): REVOKED 2026-03-04 05:06 UTC (keyCompromise), says the OCSP responder " + l.interOCSP.url,
			"[OK] " + leafRevoked + "#1 (Chain CA 1): expires in", "not revoked (OCSP responder " + l.rootOCSP.url + ")"}, []string{"intermediate '"}},
		{"OCSP: intermediate revoked", root("-H", interOCSPRevoked), 2, []string{
			"CERT CRITICAL - " + interOCSPRevoked + "#1 (Chain CA 2): intermediate 'CN=Chain CA 2' revoked (keyCompromise) per OCSP responder " + l.rootOCSP.url + ", " + when,
			"[OK] " + interOCSPRevoked + "#0 (leaf.2.test): expires in 60 days", "not revoked (CRL " + l.crls[2].url + ")"}, nil},
		{"CRL: intermediate revoked", root("-H", interCRLRevoked), 2, []string{
			"CERT CRITICAL - " + interCRLRevoked + "#1 (Chain CA 3): intermediate 'CN=Chain CA 3' revoked (keyCompromise) per CRL " + l.rootCRL.url + ", " + when}, nil},
		{"intermediate's responder unreachable: WARNING", root("-H", interDead), 1, []string{
			"[WARNING] " + interDead + "#1 (Chain CA 4): revocation not checked: OCSP responder " + l.dead + "/ocsp: connection refused",
			"[OK] " + interDead + "#0 (leaf.4.test)"}, nil},
		{"intermediate's responder never answers: WARNING within the budget, the leaf's answer kept", root("-H", interSilent), 1, []string{
			"[WARNING] " + interSilent + "#1 (Chain CA 6): revocation not checked: OCSP responder " + silent + ": no answer in time",
			"[OK] " + interSilent + "#0 (leaf.6.test): expires in", "not revoked (CRL " + hangCRL.url + ")"}, nil},
		{"intermediate's responder unreachable: chosen state", root("-H", interDead, "--revocation-error-state", "critical"), 2, []string{
			"[CRITICAL] " + interDead + "#1 (Chain CA 4): revocation not checked"}, nil},
		{"intermediate's responder unreachable: --ignore-ocsp-errors", root("-H", interDead, "--ignore-ocsp-errors"), 0, nil, nil},
		{"--no-revocation: nothing asked", root("-H", interCRLRevoked, "--no-revocation"), 0, nil, []string{"revoked", "not revoked"}},
		{"bundle: not checked unless asked", root("-f", bundle), 0, nil, []string{"revoked"}},
		{"bundle with --check-revocation: its intermediate too", root("-f", bundle, "--check-revocation"), 2, []string{
			bundle + "#1 (Chain CA 3): intermediate 'CN=Chain CA 3' revoked (keyCompromise) per CRL " + l.rootCRL.url,
			bundle + "#0 (leaf.3.test): expires in 60 days", "not revoked (CRL " + l.crls[3].url + ")"}, nil},
		{"bundle without its root: only the leaf", plain("-f", bundle, "--check-revocation"), 0, []string{
			bundle + "#0 (leaf.3.test): expires in 60 days", "not revoked (CRL " + l.crls[3].url + ")"}, []string{"intermediate '", "revocation not checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run(t, tt.args...)
			expect(t, tt.name, code, out, tt.code, tt.want...)
			for _, a := range tt.absent {
				if contains(out, a) {
					t.Errorf("output holds %q\n%s", a, out)
				}
			}
		})
	}

	t.Run("nothing fetched when not asked", func(t *testing.T) {
		for _, args := range [][]string{root("-H", interCRLRevoked, "--no-revocation"), root("-f", bundle)} {
			l.resetHits()
			run(t, args...)
			if n := l.hits(); n != 0 {
				t.Errorf("%s: %d requests to the responders, want none", joinArgs(args), n)
			}
		}
	})

	t.Run("-v: each certificate's answer", func(t *testing.T) {
		res := gatherVerbose(t, nil, 1, "-H", interOCSPRevoked, "--ca-file", l.rootFile)
		out := plugin.Render(Plugin.Service, res, 1<<20)
		expect(t, "-v", int(res.State()), out, 2,
			interOCSPRevoked+" (leaf.2.test): revocation: not revoked (CRL "+l.crls[2].url+")",
			interOCSPRevoked+" (Chain CA 2): revocation: intermediate 'CN=Chain CA 2' revoked")
		res = gatherVerbose(t, nil, 1, "-H", allGood, "--ca-file", l.rootFile)
		out = plugin.Render(Plugin.Service, res, 1<<20)
		expect(t, "-v", int(res.State()), out, 0,
			allGood+" (good.test): revocation: not revoked (OCSP responder "+l.interOCSP.url+")",
			allGood+" (Chain CA 1): revocation: not revoked (OCSP responder "+l.rootOCSP.url+")",
			allGood+" (Chain Root): revocation not checked: self-signed")
	})
}

// TestRevocationAskedOnce: two endpoints, each on two addresses
// (--all-addresses), one with an OCSP chain and one with a CRL chain,
// plus a third sharing the OCSP chain's intermediate: each certificate
// is asked about once in the run, each CRL fetched once.
func TestRevocationAskedOnce(t *testing.T) {
	l := newChainLab(t)
	ocspAddr := certtest.ServeTLS(t, l.leafGood.TLS(l.inter[1]))
	_, ocspPort, _ := net.SplitHostPort(ocspAddr)
	certtest.ServeTLSOn(t, "127.0.0.2:"+ocspPort, l.leafGood.TLS(l.inter[1]))
	crlAddr := certtest.ServeTLS(t, l.leaf[3].TLS(l.inter[3]))
	_, crlPort, _ := net.SplitHostPort(crlAddr)
	certtest.ServeTLSOn(t, "127.0.0.2:"+crlPort, l.leaf[3].TLS(l.inter[3]))
	sibling := certtest.ServeTLS(t, l.leafRev.TLS(l.inter[1]))
	_, sibPort, _ := net.SplitHostPort(sibling)
	certtest.ServeTLSOn(t, "127.0.0.2:"+sibPort, l.leafRev.TLS(l.inter[1]))
	lookup := func(context.Context, *net.Resolver, string, string) ([]string, error) {
		return []string{"127.0.0.1", "127.0.0.2"}, nil
	}
	l.resetHits()
	res := gatherVerbose(t, lookup, 0, "-H", "pool.test:"+ocspPort, "-H", "pool.test:"+crlPort, "-H", "pool.test:"+sibPort,
		"--all-addresses", "-4", "--ca-file", l.rootFile)
	out := plugin.Render(Plugin.Service, res, 1<<20)
	for _, w := range []string{
		"pool.test:" + ocspPort + " via 127.0.0.1#1 (Chain CA 1): expires in", "pool.test:" + ocspPort + " via 127.0.0.2#1 (Chain CA 1): expires in",
		"pool.test:" + crlPort + " via 127.0.0.1#1 (Chain CA 3): intermediate 'CN=Chain CA 3' revoked",
		"pool.test:" + crlPort + " via 127.0.0.2#1 (Chain CA 3): intermediate 'CN=Chain CA 3' revoked",
		"pool.test:" + sibPort + " via 127.0.0.2#0 (revoked.test): REVOKED",
	} {
		if !contains(out, w) {
			t.Errorf("output lacks %q\n%s", w, out)
		}
	}
	for _, c := range []struct {
		name string
		n    int64
		want int64
	}{
		{"the root's OCSP responder (Chain CA 1)", l.rootOCSP.hits.Load(), 1},
		{"Chain CA 1's OCSP responder (good.test, revoked.test)", l.interOCSP.hits.Load(), 2},
		{"the root's CRL", l.rootCRL.hits.Load(), 1},
		{"Chain CA 3's CRL", l.crls[3].hits.Load(), 1},
	} {
		if c.n != c.want {
			t.Errorf("%s asked %d times, want %d\n%s", c.name, c.n, c.want, out)
		}
	}
}

// gatherVerbose is gatherArgs at -v's count verbose.
func gatherVerbose(t *testing.T, lookup lookupFunc, verbose int, args ...string) plugin.Result {
	t.Helper()
	o, msg := parse(t, args...)
	if o == nil {
		t.Fatal(msg)
	}
	env := plugin.NewEnv(5 * time.Second)
	env.Verbose = verbose
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline)
	defer cancel()
	obs, err := gatherWith(ctx, env, o, lookup)
	if err != nil {
		t.Fatal(err)
	}
	return judge(o, obs)
}

// TestSelfSigned: only a certificate signed by its own key under its
// own name is a root never asked about.
func TestSelfSigned(t *testing.T) {
	root := certtest.New(t, certtest.Spec{CN: "Root", CA: true})
	sameName := certtest.New(t, certtest.Spec{CN: "Root", CA: true, Parent: root}) // issuer == subject, another key
	tests := []struct {
		name string
		cert *certtest.Cert
		want bool
	}{
		{"root", root, true},
		{"root signed with SHA-1", certtest.New(t, certtest.Spec{CN: "Old Root", CA: true, RSABits: 2048, SHA1: true}), true},
		{"self-signed leaf without the CA flag", certtest.New(t, certtest.Spec{CN: "self.test"}), true},
		{"intermediate", certtest.New(t, certtest.Spec{CN: "Inter", CA: true, Parent: root}), false},
		{"same name as its issuer, not its key", sameName, false},
	}
	for _, tt := range tests {
		if got := selfSigned(tt.cert.Cert); got != tt.want {
			t.Errorf("%s: selfSigned = %v, want %v", tt.name, got, tt.want)
		}
	}
}
