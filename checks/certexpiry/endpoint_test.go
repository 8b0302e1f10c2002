package certexpiry

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// pki is a small private PKI for endpoint tests.
type pki struct {
	root, inter *certtest.Cert
	rootFile    string
}

func newPKI(t *testing.T) *pki {
	now := time.Now()
	root := certtest.New(t, certtest.Spec{CN: "Test Root", CA: true, NotBefore: now.Add(-certtest.Days(365)), NotAfter: now.Add(certtest.Days(3650))})
	inter := certtest.New(t, certtest.Spec{CN: "Test Intermediate", CA: true, Parent: root, NotBefore: now.Add(-certtest.Days(365)), NotAfter: now.Add(certtest.Days(1000))})
	return &pki{root: root, inter: inter, rootFile: write(t, filepath.Join(t.TempDir(), "root.pem"), root.PEM())}
}

// leaf makes a certificate for svc.test and 127.0.0.1 with left days of
// a life-day lifetime.
func (p *pki) leaf(t *testing.T, left, life float64, mod ...func(*certtest.Spec)) *certtest.Cert {
	now := time.Now()
	s := certtest.Spec{CN: "svc.test", DNS: []string{"svc.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")},
		Parent: p.inter, NotBefore: now.Add(certtest.Days(left - life)), NotAfter: now.Add(certtest.Days(left))}
	for _, m := range mod {
		m(&s)
	}
	return certtest.New(t, s)
}

