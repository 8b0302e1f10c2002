package certexpiry

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

// TestFiles covers the judgements on file sources, one certificate
// situation per row, each in a fresh directory.
func TestFiles(t *testing.T) {
	now := time.Now()
	days := certtest.Days
	ca := certtest.New(t, certtest.Spec{CN: "Test CA", CA: true, NotBefore: now.Add(-days(100)), NotAfter: now.Add(days(3000))})
	oldCA := certtest.New(t, certtest.Spec{CN: "Test CA", CA: true, NotBefore: now.Add(-days(900)), NotAfter: now.Add(days(2000))})
	leaf := func(left, life float64, mod ...func(*certtest.Spec)) *certtest.Cert {
		s := certtest.Spec{CN: "svc.test", DNS: []string{"svc.test"}, Parent: ca,
			NotBefore: now.Add(days(left - life)), NotAfter: now.Add(days(left))}
		for _, m := range mod {
			m(&s)
		}
		return certtest.New(t, s)
	}
	rsaCA := certtest.New(t, certtest.Spec{CN: "RSA CA", CA: true, RSABits: 2048, NotAfter: now.Add(days(3000))})
	sha1 := func(s *certtest.Spec) { s.SHA1, s.Parent = true, rsaCA }
	rsa1024 := func(s *certtest.Spec) { s.RSABits = 1024 }
	byOld := func(s *certtest.Spec) { s.Parent = oldCA }
	expiredInter := certtest.New(t, certtest.Spec{CN: "Old Intermediate", CA: true, Parent: ca, NotBefore: now.Add(-days(400)), NotAfter: now.Add(-days(5))})

	type file struct {
		name string
		data []byte
	}
	tests := []struct {
		name  string
		files []file
		args  []string // {dir} is the directory
		code  int
		want  []string
	}{
		{"60 days left", []file{{"a.pem", leaf(60.5, 90).PEM()}}, []string{"-f", "{dir}/a.pem"}, 0,
			[]string{"CERT OK - {dir}/a.pem (svc.test): expires in 60 days", "| {dir}/a.pem#0=60.49;28:;14:"}}, // cut to hundredths, never rounded up
		{"20 days left", []file{{"a.pem", leaf(20.5, 90).PEM()}}, []string{"-f", "{dir}/a.pem"}, 1, []string{"CERT WARNING", "expires in 20 days"}},
		{"10 days left", []file{{"a.pem", leaf(10.5, 90).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"CERT CRITICAL", "expires in 10 days"}},
		{"3 days left", []file{{"a.pem", leaf(3.05, 90).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"expires in 3.0 days"}},
		{"expired", []file{{"a.pem", leaf(-2.5, 90).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"expired 2.5 days ago"}},
		{"not yet valid", []file{{"a.pem", leaf(100, 10).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"not valid until"}},
		{"fractional thresholds", []file{{"a.pem", leaf(0.4, 90).PEM()}}, []string{"-f", "{dir}/a.pem", "-w", "0.5", "-c", "0.25"}, 1, []string{"expires in 9h", ";0.5:;0.25:"}},
		{"renewal overdue: day 70 of 90", []file{{"a.pem", leaf(20, 90).PEM()}}, []string{"-f", "{dir}/a.pem", "-w", "14", "-c", "7", "--renewal-at", "0.67"}, 1,
			[]string{"renewal overdue: 77% of its 90-day lifetime used"}},
		{"renewal not yet due", []file{{"a.pem", leaf(40, 90).PEM()}}, []string{"-f", "{dir}/a.pem", "--renewal-at", "0.67"}, 0, nil},
		{"every certificate of a bundle, expired intermediate", []file{{"chain.pem", certtest.Bundle(leaf(60, 90, func(s *certtest.Spec) { s.Parent = expiredInter }), expiredInter, ca)}},
			[]string{"-f", "{dir}/chain.pem"}, 2,
			[]string{"CERT CRITICAL - {dir}/chain.pem#1 (Old Intermediate): expired 5.0 days ago", "[OK] {dir}/chain.pem#0 (svc.test)", "[OK] {dir}/chain.pem#2 (Test CA)", " {dir}/chain.pem#2=2999.99;28:;14:"}},
		{"SHA-1", []file{{"a.pem", leaf(60, 90, sha1).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"SHA-1 signature (SHA1-RSA)"}},
		{"RSA 1024", []file{{"a.pem", leaf(60, 90, rsa1024).PEM()}}, []string{"-f", "{dir}/a.pem"}, 2, []string{"RSA key of 1024 bits (under 2048)"}},
		{"weak downgraded", []file{{"a.pem", leaf(60, 90, rsa1024).PEM()}}, []string{"-f", "{dir}/a.pem", "--weak-state", "warning"}, 1, []string{"RSA key of 1024 bits"}},
		{"signed by the right CA", []file{{"a.pem", leaf(60.5, 90).PEM()}, {"ca.crt", ca.PEM()}}, []string{"-f", "{dir}/a.pem", "--ca", "{dir}/ca.crt"}, 0, nil},
		{"signed by a replaced CA", []file{{"a.pem", leaf(60, 90, byOld).PEM()}, {"ca.crt", ca.PEM()}}, []string{"-f", "{dir}/a.pem", "--ca", "{dir}/ca.crt"}, 2,
			[]string{"not signed by the CA {dir}/ca.crt: issuer \"Test CA\" has the CA's name but not its key"}},
		{"chain of a file bundle against --ca-file", []file{{"a.pem", leaf(60, 90, byOld).PEM()}, {"ca.crt", ca.PEM()}}, []string{"-f", "{dir}/a.pem", "--ca-file", "{dir}/ca.crt"}, 2,
			[]string{"chain does not verify"}},
		{"DER", []file{{"a.der", leaf(60.5, 90).Cert.Raw}}, []string{"-f", "{dir}/a.der"}, 0, nil},
		{"directory: keys skipped, subdirectories searched", []file{{"d/a.crt", leaf(60.5, 90).PEM()}, {"d/sub/b.pem", leaf(20, 90).PEM()}, {"d/sub/b.key", leaf(1, 2).KeyPEM()}, {"d/privkey.pem", leaf(1, 2).KeyPEM()}, {"d/notes.txt", []byte("hi")}},
			[]string{"-d", "{dir}/d"}, 1, []string{"[WARNING] {dir}/d/sub/b.pem", "[OK] {dir}/d/a.crt"}},
		{"directory: garbage .crt reported", []file{{"d/bad.crt", []byte("garbage")}}, []string{"-d", "{dir}/d"}, 3, []string{"{dir}/d/bad.crt: neither PEM, DER, PKCS#12 nor a Java keystore"}},
		{"empty directory", []file{{"d/x.txt", nil}}, []string{"-d", "{dir}/d"}, 3, []string{"no certificate files"}},
		{"glob with **", []file{{"g/a/b/c.pem", leaf(60.5, 90).PEM()}, {"g/top.pem", leaf(60.5, 90).PEM()}, {"g/a/x.crt", leaf(5, 90).PEM()}}, []string{"-f", "{dir}/g/**/*.pem"}, 0,
			[]string{"2 certificates OK", "{dir}/g/a/b/c.pem", "{dir}/g/top.pem"}},
		{"glob matching nothing", nil, []string{"-f", "{dir}/none/*.pem"}, 3, []string{"{dir}/none/*.pem: no file matches"}},
		{"missing file", nil, []string{"-f", "{dir}/missing.pem"}, 3, []string{"{dir}/missing.pem: no such file or directory"}},
		{"empty file", []file{{"e.pem", nil}}, []string{"-f", "{dir}/e.pem"}, 3, []string{"{dir}/e.pem: empty file"}},
		{"private key named explicitly", []file{{"k.pem", leaf(1, 2).KeyPEM()}}, []string{"-f", "{dir}/k.pem"}, 3, []string{"PEM holds no certificate, only PRIVATE KEY"}},
		{"truncated PEM", []file{{"t.pem", leaf(60.5, 90).PEM()[:300]}}, []string{"-f", "{dir}/t.pem"}, 3, []string{"truncated PEM"}},
		{"a directory given as file", []file{{"d/a.crt", leaf(60.5, 90).PEM()}}, []string{"-f", "{dir}/d"}, 3, []string{"is a directory (use -d)"}},
		{"min-certs met", []file{{"d/a.crt", leaf(60.5, 90).PEM()}, {"d/b.crt", leaf(60.5, 90).PEM()}}, []string{"-d", "{dir}/d", "--min-certs", "2"}, 0, nil},
		{"a glob of key files: nothing judged is UNKNOWN, never OK", []file{{"k/a.key", []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")}}, []string{"-f", "{dir}/k/*.key"}, 3, []string{"no certificate found"}},
		{"min-certs missed", []file{{"d/a.crt", leaf(60.5, 90).PEM()}}, []string{"-d", "{dir}/d", "--min-certs", "2"}, 1, []string{"only 1 certificate(s) found, expected at least 2"}},
		{"one bad file does not hide an expired one", []file{{"a.pem", leaf(-1, 90).PEM()}, {"b.pem", []byte("junk")}}, []string{"-f", "{dir}/a.pem", "-f", "{dir}/b.pem"}, 2,
			[]string{"CERT CRITICAL - 1 critical, 1 unknown of 2 checked", "[CRITICAL] {dir}/a.pem", "[UNKNOWN] {dir}/b.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				write(t, filepath.Join(dir, f.name), f.data)
			}
			args := subst(tt.args, dir)
			code, out := runAt(t, now, args...)
			expect(t, tt.name, code, out, tt.code, subst(tt.want, dir)...)
		})
	}
}

func subst(in []string, dir string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = replaceAll(s, "{dir}", dir)
	}
	return out
}

func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	c := certtest.New(t, certtest.Spec{CN: "live", DNS: []string{"live.test"}, NotAfter: time.Now().Add(certtest.Days(60))})
	write(t, filepath.Join(dir, "archive", "cert1.pem"), c.PEM())
	os.MkdirAll(filepath.Join(dir, "live"), 0o755)
	os.Symlink("../archive/cert1.pem", filepath.Join(dir, "live", "cert.pem"))
	os.Symlink("../archive/cert0.pem", filepath.Join(dir, "live", "chain.pem"))
	code, out := run(t, "-d", filepath.Join(dir, "live"))
	expect(t, "symlinks", code, out, 3, "[OK] "+dir+"/live/cert.pem (live)", dir+"/live/chain.pem: broken symlink to ../archive/cert0.pem")
}

func TestPKCS12Password(t *testing.T) {
	dir := t.TempDir()
	c := certtest.New(t, certtest.Spec{CN: "store", NotAfter: time.Now().Add(certtest.Days(10))})
	p12, err := pkcs12.Modern.Encode(c.Key, c.Cert, nil, "pa55")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "ks.p12"), p12)
	write(t, filepath.Join(dir, "pass"), []byte("pa55\n"))
	code, out := run(t, "-f", dir+"/ks.p12", "--password-file", dir+"/pass")
	expect(t, "password file", code, out, 2, "(store): expires in")
	t.Setenv("P12PASS", "pa55")
	code, out = run(t, "-f", dir+"/ks.p12", "--password-env", "P12PASS")
	expect(t, "password env", code, out, 2, "(store): expires in")
	code, out = run(t, "-f", dir+"/ks.p12")
	expect(t, "no password", code, out, 3, "PKCS#12: wrong password (give it with --password-file or --password-env)")
	t.Setenv("P12PASS", "wrong")
	code, out = run(t, "-f", dir+"/ks.p12", "--password-env", "P12PASS")
	expect(t, "wrong password in the variable", code, out, 3, "PKCS#12: wrong password (the variable P12PASS of --password-env does not open it)")
	t.Setenv("P12PASS", "")
	code, out = run(t, "-f", dir+"/ks.p12", "--password-env", "P12PASS")
	expect(t, "empty variable", code, out, 3, "PKCS#12: wrong password (the variable P12PASS of --password-env is empty)")
	write(t, filepath.Join(dir, "wrong"), []byte("wrong\n"))
	code, out = run(t, "-f", dir+"/ks.p12", "--password-file", dir+"/wrong")
	expect(t, "wrong password in the file", code, out, 3, "PKCS#12: wrong password (the first line of --password-file "+dir+"/wrong does not open it)")
	if contains(out, "pa55") {
		t.Errorf("password printed: %s", out)
	}
}

func TestBadOptions(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "nothing to check"},
		{[]string{"-f", "x", "-w", "5", "-c", "10"}, "-c 10 is above -w 5"},
		{[]string{"-f", "x", "-w", "abc"}, `"abc" is not a number`},
		{[]string{"-f", "x", "--renewal-at", "1.5"}, "invalid --renewal-at 1.5"},
		{[]string{"-H", "a.test", "-4", "-6"}, "-4 and -6 exclude each other"},
		{[]string{"-H", "a.test:99999"}, `invalid -H "a.test:99999": port "99999" is not a number 1-65535`},
		{[]string{"-H", "a.test", "-P", "gopher"}, "Invalid value `gopher'"},
		{[]string{"-H", "a.test", "--resolve", "not-an-ip"}, "invalid --resolve"},
		{[]string{"-f", "x", "--compare-file", "y"}, "--compare-file needs an endpoint"},
		{[]string{"-f", "x", "--ca", "/nonexistent/ca.crt"}, "--ca /nonexistent/ca.crt: no such file or directory"},
		{[]string{"-f", "x", "--password-env", "HINDSIGHT_UNSET_VAR"}, "variable HINDSIGHT_UNSET_VAR is not set"},
		{[]string{"-f", "x", "--password-env", "A", "--password-file", "b"}, "--password-file and --password-env exclude each other"},
		{[]string{"-f", "x", "--require-purpose", "serverauth", "--require-purpose", "flying"}, `invalid --require-purpose "flying": one of serverAuth, clientAuth`},
		{[]string{"-f", "x", "--issuer", "(unclosed"}, `invalid --issuer "(unclosed"`},
		{[]string{"-f", "x", "--fingerprint", "AB:CD"}, "a SHA-256 fingerprint is 64 hex digits"},
		{[]string{"-f", "x", "--serial", "xyz"}, `invalid --serial "xyz"`},
		{[]string{"-f", "x", "--serial", ""}, `invalid --serial "": hex digits`},
		{[]string{"-f", "x", "--serial", "::"}, `invalid --serial "::": hex digits`},
		{[]string{"-f", "x", "--maximum-validity", "-1"}, "invalid --maximum-validity -1"},
		// An explicit 0 would turn the check off without a word: refused
		// as the messages say ("above 0"), never read as "not given".
		{[]string{"-f", "x", "--maximum-validity", "0", "-w", "1", "-c", "1"}, "invalid --maximum-validity 0: DAYS must be a number above 0"},
		{[]string{"-f", "x", "--renewal-at", "0"}, "invalid --renewal-at 0: a fraction of the lifetime above 0"},
		{[]string{"-f", "x", "--renewal-at", "-0.1"}, "invalid --renewal-at -0.1"},
		{[]string{"-f", "x", "--min-certs", "0"}, "invalid --min-certs 0: N must be 1 or more"},
		{[]string{"-f", "x", "--min-certs", "-3"}, "invalid --min-certs -3: N must be 1 or more"},
		{[]string{"-f", "x", "--max-entries", "0"}, "invalid --max-entries 0: at least 1"},
		{[]string{"-H", "a.test", "--min-tls-version", ""}, `invalid --min-tls-version "": 1.1, 1.2 or 1.3`},
		{[]string{"-H", "a.test", "--min-tls-version", "1.0"}, `invalid --min-tls-version "1.0": 1.1, 1.2 or 1.3`},
	}
	for _, tt := range tests {
		code, out := run(t, tt.args...)
		expect(t, joinArgs(tt.args), code, out, 3, tt.want)
	}
}

func TestKubeconfigs(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotAfter: now.Add(certtest.Days(3000))})
	user := certtest.New(t, certtest.Spec{CN: "jane", Parent: ca, NotAfter: now.Add(certtest.Days(9.5))})
	write(t, filepath.Join(dir, "home/jane/.kube/jane.crt"), user.PEM())
	write(t, filepath.Join(dir, "home/jane/.kube/config"), []byte(`clusters:
- name: prod
  cluster:
    certificate-authority-data: `+base64.StdEncoding.EncodeToString(ca.PEM())+`
users:
- name: jane
  user:
    client-certificate: jane.crt
`))
	write(t, filepath.Join(dir, "home/bob/.kube/config"), []byte("users:\n- name: bob\n  user:\n    client-certificate-data: '%%%'\n"))
	write(t, filepath.Join(dir, "home/eve/.kube/config"), []byte("\tthis: is: not yaml ["))
	code, out := run(t, "--kubeconfig", dir+"/home/*/.kube/config")
	expect(t, "kubeconfigs", code, out, 2,
		"[CRITICAL] "+dir+"/home/jane/.kube/config user jane -> "+dir+"/home/jane/.kube/jane.crt (jane): expires in 9.4 days",
		"[OK] "+dir+"/home/jane/.kube/config cluster prod (kubernetes)",
		"[UNKNOWN] "+dir+"/home/bob/.kube/config: user bob client-certificate-data: invalid base64",
		"[UNKNOWN] "+dir+"/home/eve/.kube/config: not a kubeconfig: not valid YAML")
}

// TestKubeconfigSecretNotEchoed: a bearer token pasted where a list, a
// mapping or a certificate belongs is never shown, nor a Go type: the
// line names the file and what is wrong in kubeconfig terms, with its line.
func TestKubeconfigSecretNotEchoed(t *testing.T) {
	const dir, token = "../../testdata/certexpiry/secret-kubeconfigs", "hunter2SUPERSECRETTOKEN"
	tests := []struct{ file, want string }{
		{"users-a-token.conf", "not a kubeconfig: users must be a list (line 3)"},
		{"user-a-token.conf", "not a kubeconfig: user admin: user must be a mapping with client-certificate-data or client-certificate (line 5)"},
		{"cert-data-a-list.conf", "not a kubeconfig: user admin: client-certificate-data must be a string (line 6)"},
		{"ca-a-mapping.conf", "not a kubeconfig: cluster k: certificate-authority must be a string (line 6)"},
		{"unknown-anchor.conf", "not a kubeconfig: not valid YAML"},
		{"unclosed-quote.conf", "not a kubeconfig: not valid YAML: found unexpected end of stream (line 6)"},
		{"token-as-cert-data.conf", "user admin client-certificate-data: invalid base64"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.file)
		code, out := run(t, "-vvv", "--kubeconfig", path)
		expect(t, tt.file, code, out, 3, "CERT UNKNOWN - "+path+": "+tt.want)
		for _, leak := range []string{"hunter2", token[7:], "struct", "!!str", "yaml:"} {
			if contains(out, leak) {
				t.Errorf("%s: %q shown:\n%s", tt.file, leak, out)
			}
		}
	}
	// The same through --kubeadm, whose kubeconfigs are found, not named.
	code, out := run(t, "-vvv", "--kubeadm", "--kubernetes-dir", dir+"/etc/kubernetes", "--kubelet-dir", dir+"/none")
	expect(t, "kubeadm", code, out, 3, "admin.conf: not a kubeconfig: users must be a list (line 3)", "kubelet.conf: not a kubeconfig: user admin: user must be a mapping")
	if contains(out, "hunter2") {
		t.Errorf("kubeadm: token shown:\n%s", out)
	}
}

// mergeKubeconfig holds three clusters with one CA: given, by alias and
// by merge key (<<: *anchor).
const mergeKubeconfig = "../../testdata/certexpiry/merge-kubeconfigs/merge.yaml"

// TestKubeconfigMergeKeys: a certificate reached through a YAML merge key
// (<<: *a, <<: {...}, <<: [*a, *b]) is checked like any other, none
// silently dropped.
func TestKubeconfigMergeKeys(t *testing.T) {
	const dir = "../../testdata/certexpiry/merge-kubeconfigs"
	tests := []struct {
		file  string
		lines []string
	}{
		{"merge.yaml", []string{"CERT OK - 3 certificates OK", "merge.yaml cluster c1 (formats-ca): expires in", "merge.yaml cluster c2 (formats-ca): expires in", "merge.yaml cluster c3 (formats-ca): expires in"}},
		{"merge-user.yaml", []string{"CERT OK - 2 certificates OK", "merge-user.yaml cluster c (formats-ca): expires in", "merge-user.yaml user u (formats-leaf): expires in"}},
	}
	for _, tt := range tests {
		code, out := run(t, "-v", "--no-revocation", "--kubeconfig", filepath.Join(dir, tt.file))
		expect(t, tt.file, code, out, 0, tt.lines...)
	}
}
