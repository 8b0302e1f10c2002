package certexpiry

import (
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

var update = flag.Bool("update", false, "regenerate testdata/certexpiry/kubeadm and its expected output")

// incident is the clock of the kubeadm fixture: the day postmortem 004's
// cluster fell over. The fixture is static so that its expected output
// can be read and checked line by line; the check takes its clock from
// env.Now, so it is judged at this moment, not at the test's.
var incident = time.Date(2019, 2, 14, 12, 0, 0, 0, time.UTC)

const fixture = "../../testdata/certexpiry/kubeadm"

// TestKubeadmPostmortem004 checks a kubeadm control-plane node in the
// state of postmortem 004: the client and component certificates expired
// two months ago, then a botched fix replaced the CA, so the leaves and
// the kubeconfigs still point to the old one. Every line of the output
// is compared with testdata/certexpiry/kubeadm.expected.
func TestKubeadmPostmortem004(t *testing.T) {
	if *update {
		generateKubeadmFixture(t, fixture)
	}
	// Relative, so the output (its pager line is cut by length) does not
	// depend on where the repository is checked out.
	root := fixture
	code, out := runAt(t, incident, "--kubeadm", "--kubernetes-dir", root+"/etc/kubernetes", "--kubelet-dir", root+"/var/lib/kubelet")
	got := strings.ReplaceAll(out, root, "{root}")
	golden := fixture + ".expected"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantB, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if code != 2 {
		t.Errorf("exit %d, want 2 (CRITICAL)", code)
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

// generateKubeadmFixture writes the tree; run with -update after
// changing it, then read the new kubeadm.expected before committing it.
func generateKubeadmFixture(t *testing.T, root string) {
	os.RemoveAll(root)
	day := certtest.Days
	built := time.Date(2017, 12, 14, 10, 0, 0, 0, time.UTC) // kubeadm init
	fixed := incident.Add(-4 * time.Hour)                   // the botched fix: new CA, apiserver renewed
	ten, year := day(3650), day(365)

	oldCA := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	newCA := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true, NotBefore: fixed, NotAfter: fixed.Add(ten)})
	etcdCA := certtest.New(t, certtest.Spec{CN: "etcd-ca", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	proxyCA := certtest.New(t, certtest.Spec{CN: "front-proxy-ca", CA: true, NotBefore: built, NotAfter: built.Add(ten)})
	leaf := func(cn string, parent *certtest.Cert, from time.Time) *certtest.Cert {
		return certtest.New(t, certtest.Spec{CN: cn, DNS: []string{cn}, Parent: parent, NotBefore: from, NotAfter: from.Add(year)})
	}
	etc := filepath.Join(root, "etc", "kubernetes")
	pki := filepath.Join(etc, "pki")
	files := map[string][]byte{
		"ca.crt":                       newCA.PEM(),
		"apiserver.crt":                leaf("kube-apiserver", newCA, fixed).PEM(),
		"apiserver-kubelet-client.crt": leaf("kube-apiserver-kubelet-client", oldCA, built).PEM(),
		"apiserver-etcd-client.crt":    leaf("kube-apiserver-etcd-client", etcdCA, built).PEM(),
		"front-proxy-ca.crt":           proxyCA.PEM(),
		"front-proxy-client.crt":       leaf("front-proxy-client", proxyCA, built).PEM(),
		"etcd/ca.crt":                  etcdCA.PEM(),
		"etcd/server.crt":              leaf("master", etcdCA, built).PEM(),
		"etcd/peer.crt":                leaf("master", etcdCA, built).PEM(),
		"etcd/healthcheck-client.crt":  leaf("kube-etcd-healthcheck-client", etcdCA, built).PEM(),
		// Keys are left out of the fixture; sa.pub shows that
		// non-certificate files next to the certificates are ignored.
		"sa.pub": []byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"),
	}
	for name, data := range files {
		write(t, filepath.Join(pki, name), data)
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	kubeconfig := func(user, clientField string) []byte {
		return []byte(`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ` + b64(oldCA.PEM()) + `
    server: https://10.0.0.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: ` + user + `
  name: ` + user + `@kubernetes
current-context: ` + user + `@kubernetes
users:
- name: ` + user + `
  user:
    ` + clientField + `
`)
	}
	for file, cn := range map[string]string{"admin.conf": "kubernetes-admin", "controller-manager.conf": "system:kube-controller-manager", "scheduler.conf": "system:kube-scheduler"} {
		write(t, filepath.Join(etc, file), kubeconfig(cn, "client-certificate-data: "+b64(leaf(cn, oldCA, built).PEM())))
	}
	write(t, filepath.Join(etc, "kubelet.conf"), kubeconfig("default-auth",
		"client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem"))

	kpki := filepath.Join(root, "var", "lib", "kubelet", "pki")
	write(t, filepath.Join(kpki, "kubelet-client-2017-12-14-10-00-00.pem"), leaf("system:node:master", oldCA, built).PEM())
	if err := os.Symlink("kubelet-client-2017-12-14-10-00-00.pem", filepath.Join(kpki, "kubelet-client-current.pem")); err != nil {
		t.Fatal(err)
	}
	// The serving certificate is self-signed and never renewed by
	// kubeadm (kubernetes #99418): 15 days left.
	servingFrom := incident.Add(-day(350))
	write(t, filepath.Join(kpki, "kubelet.crt"), certtest.New(t, certtest.Spec{CN: "master@1520000000", DNS: []string{"master"}, CA: true,
		NotBefore: servingFrom, NotAfter: servingFrom.Add(year)}).PEM())
}
