package certexpiry

import (
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
			"h:443 (svc): expires in 20 days (2030-06-21) / renewed but not reloaded: /cert.pem holds a certificate issued 2030-05-31 and valid until 2030-08-29, the server still serves the one valid until 2030-06-21", nil},
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
