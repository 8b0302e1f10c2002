package certexpiry

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// TestJudge judges observations made by hand: no files, no servers, no
// clock but the one in the observations.
func TestJudge(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cert := func(name string, left, life float64, mod ...func(*certFacts)) certFacts {
		f := certFacts{Name: name, NotAfter: now.Add(time.Duration(left * float64(day))), NotBefore: now.Add(time.Duration((left - life) * float64(day)))}
		for _, m := range mod {
			m(&f)
		}
		return f
	}
	file := func(name string, cs ...certFacts) *source { return &source{Name: name, Kind: kindFile, Certs: cs} }
	ep := func(name string, cs ...certFacts) *source { return &source{Name: name, Kind: kindEndpoint, Certs: cs} }
	fp := func(b byte) func(*certFacts) { return func(f *certFacts) { f.SHA256[0] = b } }
	disk := cert("svc", 89, 90, fp(2))
	eku := func(u ...x509.ExtKeyUsage) func(*certFacts) { return func(f *certFacts) { f.EKU = u } }
	crl := func(next float64) certFacts {
		return certFacts{Name: "CRL of CA", CRL: true, NotBefore: now.Add(-7 * day), NotAfter: now.Add(time.Duration(next * float64(day)))}
	}

	tests := []struct {
		name    string
		args    []string
		obs     observations
		state   plugin.State
		summary string
		lines   []string
	}{
		{"one OK file", nil, observations{Sources: []*source{file("/a.pem", cert("svc", 60.5, 90))}}, plugin.OK,
			"/a.pem (svc): expires in 60 days (2030-08-01)", nil},
		{"the first to expire is named", nil, observations{Sources: []*source{file("/a.pem", cert("a", 60.5, 90)), file("/b.pem", cert("b", 40.5, 90))}}, plugin.OK,
			"2 certificates OK, first to expire: /b.pem (b) in 40 days (2030-07-12)", nil},
		{"warning and critical days", nil, observations{Sources: []*source{file("/a.pem", cert("a", 20.5, 90)), file("/b.pem", cert("b", 5.5, 90))}}, plugin.CRITICAL,
			"1 critical, 1 warning of 2 checked: /b.pem (b): expires in 5.5 days (2030-06-07) / /a.pem (a): expires in 20 days (2030-06-22)", nil},
		{"renewal overdue", []string{"--renewal-at", "0.67"}, observations{Sources: []*source{file("/a.pem", cert("a", 29, 90))}}, plugin.WARNING,
			"/a.pem (a): renewal overdue: 67% of its 90-day lifetime used (renewal due at 67%), expires in 29 days (2030-06-30)", nil},
		{"weak, chain, hostname and signer findings with their states", []string{"--weak-state", "warning", "--chain-state", "unknown"},
			observations{Sources: []*source{{Name: "h:443", Kind: kindEndpoint, SignerName: "/ca.pem", Certs: []certFacts{cert("h", 60.5, 90, func(f *certFacts) {
				f.Weak, f.Chain, f.Hostname, f.Signer = []string{"SHA-1 signature"}, "chain does not verify", "hostname h does not match", "issued by X"
			})}}}}, plugin.CRITICAL,
			"h:443 (h): hostname h does not match / not signed by the CA /ca.pem: issued by X / SHA-1 signature / chain does not verify / expires in 60 days (2030-08-01)", nil},
		{"a replaced kubeconfig CA", nil, observations{Sources: []*source{{Name: "/admin.conf cluster k", Kind: kindKubeCA, ReplacedCA: "/pki/ca.crt", Certs: []certFacts{cert("kubernetes", 3000, 3650)}}}}, plugin.CRITICAL,
			"/admin.conf cluster k (kubernetes): a replaced CA, not the current /pki/ca.crt: clients trusting only this one reject the API server / expires in 3000 days (2038-08-18)", nil},
		{"renewed but not reloaded", []string{"-H", "h", "--compare-file", "/cert.pem"}, observations{Compare: &disk, Sources: []*source{ep("h:443", cert("svc", 20, 90, fp(1)))}}, plugin.WARNING,
			"h:443 (svc): renewed but not reloaded: /cert.pem holds a certificate issued 2030-05-31 and valid until 2030-08-29, the server still serves the one valid until 2030-06-21 / expires in 20 days (2030-06-21)", nil},
		// The most severe verdict of all certificates leads the summary
		// (state, then a problem before a days-left forecast), whatever
		// the order of the sources and of the verdicts in each.
		{"several sources: renewed but not reloaded leads", []string{"-H", "h", "--compare-file", "/cert.pem"}, observations{Compare: &disk, Sources: []*source{
			file("/a.pem", cert("svc", 20, 90, fp(1))), ep("h:443", cert("svc", 20, 90, fp(1)))}}, plugin.WARNING,
			"2 warning of 2 checked: h:443 (svc): renewed but not reloaded: /cert.pem holds a certificate issued 2030-05-31 and valid until 2030-08-29, the server still serves the one valid until 2030-06-21 / +1 more", nil},
		{"several sources: a critical problem before a critical forecast", []string{"-H", "h"}, observations{Sources: []*source{
			file("/a.pem", cert("a", 5.5, 90)), ep("h:443", cert("h", 5.5, 90, func(f *certFacts) { f.Hostname = "hostname h does not match" }))}}, plugin.CRITICAL,
			"2 critical of 2 checked: h:443 (h): hostname h does not match / /a.pem (a): expires in 5.5 days (2030-06-07)", nil},
		{"several sources: the state first, expired is no forecast", []string{"-H", "h", "--chain-state", "warning"}, observations{Sources: []*source{
			ep("h:443", cert("h", 60.5, 90, func(f *certFacts) { f.Chain = "chain does not verify" })), file("/a.pem", cert("a", 20.5, 90)), file("/b.pem", cert("b", -2.5, 90))}}, plugin.CRITICAL,
			"1 critical, 2 warning of 3 checked: /b.pem (b): expired 2.5 days ago (2030-05-30) / h:443 (h): chain does not verify / /a.pem (a): expires in 20 days (2030-06-22)", nil},
		{"several sources: an unreadable source is a problem, not a forecast", []string{"-H", "h"}, observations{Sources: []*source{
			file("/a.pem", cert("a", 20.5, 90)), {Name: "/b.pem", Kind: kindFile, Err: errors.New("permission denied"), ErrState: plugin.WARNING}}}, plugin.WARNING,
			"2 warning of 2 checked: /b.pem: permission denied / /a.pem (a): expires in 20 days (2030-06-22)", nil},
		{"same as on disk", []string{"-H", "h", "--compare-file", "/cert.pem"}, observations{Compare: &disk, Sources: []*source{ep("h:443", disk)}}, plugin.OK,
			"h:443 (svc): expires in 89 days (2030-08-29); same as /cert.pem", nil},
		{"an unreadable source and a compare file", []string{"-H", "h", "--compare-file", "/cert.pem"}, observations{CompareErr: errors.New("--compare-file /cert.pem: is a FIFO, not a regular file"),
			Sources: []*source{{Name: "h:443", Kind: kindEndpoint, Err: errors.New("no answer within 4s"), ErrState: plugin.CRITICAL}}}, plugin.CRITICAL,
			"1 critical, 1 unknown of 2 checked: h:443: no answer within 4s / --compare-file /cert.pem: is a FIFO, not a regular file", nil},
		{"stopped at the deadline: counted, never silent", nil, observations{Found: 1000, Read: 400, Within: "4s", Sources: []*source{file("/a.pem", cert("a", 60.5, 90))}}, plugin.UNKNOWN,
			"stopped after 400 of 1000 certificate files at the deadline (4s): the rest are not judged / raise -t or split the files over several checks", nil},
		{"nothing found is UNKNOWN", nil, observations{}, plugin.UNKNOWN, "no certificate found in the given files, directories and kubeconfigs", nil},
		{"min-certs", []string{"--min-certs", "2"}, observations{Sources: []*source{file("/a.pem", cert("a", 60.5, 90))}}, plugin.WARNING,
			"only 1 certificate(s) found, expected at least 2 (--min-certs): a file deleted or moved out of the watched paths?", nil},
		{"members of a pool serving different certificates", []string{"-H", "pool", "--all-addresses"}, observations{Sources: []*source{
			ep("pool:443 via 10.0.0.1", cert("p", 80.5, 90, fp(1))), ep("pool:443 via 10.0.0.2", cert("p", 50.5, 90, fp(2)))}}, plugin.WARNING,
			"pool:443: its addresses serve 2 different certificates: 10.0.0.2 serve(s) one valid until 2030-07-22 / 10.0.0.1 serve(s) one valid until 2030-08-21", nil},
		{"a bundle: positions and perfdata", nil, observations{Sources: []*source{file("/chain.pem", cert("leaf", 60.5, 90), cert("ca", -1.5, 900))}}, plugin.CRITICAL,
			"/chain.pem#1 (ca): expired 1.5 days ago (2030-05-31)",
			[]string{"[OK] /chain.pem#0 (leaf)", "/chain.pem#0=60.5;28:;14: /chain.pem#1=-1.5;28:;14:"}},
		// One rounding: 13.999 days is 13.99 in the perfdata, "13 days"
		// in the text, and below -w 14 in the state.
		{"13.999 days left: text, perfdata and state agree", []string{"-w", "14", "-c", "7"}, observations{Sources: []*source{file("/a.pem", cert("a", 13.999, 90))}}, plugin.WARNING,
			"/a.pem (a): expires in 13 days (2030-06-15)", []string{"/a.pem#0=13.99;14:;7:"}},
		{"a served leaf for clients only", []string{"-H", "h"}, observations{Sources: []*source{ep("h:443", cert("h", 60.5, 90, eku(x509.ExtKeyUsageClientAuth)))}}, plugin.CRITICAL,
			"h:443 (h): served, but its extended key usage (clientAuth) does not allow server authentication: TLS clients refuse it / expires in 60 days (2030-08-01)", nil},
		{"a served leaf for clients only, --insecure", []string{"-H", "h", "-k"}, observations{Sources: []*source{ep("h:443", cert("h", 60.5, 90, eku(x509.ExtKeyUsageClientAuth)))}}, plugin.OK,
			"h:443 (h): expires in 60 days (2030-08-01)", nil},
		{"a CRL due soon", nil, observations{Sources: []*source{file("/ca.crl", crl(3.5))}}, plugin.CRITICAL,
			"/ca.crl (CRL of CA): next update due in 3.5 days (2030-06-05)", []string{"/ca.crl#0=3.5;28:;14:"}},
		{"a stale CRL", nil, observations{Sources: []*source{file("/ca.crl", crl(-1.5))}}, plugin.CRITICAL,
			"/ca.crl (CRL of CA): stale: its next update was due 1.5 days ago (2030-05-31): clients that check it reject the issuer's certificates", nil},
		{"a fresh CRL next to its CA", nil, observations{Sources: []*source{file("/ca.pem", cert("CA", 900, 1000, func(f *certFacts) { f.IsCA = true }), crl(20.5))}}, plugin.WARNING,
			"/ca.pem#1 (CRL of CA): next update due in 20 days (2030-06-22)", nil},
		{"policy: purpose, validity, issuer, fingerprint, serial", []string{"--require-purpose", "clientAuth", "--maximum-validity", "397", "--issuer", "Encrypt",
			"--fingerprint", strings.Repeat("AB:", 31) + "AB", "--serial", "0a:bc"},
			observations{Sources: []*source{file("/a.pem", cert("a", 60.5, 800, eku(x509.ExtKeyUsageServerAuth), func(f *certFacts) {
				f.Issuer, f.IssuerDN, f.Serial = "R3", "CN=R3,O=Let's Encrypt,C=US", "abc"
			}))}}, plugin.CRITICAL,
			"/a.pem (a): its extended key usage (serverAuth) does not allow clientAuth (--require-purpose) / valid for 800 days in all, more than 397 (--maximum-validity) / SHA-256 fingerprint 0000000000000000000000000000000000000000000000000000000000000000 is not one given with --fingerprint / expires in 60 days (2030-08-01)", nil},
		{"policy state and a matching issuer, fingerprint and serial", []string{"--issuer", "^R3$", "--fingerprint", strings.Repeat("00", 32), "--serial", "ABC", "--maximum-validity", "90", "--policy-state", "warning"},
			observations{Sources: []*source{file("/a.pem", cert("a", 60.5, 90, func(f *certFacts) { f.Issuer, f.IssuerDN, f.Serial = "R3", "CN=R3", "abc" }))}}, plugin.OK,
			"/a.pem (a): expires in 60 days (2030-08-01)", nil},
		{"policy is for leaves, not CAs", []string{"--maximum-validity", "397"},
			observations{Sources: []*source{file("/a.pem", cert("CA", 3000, 3650, func(f *certFacts) { f.IsCA = true }))}}, plugin.OK,
			"/a.pem (CA): expires in 3000 days (2038-08-18)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-f", "x"}, tt.args...)
			o, msg := parse(t, args...)
			if o == nil {
				t.Fatal(msg)
			}
			tt.obs.Now = now
			r := judge(o, tt.obs)
			if r.State() != tt.state || r.Summary != tt.summary {
				t.Errorf("got %s %q\nwant %s %q", plugin.StateName(r.State()), r.Summary, plugin.StateName(tt.state), tt.summary)
			}
			out := plugin.Render(Plugin.Service, r, 1<<20)
			for _, l := range tt.lines {
				if !strings.Contains(out, l) {
					t.Errorf("output lacks %q\n%s", l, out)
				}
			}
		})
	}
}

