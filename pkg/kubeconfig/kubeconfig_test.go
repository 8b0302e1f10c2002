package kubeconfig_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/kubeconfig"
)

func TestParseKubeconfig(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "kubernetes", CA: true})
	admin := certtest.New(t, certtest.Spec{CN: "kubernetes-admin", Parent: ca})
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	good := `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: ` + b64(ca.PEM()) + `
- name: other
  cluster:
    certificate-authority: ../pki/ca.crt
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ` + b64(admin.PEM()) + `
- name: kubelet
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
- name: token-user
  user:
    token: abc
`
	refs, err := kubeconfig.Parse([]byte(good), "/etc/kubernetes/admin.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"cluster kubernetes certificate-authority-data",
		"cluster other certificate-authority /etc/pki/ca.crt",
		"user kubernetes-admin client-certificate-data",
		"user kubelet client-certificate /var/lib/kubelet/pki/kubelet-client-current.pem",
	}
	if len(refs) != len(want) {
		t.Fatalf("got %d refs, want %d", len(refs), len(want))
	}
	for i, r := range refs {
		got := strings.TrimSpace(r.Label() + " " + r.Path)
		if got != want[i] {
			t.Errorf("ref %d: %q, want %q", i, got, want[i])
		}
	}
	if cs, _, err := certs.Parse(refs[2].Data, ""); err != nil || cs[0].Subject.CommonName != "kubernetes-admin" {
		t.Errorf("embedded client certificate: %v", err)
	}

	bad := []struct{ name, data, err string }{
		{"not YAML", "clusters: [unclosed\n  - : :", "not a kubeconfig"},
		{"YAML but not a kubeconfig", "foo: bar\n", "no clusters and no users"},
		{"invalid base64", "users:\n- name: u\n  user:\n    client-certificate-data: '%%%notbase64'\n", "user u client-certificate-data: invalid base64"},
	}
	for _, tt := range bad {
		if _, err := kubeconfig.Parse([]byte(tt.data), "/x/config"); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}

func FuzzParseKubeconfig(f *testing.F) {
	f.Add([]byte("clusters:\n- name: a\n  cluster:\n    certificate-authority-data: TUFB\nusers:\n- name: u\n  user:\n    client-certificate: x.pem\n"))
	f.Add([]byte("users: [{name: u, user: {client-certificate-data: '!!'}}]"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, err := kubeconfig.Parse(data, "/k/config")
		if err != nil {
			return
		}
		for _, r := range refs {
			if (r.Data == nil) == (r.Path == "") {
				t.Fatalf("ref %q has neither or both data and path", r.Label())
			}
			certs.Parse(r.Data, "")
		}
	})
}
