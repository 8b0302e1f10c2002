package certexpiry

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/kubeconfig"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// kubeOpts is what --kubeadm adds to a kubeconfig: relocated paths and
// the CA its certificates belong to.
type kubeOpts struct {
	relocate func(string) string
	ca       *kubeCA
}

// kubeconfigs loads each kubeconfig matching p.
func (g *gatherer) kubeconfigs(p string, ko *kubeOpts) {
	if !hasMeta(p) {
		g.spawn(&source{Name: p, Kind: kindFile, ErrState: plugin.UNKNOWN}, func() { g.kubeconfig(p, ko) })
		return
	}
	g.spawn(&source{Name: p, Kind: kindFile, ErrState: plugin.UNKNOWN}, func() {
		matches, ok := g.glob(p)
		if !ok {
			return
		}
		for _, m := range matches {
			g.kubeconfig(m.path, ko)
		}
	})
}

// kubeconfig reads one kubeconfig (a certificate-kind file: bounded,
// regular, isolated on risky mounts) and hands the files it references to
// the readers; pkg/kubeconfig only parses the bytes.
func (g *gatherer) kubeconfig(path string, ko *kubeOpts) {
	data, err := g.files.Read(g.ctx, files.Certificate, path)
	if err != nil {
		g.fail(path, plugin.UNKNOWN, g.describeReadError(path, err))
		return
	}
	refs, err := kubeconfig.Parse(data, path)
	if err != nil {
		g.fail(path, plugin.UNKNOWN, err)
		return
	}
	var jobs []fileJob
	for _, r := range refs {
		if j, ok := g.kubeRef(path, r, ko); ok {
			jobs = append(jobs, j)
		}
	}
	g.enqueue(jobs...)
}

// kubeRef judges an embedded certificate at once, and returns the job
// for one referenced by path.
func (g *gatherer) kubeRef(path string, r kubeconfig.Cert, ko *kubeOpts) (fileJob, bool) {
	kind, who := kindKubeClient, "user "+r.Name
	if r.Role == kubeconfig.CA {
		kind, who = kindKubeCA, "cluster "+r.Name
	}
	c := checked{signers: g.signers, signerName: g.signerName}
	if ko != nil && ko.ca != nil {
		if kind == kindKubeCA {
			c.expectCA, c.caName = ko.ca.certs, ko.ca.name
		} else {
			c.signers, c.signerName = ko.ca.certs, ko.ca.name
		}
	}
	if r.Path != "" {
		file := r.Path
		if ko != nil && ko.relocate != nil {
			file = ko.relocate(file)
		}
		j := g.fileJobFor(file, path+" "+who+" -> "+file, true, c)
		j.kind = kind
		return j, true
	}
	s := &source{Name: path + " " + who, Kind: kind, ErrState: plugin.UNKNOWN}
	chain, _, err := certs.Parse(r.Data, "")
	if err != nil {
		s.Err = fmt.Errorf("%s: %w", r.Label(), err)
	} else {
		g.observe(s, chain, c)
	}
	g.add(s)
	return fileJob{}, false
}

// kubeadm checks a control-plane node's certificates the way kubeadm lays
// them out, each leaf against the CA that must have signed it: after a CA
// replacement (postmortem 004) a leaf still signed by the old CA is
// rejected by every peer although its dates look fine.
func (g *gatherer) kubeadm(kdir, kubeletDir string) {
	pki := filepath.Join(kdir, "pki")
	g.spawn(&source{Name: pki, Kind: kindFile, ErrState: plugin.UNKNOWN}, func() {
		ca := g.kubeCA(filepath.Join(pki, "ca.crt"), true)
		etcdCA := g.kubeCA(filepath.Join(pki, "etcd", "ca.crt"), false)
		proxyCA := g.kubeCA(filepath.Join(pki, "front-proxy-ca.crt"), false)
		signer := func(rel string) *kubeCA {
			switch {
			case rel == "ca.crt" || rel == "etcd/ca.crt" || rel == "front-proxy-ca.crt":
				return nil
			case strings.HasPrefix(rel, "etcd/") || rel == "apiserver-etcd-client.crt":
				return etcdCA
			case strings.HasPrefix(rel, "front-proxy-"):
				return proxyCA
			}
			return ca
		}
		g.walkKubePKI(pki, signer)

		g.kubeconfigs(filepath.Join(kdir, "*.conf"), &kubeOpts{relocate: g.mapAbs, ca: ca})
		g.kubeletPKI(filepath.Join(kubeletDir, "pki"), ca)
	})
}