func TestEndpoints(t *testing.T) {
	p := newPKI(t)
	good := certtest.ServeTLS(t, p.leaf(t, 60.5, 90).TLS(p.inter))
	expired := certtest.ServeTLS(t, p.leaf(t, -3.5, 90).TLS(p.inter))
	noChain := certtest.ServeTLS(t, p.leaf(t, 60.5, 90).TLS())
	wrongHost := certtest.ServeTLS(t, p.leaf(t, 60.5, 90, func(s *certtest.Spec) { s.DNS, s.IPs, s.CN = []string{"other.test"}, nil, "other.test" }).TLS(p.inter))
	self := certtest.ServeTLS(t, certtest.New(t, certtest.Spec{CN: "svc.test", DNS: []string{"svc.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}).TLS())
	weak := certtest.ServeTLS(t, p.leaf(t, 60.5, 90, func(s *certtest.Spec) { s.RSABits = 1024 }).TLS(p.inter))
	soon := certtest.ServeTLS(t, p.leaf(t, 10.5, 90).TLS(p.inter))
	_, goodPort, _ := net.SplitHostPort(good)

	ca := []string{"--ca-file", p.rootFile}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"good, every chain element", append([]string{"-H", good}, ca...), 0,
			[]string{"CERT OK - 2 certificates OK, first to expire: " + good + "#0 (svc.test) in 60 days", "[OK] " + good + "#1 (Test Intermediate): expires in 999 days", good + "#0=60.49;28:;14: " + good + "#1="}},
		{"name via --resolve, SNI and hostname from -H", append([]string{"-H", "svc.test", "-p", goodPort, "--resolve", "127.0.0.1"}, ca...), 0, []string{"svc.test:" + goodPort + "#0 (svc.test)"}},
		{"host:port argument", append([]string{good}, ca...), 0, nil},
		{"system roots do not know the test root", []string{"-H", good}, 2, []string{`chain does not verify: issuer "Test Root" of "Test Intermediate" is not trusted and not in the presented chain`}},
		{"expired", append([]string{"-H", expired}, ca...), 2, []string{"CERT CRITICAL - " + expired + "#0 (svc.test): expired 3.5 days ago"}},
		{"expired is judged even with --insecure", []string{"-H", expired, "--insecure"}, 2, []string{"expired 3.5 days ago"}},
		{"10 days left", append([]string{"-H", soon}, ca...), 2, []string{"expires in 10 days"}},
		{"missing intermediate", append([]string{"-H", noChain}, ca...), 2, []string{`issuer "Test Intermediate" is not trusted and not in the presented chain`}},
		{"chain state downgraded", append([]string{"-H", noChain, "--chain-state", "warning"}, ca...), 1, nil},
		{"wrong host", append([]string{"-H", wrongHost}, ca...), 2, []string{"hostname 127.0.0.1 does not match the certificate (valid for other.test)"}},
		{"wrong host ignored", append([]string{"-H", wrongHost, "--ignore-hostname"}, ca...), 0, nil},
		{"wrong host downgraded", append([]string{"-H", wrongHost, "--hostname-state", "WARNING"}, ca...), 1, nil},
		{"self-signed", append([]string{"-H", self}, ca...), 2, []string{"self-signed certificate where a CA-signed one is expected"}},
		{"RSA 1024", append([]string{"-H", weak}, ca...), 2, []string{"RSA key of 1024 bits"}},
		{"--ca on a served leaf", []string{"-H", good, "--insecure", "--ca", p.rootFile}, 0, nil},
		{"several endpoints at once", append([]string{"-H", good, "-H", expired, soon}, ca...), 2,
			[]string{"2 critical of 6 checked", "[CRITICAL] " + expired + "#0", "[CRITICAL] " + soon + "#0", "[OK] " + good + "#0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run(t, tt.args...)
			expect(t, tt.name, code, out, tt.code, tt.want...)
		})
	}
}

// TestUnreachable: every way an endpoint can fail is CRITICAL with one
// line naming it, within the deadline, and never hides the other sources.
func TestUnreachable(t *testing.T) {
	refused := closedPort(t)
	silent := listen(t, func(c net.Conn) { time.Sleep(10 * time.Second) })
	notTLS := listen(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")); time.Sleep(time.Second) })
	closes := listen(t, func(c net.Conn) {})
	good := certtest.ServeTLS(t, certtest.New(t, certtest.Spec{CN: "ok", NotAfter: time.Now().Add(certtest.Days(100))}).TLS())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"refused", []string{"-H", refused}, refused + ": connection refused"},
		{"never answers the handshake", []string{"-H", silent}, silent + ": TLS handshake: no answer within"},
		{"not TLS", []string{"-H", notTLS}, notTLS + `: not a TLS service: the server answered "SSH-2" instead of a TLS handshake (a STARTTLS protocol? see -P)`},
		{"closes at once", []string{"-H", closes}, closes + ": TLS handshake: the server closed the connection"},
		{"does not resolve", []string{"-H", "no-such-host.invalid"}, "no-such-host.invalid:443: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out := run(t, append(tt.args, "-H", good, "--insecure")...)
			expect(t, tt.name, code, out, 2, tt.want, "[OK] "+good)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("%s took %s, past the 5s deadline", tt.name, el)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// listen serves each connection with f on 127.0.0.1.
func listen(t *testing.T, f func(net.Conn)) string {
	return listenOn(t, "127.0.0.1:0", f)
}

func listenOn(t *testing.T, addr string, f func(net.Conn)) string {
	t.Helper()
	return testutil.Serve(t, addr, f)
}

// TestPostmortem000 replays the gluster outage: renewal hung, the served
// certificate is 70 days into its 90-day life. Days-left thresholds of
// 14/7 stay silent; --renewal-at catches it a month early. Then the same
// with a renewed file on disk the server never loaded.
func TestPostmortem000(t *testing.T) {
	p := newPKI(t)
	served := p.leaf(t, 20, 90)
	addr := certtest.ServeTLS(t, served.TLS(p.inter))
	args := []string{"-H", addr, "--ca-file", p.rootFile, "-w", "14", "-c", "7"}

	code, out := run(t, args...)
	expect(t, "thresholds only: what monitoring saw", code, out, 0)
	code, out = run(t, append(args, "--renewal-at", "0.67")...)
	expect(t, "renewal overdue", code, out, 1, "CERT WARNING - "+addr+"#0 (svc.test): renewal overdue: 77% of its 90-day lifetime used (renewal due at 67%), expires in 19 days")

	dir := t.TempDir()
	renewed := write(t, filepath.Join(dir, "cert.pem"), p.leaf(t, 89, 90).PEM())
	code, out = run(t, append(args, "--compare-file", renewed)...)
	expect(t, "renewed but not reloaded", code, out, 1, "CERT WARNING - "+addr+"#0 (svc.test): renewed but not reloaded: "+renewed+" holds a certificate issued")
	same := write(t, filepath.Join(dir, "same.pem"), served.PEM())
	code, out = run(t, append(args, "--compare-file", same)...)
	expect(t, "same as on disk", code, out, 0, "same as "+same)
	older := write(t, filepath.Join(dir, "old.pem"), p.leaf(t, 10, 90).PEM())
	code, out = run(t, append(args, "--compare-file", older)...)
	expect(t, "server pointed elsewhere", code, out, 1, "not the certificate in "+older)

	// Renewed on disk, and the served one is now inside the critical
	// threshold: the reload is urgent.
	late := certtest.ServeTLS(t, p.leaf(t, 5.5, 90).TLS(p.inter))
	code, out = run(t, "-H", late, "--ca-file", p.rootFile, "--compare-file", renewed)
	expect(t, "not reloaded, critical", code, out, 2, "renewed but not reloaded")
}

// TestWorstLeadsSeveralSources: with a file and an endpoint serving the
// same certificate, the served one renewed on disk but not reloaded, the
// first line names "renewed but not reloaded" as with the endpoint alone,
// whatever the order of the options and the output budget.
func TestWorstLeadsSeveralSources(t *testing.T) {
	p := newPKI(t)
	served := p.leaf(t, 20, 90)
	addr := certtest.ServeTLS(t, served.TLS(p.inter))
	dir := t.TempDir()
	renewed := write(t, filepath.Join(dir, "renewed.crt"), p.leaf(t, 89, 90).PEM())
	srv := write(t, filepath.Join(dir, "srv.crt"), append(served.PEM(), p.inter.PEM()...))
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"-f first", []string{"-f", srv, "--compare-file", renewed, "-H", addr}},
		{"-H first", []string{"-H", addr, "--compare-file", renewed, "-f", srv}},
		{"-f first, 300 bytes", []string{"-f", srv, "--compare-file", renewed, "-H", addr, "--max-output", "300"}},
	} {
		var out strings.Builder
		args := append([]string{"--ca-file", p.rootFile, "--no-revocation"}, tt.args...)
		code := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
		first, _, _ := strings.Cut(out.String(), "\n")
		if code != 1 || !strings.HasPrefix(first, "CERT WARNING - 2 warning of 4 checked: "+addr+"#0 (svc.test): renewed but not reloaded: ") {
			t.Errorf("%s: exit %d\n%s", tt.name, code, out.String())
		}
		// The long output agrees: the same certificate first.
		if _, rest, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(rest, "[WARNING] "+addr+"#0 (svc.test): renewed but not reloaded") && !strings.HasPrefix(rest, "(") {
			t.Errorf("%s: long output not led by the endpoint\n%s", tt.name, out.String())
		}
	}
}
