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

// token stands for a bearer token pasted where a list or a mapping
// belongs: no error may show it, nor any Go type.
const token = "hunter2SUPERSECRETTOKEN"

// TestShapeErrors: what has the wrong shape is named in kubeconfig
// terms, with its line, never with its value.
func TestShapeErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"users a string", "apiVersion: v1\nkind: Config\nusers: " + token + "\n", "not a kubeconfig: users must be a list (line 3)"},
		{"clusters a mapping", "clusters:\n  token: " + token + "\n", "not a kubeconfig: clusters must be a list (line 2)"},
		{"a user a string", "users:\n- " + token + "\n", "not a kubeconfig: each of users must be a mapping with name and user (line 2)"},
		{"user a string", "users:\n- name: u\n  user: " + token + "\n", "not a kubeconfig: user u: user must be a mapping with client-certificate-data or client-certificate (line 3)"},
		{"client certificate a list", "users:\n- name: u\n  user:\n    client-certificate-data: [" + token + "]\n", "not a kubeconfig: user u: client-certificate-data must be a string (line 4)"},
		{"CA path a mapping", "clusters:\n- name: c\n  cluster:\n    certificate-authority: {token: " + token + "}\n", "not a kubeconfig: cluster c: certificate-authority must be a string (line 4)"},
		{"a name a list", "users:\n- name: [" + token + "]\n", "not a kubeconfig: a name in users must be a string (line 2)"},
		{"the file a list", "- " + token + "\n", "not a kubeconfig: not a mapping of settings (line 1)"},
		{"the file a string", token + "\n", "not a kubeconfig: not a mapping of settings (line 1)"},
		{"an unknown anchor", "users: *" + token + "\n", "not a kubeconfig: not valid YAML"},
		{"an unknown anchor in a list", "users:\n- a\n- *" + token + "\n", "not a kubeconfig: not valid YAML"},
		{"a tab", "users:\n\t- " + token + "\n", "not a kubeconfig: not valid YAML: found character that cannot start any token (line 2)"},
		{"an unclosed quote", "users:\n- name: '" + token + "\n", "not a kubeconfig: not valid YAML"},
		{"an unclosed flow", "users: [" + token + "\n", "not a kubeconfig: not valid YAML: did not find expected ',' or ']' (line 1)"},
		{"empty", "", "not a kubeconfig: no clusters and no users"},
		{"null lists", "users:\nclusters: ~\n", "not a kubeconfig: no clusters and no users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubeconfig.Parse([]byte(tt.data), "/x/config")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("%v\nwant %q", err, tt.want)
			}
			for _, leak := range []string{"hunter2", "SECRET", "struct", "[]", "!!str", "yaml:\\"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("%q in %q", leak, err)
				}
			}
		})
	}
	// Aliases are followed, as kubectl does.
	refs, err := kubeconfig.Parse([]byte("x: &u {client-certificate: a.pem}\nusers:\n- name: u\n  user: *u\n"), "/k/config")
	if err != nil || len(refs) != 1 || refs[0].Path != "/k/a.pem" {
		t.Errorf("alias: %v %+v", err, refs)
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