// TestJudgePerfState: perfdata of a certificate judged non-OK on more
// than its days left carries the state, so that the runtime keeps it
// when it fits the output to --max-output.
func TestJudgePerfState(t *testing.T) {
	now := time.Now()
	o, _ := parse(t, "-f", "x")
	good := certFacts{Name: "g", NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(100 * 24 * time.Hour)}
	weak := good
	weak.Weak = []string{"RSA key of 1024 bits (under 2048)"}
	r := judge(o, observations{Now: now, Sources: []*source{{Name: "/g.pem", Certs: []certFacts{good}}, {Name: "/w.pem", Certs: []certFacts{weak}}}})
	if len(r.Perf) != 2 || r.Perf[0].Judged() != plugin.OK || r.Perf[1].Judged() != plugin.CRITICAL {
		t.Errorf("perfdata states: %+v", r.Perf)
	}
}

// TestJudgeVerbose: -v lists the files passed over, -vv each chain, -vvv
// every certificate in full.
func TestJudgeVerbose(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	o, _ := parse(t, "-f", "x")
	c := certFacts{Name: "leaf", Issuer: "CA", NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(100 * 24 * time.Hour), Details: "subject \"CN=leaf\", the rest"}
	ca := certFacts{Name: "CA", Issuer: "CA", IsCA: true, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(1000 * 24 * time.Hour)}
	for v, want := range map[int][]string{
		0: nil,
		1: {"skipped /d/key.pem: PEM holds no certificate, only PRIVATE KEY"},
		2: {"skipped /d/key.pem", "chain of /d/chain.pem: #0 leaf (issued by CA) > #1 CA (issued by CA)"},
		3: {"chain of /d/chain.pem", `  #0 subject "CN=leaf", the rest`},
	} {
		obs := observations{Now: now, Verbose: v, Sources: []*source{{Name: "/d/chain.pem", Certs: []certFacts{c, ca}}}}
		if v >= 1 {
			obs.Skipped = []string{"/d/key.pem: PEM holds no certificate, only PRIVATE KEY"}
		}
		if v < 3 {
			obs.Sources[0].Certs[0].Details = ""
		}
		r := judge(o, obs)
		got := strings.Join(r.Notes, "\n")
		if len(want) == 0 && got != "" {
			t.Errorf("-v x%d: notes %q, want none", v, got)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("-v x%d: notes lack %q:\n%s", v, w, got)
			}
		}
	}
}
