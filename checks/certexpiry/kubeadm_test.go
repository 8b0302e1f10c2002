package certexpiry

import (
	"crypto/x509"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

var update = flag.Bool("update", false, "regenerate testdata/certexpiry/kubeadm and its expected outputs")

// The kubeadm fixtures are trees as kubeadm init (v1.29+) and the kubelet
// write them, in four states, each judged at its own fixed moment. They
// are static, so that their expected outputs can be read and checked line
// by line; the check takes its clock from env.Now, as the runtime does
// from $HINDSIGHT_NOW.
const kubeadmFixtures = "../../testdata/certexpiry/kubeadm"

// kubeadmInit is when the cluster was made.
var kubeadmInit = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// kubeadmStates are the states with the moment each is judged at.
var kubeadmStates = []struct {
	name string
	now  time.Time
	code int
}{
	// 100 days after kubeadm init: all is well.
	{"fine", kubeadmInit.Add(certtest.Days(100)), 0},
	// Nobody ran kubeadm certs renew: every leaf expired two months ago
	// (postmortem 004 before the botched fix).
	{"expired", kubeadmInit.Add(certtest.Days(365 + 61)), 2},
	// pki/ca.crt regenerated with a new key and the API server's
	// certificate renewed, the rest left: the kubeconfigs still carry the
	// old CA and every other leaf is signed by it (postmortem 004).
	{"ca-replaced", kubeadmInit.Add(certtest.Days(200)), 2},
	// pki/ca.crt re-signed with its own key for ten more years, the
	// documented way to extend a kubeadm CA: the kubeconfigs' copies of
	// the old one are the same CA, and every leaf still verifies.
	{"ca-renewed", kubeadmInit.Add(certtest.Days(200)), 0},
}

// fixture is the state the gather tests read.
const fixture = kubeadmFixtures + "/ca-replaced"

// TestKubeadmStates judges each state and compares every line of the
// output with testdata/certexpiry/kubeadm/<state>.expected. Regenerate
// with go test -run TestKubeadmStates -update, then read the new
// expected outputs before committing them.
func TestKubeadmStates(t *testing.T) {
	if *update {
		os.RemoveAll(kubeadmFixtures)
		for _, s := range kubeadmStates {
			generateKubeadm(t, filepath.Join(kubeadmFixtures, s.name), s.name)
		}
	}
	for _, s := range kubeadmStates {
		t.Run(s.name, func(t *testing.T) {
			// Relative, so the output (its pager line is cut by length)
			// does not depend on where the repository is checked out.
			root := filepath.Join(kubeadmFixtures, s.name)
			code, out := runAt(t, s.now, "--kubeadm", "--kubernetes-dir", root+"/etc/kubernetes", "--kubelet-dir", root+"/var/lib/kubelet")
			got := strings.ReplaceAll(out, root, "{root}")
			golden := root + ".expected"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if code != s.code {
				t.Errorf("exit %d, want %d", code, s.code)
			}
			compareGolden(t, golden, got)
		})
	}
}

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	wantB, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimRight(string(wantB), "\n"), "\n")
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	for i := 0; i < max(len(want), len(lines)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(lines) {
			g = lines[i]
		}
		if w != g {
			t.Errorf("line %d:\n got: %s\nwant: %s", i+1, g, w)
		}
	}
}

