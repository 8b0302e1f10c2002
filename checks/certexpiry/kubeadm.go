package certexpiry

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// kubeadm checks a control-plane node's certificates the way kubeadm lays
// them out, each leaf against the CA that must have signed it: after a CA
// replacement (postmortem 004) a leaf still signed by the old CA is
// rejected by every peer although its dates look fine.
func (g *gatherer) kubeadm(kdir, kubeletDir string) {
	pki := filepath.Join(kdir, "pki")
	g.spawn(&source{name: pki, kind: kindFile, errState: plugin.UNKNOWN}, func() {
		ca := g.kubeCA(filepath.Join(pki, "ca.crt"), true)
		etcdCA := g.kubeCA(filepath.Join(pki, "etcd", "ca.crt"), false)
		proxyCA := g.kubeCA(filepath.Join(pki, "front-proxy-ca.crt"), false)
		signer := func(rel string) (*kubeCA, bool) {
			switch {
			case rel == "ca.crt" || rel == "etcd/ca.crt" || rel == "front-proxy-ca.crt":
				return nil, false
			case strings.HasPrefix(rel, "etcd/") || rel == "apiserver-etcd-client.crt":
				return etcdCA, true
			case strings.HasPrefix(rel, "front-proxy-"):
				return proxyCA, true
			}
			return ca, true
		}
		g.walkKubePKI(pki, signer)

		relocate := func(p string) string {
			for _, m := range [][2]string{{"/etc/kubernetes", kdir}, {"/var/lib/kubelet", kubeletDir}} {
				if rest, ok := strings.CutPrefix(p, m[0]+"/"); ok && m[0] != m[1] {
					return filepath.Join(m[1], rest)
				}
			}
			return p
		}
		ko := &kubeOpts{relocate: relocate}
		if ca != nil {
			ko.ca, ko.caName = ca.certs, ca.name
		}
		g.kubeconfigs(filepath.Join(kdir, "*.conf"), ko)

		kpki := filepath.Join(kubeletDir, "pki")
		if err := g.answers(kpki); err != nil {
			g.add(&source{name: kpki, kind: kindFile, err: err, errState: plugin.UNKNOWN})
			return
		}
		withCA := func(s *source) {
			if ca != nil {
				s.signers, s.signerName = ca.certs, ca.name
			}
		}
		g.file(filepath.Join(kpki, "kubelet-client-current.pem"), filepath.Join(kpki, "kubelet-client-current.pem"), true, withCA)
		// The serving certificate: self-signed kubelet.crt by default
		// (never renewed by kubeadm), or a rotated one signed by the CA.
		if _, err := os.Lstat(filepath.Join(kpki, "kubelet-server-current.pem")); err == nil {
			g.file(filepath.Join(kpki, "kubelet-server-current.pem"), filepath.Join(kpki, "kubelet-server-current.pem"), true, withCA)
		}
		if _, err := os.Lstat(filepath.Join(kpki, "kubelet.crt")); err == nil {
			g.file(filepath.Join(kpki, "kubelet.crt"), filepath.Join(kpki, "kubelet.crt"), true, func(s *source) { s.signers = nil })
		}
	})
}

type kubeCA struct {
	name  string
	certs []*x509.Certificate
}

// kubeCA loads a kubeadm CA; a missing one is a finding only when
// required (ca.crt: there is no control plane without it; etcd/ca.crt is
// absent with external etcd).
func (g *gatherer) kubeCA(path string, required bool) *kubeCA {
	err := g.answers(filepath.Dir(path))
	var data []byte
	if err == nil {
		data, err = readFile(path)
	}
	var cs []*x509.Certificate
	if err == nil {
		cs, _, err = certs.Parse(data, "")
	}
	if err != nil {
		if required || !errors.Is(err, fs.ErrNotExist) {
			g.add(&source{name: path + " (CA for the signer check)", kind: kindFile, err: err, errState: plugin.UNKNOWN})
		}
		return nil
	}
	return &kubeCA{name: path, certs: cs}
}

// walkKubePKI loads every certificate under pki/ with its signer.
func (g *gatherer) walkKubePKI(pki string, signer func(rel string) (*kubeCA, bool)) {
	err := g.answers(pki)
	var files []string
	if err == nil {
		files, err = glob(filepath.Join(pki, "**", "*.crt"))
	}
	if err != nil || len(files) == 0 {
		if err == nil {
			err = errNoCerts
		}
		g.add(&source{name: pki, kind: kindFile, err: err, errState: plugin.UNKNOWN})
		return
	}
	for _, f := range files {
		rel, _ := filepath.Rel(pki, f)
		ca, wants := signer(filepath.ToSlash(rel))
		g.file(f, f, true, func(s *source) {
			s.signers, s.signerName = nil, ""
			if wants && ca != nil {
				s.signers, s.signerName = ca.certs, ca.name
			}
		})
	}
}
