// Package kubeconfig lists the certificates a kubeconfig file holds or
// points to. It is apart from pkg/certs so that plugins which judge
// certificates without reading kubeconfigs (check_http_status -C) do not
// link a YAML parser, whose package init costs every run 0.14 ms.
//
// It opens no file: the caller reads the kubeconfig and the files it
// references (bounded, regular, isolated on mounts that can hang) and
// hands Parse the bytes.
package kubeconfig

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Role says what a certificate in a kubeconfig is for.
type Role string

// The two kinds of certificate a kubeconfig carries.
const (
	CA     Role = "certificate-authority" // trusted to sign the API server's certificate
	Client Role = "client-certificate"    // presented by the user
)

// Cert is one certificate reference in a kubeconfig: embedded
// (Data, already base64-decoded) or a path (resolved against the
// kubeconfig's directory, as kubectl does).
type Cert struct {
	Name string // cluster or user name
	Role Role   //
	Data []byte // from *-data
	Path string // from the path form
}

// Label names the reference for people: "user kubernetes-admin
// client-certificate-data".
func (k Cert) Label() string {
	kind := "cluster"
	if k.Role == Client {
		kind = "user"
	}
	form := string(k.Role) + "-data"
	if k.Path != "" {
		form = string(k.Role)
	}
	return kind + " " + k.Name + " " + form
}

type kubeconfig struct {
	Clusters []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			CAData string `yaml:"certificate-authority-data"`
			CA     string `yaml:"certificate-authority"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			CertData string `yaml:"client-certificate-data"`
			Cert     string `yaml:"client-certificate"`
		} `yaml:"user"`
	} `yaml:"users"`
}

// ParseKubeconfig lists the certificates a kubeconfig holds or points
// to. path is the kubeconfig's own path, for resolving relative paths.
// Invalid YAML or base64 is an error naming where.
func Parse(data []byte, path string) ([]Cert, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %s", oneLineErr(err))
	}
	dir := filepath.Dir(path)
	var out []Cert
	add := func(name string, role Role, b64, file string) error {
		switch {
		case b64 != "":
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
			if err != nil {
				return fmt.Errorf("%s: invalid base64: %v", Cert{Name: name, Role: role}.Label(), err)
			}
			out = append(out, Cert{Name: name, Role: role, Data: raw})
		case file != "":
			if !filepath.IsAbs(file) {
				file = filepath.Join(dir, file)
			}
			out = append(out, Cert{Name: name, Role: role, Path: file})
		}
		return nil
	}
	for _, c := range kc.Clusters {
		if err := add(c.Name, CA, c.Cluster.CAData, c.Cluster.CA); err != nil {
			return nil, err
		}
	}
	for _, u := range kc.Users {
		if err := add(u.Name, Client, u.User.CertData, u.User.Cert); err != nil {
			return nil, err
		}
	}
	if len(kc.Clusters) == 0 && len(kc.Users) == 0 {
		return nil, fmt.Errorf("not a kubeconfig: no clusters and no users")
	}
	return out, nil
}

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