// kubeletPKI checks the kubelet's client certificate and its serving
// certificate: self-signed kubelet.crt by default (never renewed by
// kubeadm), or a rotated one signed by the CA.
func (g *gatherer) kubeletPKI(kpki string, ca *kubeCA) {
	tree, err := g.files.Walk(g.ctx, kpki, g.opts.MaxEntries, 1)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		g.fail(kpki, plugin.UNKNOWN, bare(kpki, err))
		return
	}
	listed := map[string]bool{}
	for _, e := range tree.Entries {
		listed[filepath.Base(e.Path)] = true
	}
	var withCA checked
	if ca != nil {
		withCA = checked{signers: ca.certs, signerName: ca.name}
	}
	at := func(name string) string { return filepath.Join(kpki, name) }
	jobs := []fileJob{g.fileJobFor(at("kubelet-client-current.pem"), at("kubelet-client-current.pem"), true, withCA)}
	if listed["kubelet-server-current.pem"] {
		jobs = append(jobs, g.fileJobFor(at("kubelet-server-current.pem"), at("kubelet-server-current.pem"), true, withCA))
	}
	if listed["kubelet.crt"] {
		jobs = append(jobs, g.fileJobFor(at("kubelet.crt"), at("kubelet.crt"), true, checked{}))
	}
	g.enqueue(jobs...)
}

// kubeLinkRoots are the kubeadm and kubelet trees given at another place
// than their default, for mapLinks and mapAbs. When a tree sits at its
// default path below another root (--kubelet-dir /mnt/host/var/lib/kubelet),
// that root comes last ("" -> /mnt/host): absolute links elsewhere
// (/etc/ssl/...) are the host's too.
func kubeLinkRoots(o *Options) [][2]string {
	var out [][2]string
	if !o.Kubeadm {
		return nil
	}
	host := ""
	for _, m := range [][2]string{{"/etc/kubernetes", o.KubernetesDir}, {"/var/lib/kubelet", o.KubeletDir}} {
		given := filepath.Clean(m[1])
		if given == m[0] {
			continue
		}
		out = append(out, [2]string{m[0], given})
		if r, ok := strings.CutSuffix(given, m[0]); ok && r != "" && host == "" {
			host = r
		}
	}
	if host != "" {
		out = append(out, [2]string{"", host})
	}
	return out
}

type kubeCA struct {
	name  string
	certs []*x509.Certificate
}

// kubeCA loads a kubeadm CA; a missing one is a finding only when
// required (ca.crt: there is no control plane without it; etcd/ca.crt is
// absent with external etcd).
func (g *gatherer) kubeCA(path string, required bool) *kubeCA {
	cs, err := g.readCerts(g.mapLinks(path), "")
	if err != nil {
		if required || !errors.Is(err, fs.ErrNotExist) {
			g.fail(path+" (CA for the signer check)", plugin.UNKNOWN, g.describeReadError(path, err))
		}
		return nil
	}
	return &kubeCA{name: path, certs: cs}
}

// walkKubePKI hands every certificate under pki/ to the readers, each
// with the CA that must have signed it.
func (g *gatherer) walkKubePKI(pki string, signer func(rel string) *kubeCA) {
	matches, ok := g.glob(filepath.Join(pki, "**", "*.crt"))
	if !ok {
		return
	}
	jobs := make([]fileJob, 0, len(matches))
	for _, m := range matches {
		rel, _ := filepath.Rel(pki, m.path)
		var c checked
		if ca := signer(filepath.ToSlash(rel)); ca != nil {
			c = checked{signers: ca.certs, signerName: ca.name}
		}
		path, key := m.path, m.key
		if mapped := g.mapLinks(path); mapped != path {
			path, key = mapped, g.resolve(mapped)
		}
		jobs = append(jobs, fileJob{path: path, name: m.path, key: key, explicit: true, kind: kindFile, checked: c})
	}
	g.enqueue(jobs...)
}
