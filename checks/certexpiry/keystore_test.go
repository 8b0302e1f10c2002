package certexpiry

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// formats are keystores, PKCS#12 and CRLs made by keytool and openssl
// (testdata/certs/formats/generate.sh), valid for a hundred years.
const formats = "../../testdata/certs/formats/"

// runVerbose is runAt with -v given verbose times: the runtime hands the
// count to the check in env.Verbose.
func runVerbose(t *testing.T, verbose int, args ...string) (int, string) {
	t.Helper()
	o, msg := parse(t, args...)
	if o == nil {
		return int(plugin.UNKNOWN), msg
	}
	env := plugin.NewEnv(5 * time.Second)
	env.Verbose = verbose
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline)
	defer cancel()
	res, err := o.Run(ctx, env)
	if err != nil {
		return int(plugin.UNKNOWN), plugin.RenderLine(Plugin.Service, plugin.UNKNOWN, err.Error())
	}
	return int(res.State()), plugin.Render(Plugin.Service, res, 1<<20)
}

func copyFormats(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(formats + n)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, n), data)
	}
}

// TestKeystoresAndCRLs: JKS and JCEKS keystores and truststores, and CRLs
// in PEM and DER, found in a directory and by a glob, with the password
// options; -v lists what the walk passed over, -vv the chains.
func TestKeystoresAndCRLs(t *testing.T) {
	dir := t.TempDir()
	copyFormats(t, dir, "keystore.jks", "truststore.jks", "keystore.jceks", "truststore.jceks", "crl.pem", "crl.der")
	os.Rename(filepath.Join(dir, "crl.der"), filepath.Join(dir, "ca.crl"))
	write(t, filepath.Join(dir, "README.txt"), []byte("not a certificate"))
	write(t, filepath.Join(dir, "leaf.key.pem"), certtest.New(t, certtest.Spec{CN: "k"}).KeyPEM())
	t.Setenv("KS_PASS", "changeit")

	code, out := runVerbose(t, 0, "-d", dir, "--password-env", "KS_PASS")
	expect(t, "directory", code, out, 0, "CERT OK - 8 certificates OK",
		"[OK] "+dir+"/keystore.jks#0 (formats-leaf): expires in", "[OK] "+dir+"/keystore.jks#1 (formats-ca)",
		"[OK] "+dir+"/truststore.jceks (formats-ca)", "[OK] "+dir+"/keystore.jceks#0 (formats-leaf)",
		"[OK] "+dir+"/crl.pem (CRL of formats-ca): next update due in", "[OK] "+dir+"/ca.crl (CRL of formats-ca): next update due in")
	if contains(out, "skipped") || contains(out, "chain of") {
		t.Errorf("without -v: %s", out)
	}

	_, out = runVerbose(t, 1, "-d", dir, "--password-env", "KS_PASS")
	expect(t, "-v", 0, out, 0, "skipped "+dir+"/README.txt: not a certificate file name",
		"skipped "+dir+"/leaf.key.pem: PEM holds no certificate, only PRIVATE KEY")
	_, out = runVerbose(t, 2, "-f", dir+"/*.jks", "--password-env", "KS_PASS")
	expect(t, "-vv", 0, out, 0, "chain of "+dir+"/keystore.jks: #0 formats-leaf (issued by formats-ca) > #1 formats-ca (issued by formats-ca)")
	_, out = runVerbose(t, 3, "-f", dir+"/crl.pem")
	expect(t, "-vvv CRL", 0, out, 0, `  #0 CRL issuer "CN=formats-ca", number 1, this update `)
	_, out = runVerbose(t, 3, "-f", dir+"/keystore.jks")
	expect(t, "-vvv", 0, out, 0, `  #0 subject "CN=formats-leaf", issuer "CN=formats-ca", serial `, "key RSA 2048 bits, signature SHA256-RSA")

	t.Setenv("KS_PASS", "wrong")
	code, out = run(t, "-f", dir+"/keystore.jceks", "--password-env", "KS_PASS")
	expect(t, "wrong keystore password", code, out, 3, "JCEKS: wrong password (the variable KS_PASS of --password-env does not open it)")
	t.Setenv("KS_PASS", "")
	code, out = run(t, "-f", dir+"/keystore.jceks", "--password-env", "KS_PASS")
	expect(t, "empty variable: read unverified", code, out, 0, "(formats-leaf): expires in")
}

// TestPKCS12FromOpenSSL: archives as openssl writes them.
func TestPKCS12FromOpenSSL(t *testing.T) {
	dir := t.TempDir()
	copyFormats(t, dir, "nomac.p12", "certs-only.p12")
	write(t, filepath.Join(dir, "pass"), []byte("secret\n"))
	code, out := run(t, "-f", dir+"/nomac.p12", "--password-file", dir+"/pass")
	expect(t, "no MAC, a password given", code, out, 0, "#0 (formats-leaf): expires in")
	code, out = run(t, "-f", dir+"/certs-only.p12", "--password-file", dir+"/pass")
	expect(t, "certificates only (openssl pkcs12 -export -nokeys)", code, out, 0, "#0 (formats-leaf): expires in", "#1 (formats-ca): expires in")
}

// TestServedForClientsOnly: a TLS server presenting a certificate whose
// extended key usage is clientAuth only; curl refuses it ("unsuitable
// certificate purpose"), so it is CRITICAL.
func TestServedForClientsOnly(t *testing.T) {
	p := newPKI(t)
	addr := certtest.ServeTLS(t, p.leaf(t, 60.5, 90, func(s *certtest.Spec) { s.EKU = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }).TLS(p.inter))
	code, out := run(t, "-H", addr, "--ca-file", p.rootFile)
	expect(t, "clientAuth only", code, out, 2, "extended key usage (clientAuth) does not allow server authentication")
	code, _ = run(t, "-H", addr, "--ca-file", p.rootFile, "--require-purpose", "clientAuth", "--chain-state", "ok")
	if code != 0 {
		t.Errorf("--chain-state ok: exit %d", code)
	}
}