// generateKubeadm writes one state's tree: the files kubeadm init writes
// under /etc/kubernetes (pki with keys, the five kubeconfigs of v1.29+
// including super-admin.conf) and the kubelet's under /var/lib/kubelet,
// where kubelet-client-current.pem is an ABSOLUTE symlink, as the kubelet
// makes it. Dates are fixed; keys are made anew on each regeneration.
func generateKubeadm(t *testing.T, root, state string) {
	day := certtest.Days
	built := kubeadmInit
	year, ten := day(365), day(3650)
	fixed := kubeadmInit.Add(day(200) - 4*time.Hour) // the CA replaced or renewed

	ca := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	etcdCA := certtest.New(t, certtest.Spec{CN: "etcd-ca", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	proxyCA := certtest.New(t, certtest.Spec{CN: "front-proxy-ca", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	leaf := func(cn string, parent *certtest.Cert, from time.Time, eku []x509.ExtKeyUsage, dns ...string) *certtest.Cert {
		return certtest.New(t, certtest.Spec{CN: cn, DNS: dns, Parent: parent, NotBefore: from, NotAfter: from.Add(year), EKU: eku})
	}
	// What pki/ca.crt is now, and what signed the API server's
	// certificate: the CA of kubeadm init except after a replacement.
	current, apiserverCA, apiserverFrom := ca, ca, built
	switch state {
	case "ca-replaced":
		current = certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotBefore: fixed, NotAfter: fixed.Add(ten)})
		apiserverCA, apiserverFrom = current, fixed
	case "ca-renewed":
		current = certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, Key: ca.Key, NotBefore: fixed, NotAfter: fixed.Add(2 * ten)})
	}
	keyOf := func(c *certtest.Cert) []byte { return c.KeyPEM() }

	etc := filepath.Join(root, "etc", "kubernetes")
	pki := filepath.Join(etc, "pki")
	files := map[string]*certtest.Cert{
		"ca":                       current,
		"apiserver":                leaf("kube-apiserver", apiserverCA, apiserverFrom, server, "control-plane", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"),
		"apiserver-kubelet-client": leaf("kube-apiserver-kubelet-client", ca, built, client),
		"apiserver-etcd-client":    leaf("kube-apiserver-etcd-client", etcdCA, built, client),
		"front-proxy-ca":           proxyCA,
		"front-proxy-client":       leaf("front-proxy-client", proxyCA, built, client),
		"etcd/ca":                  etcdCA,
		"etcd/server":              leaf("control-plane", etcdCA, built, both, "control-plane", "localhost"),
		"etcd/peer":                leaf("control-plane", etcdCA, built, both, "control-plane", "localhost"),
		"etcd/healthcheck-client":  leaf("kube-etcd-healthcheck-client", etcdCA, built, client),
	}
	for name, c := range files {
		write(t, filepath.Join(pki, name+".crt"), c.PEM())
		write(t, filepath.Join(pki, name+".key"), keyOf(c))
	}
	sa := certtest.New(t, certtest.Spec{CN: "sa"})
	write(t, filepath.Join(pki, "sa.key"), sa.KeyPEM())
	write(t, filepath.Join(pki, "sa.pub"), []byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"))

	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	kubeconfig := func(user, clientFields string) []byte {
		return []byte(`apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ` + b64(ca.PEM()) + `
    server: https://10.0.0.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: ` + user + `
  name: ` + user + `@kubernetes
current-context: ` + user + `@kubernetes
kind: Config
preferences: {}
users:
- name: ` + user + `
  user:
` + clientFields)
	}
	embedded := func(c *certtest.Cert) string {
		return "    client-certificate-data: " + b64(c.PEM()) + "\n    client-key-data: " + b64(c.KeyPEM()) + "\n"
	}
	for file, cn := range map[string]string{"admin.conf": "kubernetes-admin", "super-admin.conf": "kubernetes-super-admin",
		"controller-manager.conf": "system:kube-controller-manager", "scheduler.conf": "system:kube-scheduler"} {
		write(t, filepath.Join(etc, file), kubeconfig(cn, embedded(leaf(cn, ca, built, client))))
	}
	write(t, filepath.Join(etc, "kubelet.conf"), kubeconfig("system:node:control-plane",
		"    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n"))

	// The kubelet: its client certificate with its key in one file named
	// by date, the current one an absolute symlink to it; its serving
	// certificate self-signed (kubelet.crt, a CA, never renewed by
	// kubeadm).
	kpki := filepath.Join(root, "var", "lib", "kubelet", "pki")
	kc := leaf("system:node:control-plane", ca, built, client)
	dated := "kubelet-client-" + built.Format("2006-01-02-15-04-05") + ".pem"
	write(t, filepath.Join(kpki, dated), append(kc.PEM(), kc.KeyPEM()...))
	if err := os.Symlink("/var/lib/kubelet/pki/"+dated, filepath.Join(kpki, "kubelet-client-current.pem")); err != nil {
		t.Fatal(err)
	}
	serving := certtest.New(t, certtest.Spec{CN: "control-plane@1709287200", DNS: []string{"control-plane"}, CA: true, NotBefore: built, NotAfter: built.Add(year)})
	write(t, filepath.Join(kpki, "kubelet.crt"), serving.PEM())
	write(t, filepath.Join(kpki, "kubelet.key"), serving.KeyPEM())
}

// TestKubeadmAbsoluteLinksElsewhere: a kubeadm tree restored under
// another directory, whose certificates are absolute symlinks into
// /etc/kubernetes (as configuration management often lays them out): each
// is followed inside the given --kubernetes-dir, not on this host.
func TestKubeadmAbsoluteLinksElsewhere(t *testing.T) {
	root := t.TempDir()
	etc := filepath.Join(root, "etc", "kubernetes")
	now := time.Now()
	ca := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotAfter: now.Add(certtest.Days(3000))})
	api := certtest.New(t, certtest.Spec{CN: "kube-apiserver", Parent: ca, NotAfter: now.Add(certtest.Days(200))})
	write(t, filepath.Join(etc, "store", "ca.crt"), ca.PEM())
	// Outside both trees, but under the root they were given below.
	write(t, filepath.Join(root, "srv", "pki", "apiserver.pem"), api.PEM())
	for name, target := range map[string]string{"ca.crt": "/etc/kubernetes/store/ca.crt", "apiserver.crt": "/srv/pki/apiserver.pem"} {
		os.MkdirAll(filepath.Join(etc, "pki"), 0o755)
		if err := os.Symlink(target, filepath.Join(etc, "pki", name)); err != nil {
			t.Fatal(err)
		}
	}
	code, out := run(t, "--kubeadm", "--kubernetes-dir", etc, "--kubelet-dir", filepath.Join(root, "var", "lib", "kubelet"))
	if contains(out, "broken symlink") || !contains(out, "[OK] "+etc+"/pki/apiserver.crt (kube-apiserver): expires in 199 days") || !contains(out, "[OK] "+etc+"/pki/ca.crt (kubernetes)") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
