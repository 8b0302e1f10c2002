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
	"regexp"
	"strings"
	"sync"

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

// ParseKubeconfig lists the certificates a kubeconfig holds or points
// to. path is the kubeconfig's own path, for resolving relative paths.
// Invalid YAML or base64 is an error naming where.
func Parse(data []byte, path string) ([]Cert, error) {
	// The document is walked as nodes, never decoded into Go structs:
	// yaml's type errors quote the value they met (a token pasted in the
	// wrong place) and name Go types, and a status line shows neither.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %s", syntaxErr(err))
	}
	var root *yaml.Node // nil for an empty file
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = deref(doc.Content[0])
	}
	if root != nil && !isNull(root) && root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a kubeconfig: not a mapping of settings (line %d)", root.Line)
	}
	var w walker
	clusters, err := w.entries(root, "clusters", "cluster", CA)
	if err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	users, err := w.entries(root, "users", "user", Client)
	if err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
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
	for _, e := range append(clusters, users...) {
		if err := add(e.name, e.role, e.data, e.file); err != nil {
			return nil, err
		}
	}
	if len(clusters) == 0 && len(users) == 0 {
		return nil, fmt.Errorf("not a kubeconfig: no clusters and no users")
	}
	return out, nil
}

// entry is one cluster or user: its name and its certificate, embedded
// (base64) or by path.
type entry struct {
	name, data, file string
	role             Role
}

// entries reads the list under key ("users"), each item a mapping with a
// name and a mapping under item ("user") holding role-data and role.
// What has the wrong shape is named in kubeconfig terms with its line,
// never with its value.
func (w *walker) entries(root *yaml.Node, key, item string, role Role) ([]entry, error) {
	list, err := w.get(root, key)
	if err != nil || list == nil || isNull(list) {
		return nil, err
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s must be a list (line %d)", key, list.Line)
	}
	var out []entry
	for _, el := range list.Content {
		el = deref(el)
		if el.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("each of %s must be a mapping with name and %s (line %d)", key, item, el.Line)
		}
		e := entry{role: role}
		name, err := w.get(el, "name")
		if err != nil {
			return nil, err
		}
		if name != nil && name.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("a name in %s must be a string (line %d)", key, name.Line)
		}
		if name != nil {
			e.name = name.Value
		}
		sub, err := w.get(el, item)
		if err != nil {
			return nil, err
		}
		if sub == nil || isNull(sub) {
			continue
		}
		if sub.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s %s: %s must be a mapping with %s-data or %s (line %d)", item, e.name, item, role, role, sub.Line)
		}
		for _, f := range []struct {
			key string
			to  *string
		}{{string(role) + "-data", &e.data}, {string(role), &e.file}} {
			v, err := w.get(sub, f.key)
			switch {
			case err != nil:
				return nil, err
			case v == nil || isNull(v):
			case v.Kind != yaml.ScalarNode:
				return nil, fmt.Errorf("%s %s: %s must be a string (line %d)", item, e.name, f.key, v.Line)
			default:
				*f.to = v.Value
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// walker looks keys up in the document's mappings, merge keys (<<)
// resolved. It remembers each lookup: a file of merges of merges (a
// billion laughs written with <<) costs one lookup per mapping and key,
// not one per path through them.
type walker struct {
	memo map[lookup]*yaml.Node // a key's value in a mapping; busy while looked up
}

type lookup struct {
	m   *yaml.Node
	key string
}

// busy marks a lookup under way: meeting it again is a merge that
// includes its own mapping.
var busy = &yaml.Node{}

// get is the value under key in mapping m, aliases followed and merge
// keys resolved as yaml.v3 decodes them: a key given in m wins over a
// merged one, and the mappings of a merge list are searched in order,
// the first holding the key winning. A key given twice in m takes its
// last value, as kubectl does (sigs.k8s.io/yaml decodes with yaml.v2,
// whose maps keep the last). nil when m is not a mapping or has no such
// key. Errors name lines, never values.
func (w *walker) get(m *yaml.Node, key string) (*yaml.Node, error) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	k := lookup{m, key}
	if v, ok := w.memo[k]; ok {
		if v == busy {
			return nil, fmt.Errorf("a merge (<<) includes the mapping it is in (line %d)", m.Line)
		}
		return v, nil
	}
	if w.memo == nil {
		w.memo = map[lookup]*yaml.Node{}
	}
	w.memo[k] = busy
	v, err := w.find(m, key)
	if err != nil {
		return nil, err
	}
	w.memo[k] = v
	return v, nil
}

// find is get without the memo: m's own keys, then the mappings its
// merge keys name. Two merge keys (yaml.v3 refuses them, kubectl's
// yaml.v2 applies both in turn) are searched the later first.
func (w *walker) find(m *yaml.Node, key string) (*yaml.Node, error) {
	var val *yaml.Node
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := deref(m.Content[i])
		switch {
		case isMerge(k):
			merges = append(merges, m.Content[i+1])
		case k.Kind == yaml.ScalarNode && k.Value == key:
			val = deref(m.Content[i+1])
		}
	}
	var sources []*yaml.Node
	for i := len(merges) - 1; i >= 0; i-- {
		src, err := mergeSources(merges[i])
		if err != nil {
			return nil, err
		}
		sources = append(sources, src...)
	}
	if val != nil {
		return val, nil
	}
	for _, src := range sources {
		if v, err := w.get(src, key); err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}

// mergeSources is the mappings a merge key's value names, in order: a
// mapping, an alias of one, or a list of those. Anything else is refused
// as yaml.v3 refuses it.
func mergeSources(n *yaml.Node) ([]*yaml.Node, error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	out := make([]*yaml.Node, 0, len(items))
	for _, it := range items {
		d := deref(it)
		if d == nil || d.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("a merge (<<) must be a mapping or a list of mappings (line %d)", it.Line)
		}
		out = append(out, d)
	}
	return out, nil
}

// isMerge reports a merge key: a plain <<, not a quoted "<<".
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports an empty or null value ("users:", "users: ~").
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Compiled on first use: only a broken kubeconfig needs them.
var (
	lineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:line (\d+): )?`) })
	// syntaxChar is a single character yaml quotes in a message (',' or
	// ']'): the syntax, not the file's content.
	syntaxChar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`'.'`) })
)

// syntaxErr is yaml's parse error as a status line may show it: its line
// kept, its reason kept only when it quotes nothing from the file.
func syntaxErr(err error) string {
	msg := strings.TrimPrefix(strings.Join(strings.Fields(err.Error()), " "), "yaml: ")
	m := lineRE().FindStringSubmatch(msg)
	msg = msg[len(m[0]):]
	out := "not valid YAML"
	// Anything else quoted may be a value from the file ("unknown anchor
	// 'hunter2' referenced"): the reason goes, the line stays.
	if msg != "" && !strings.ContainsAny(syntaxChar().ReplaceAllString(msg, ""), "'`\"") {
		out += ": " + msg
	}
	if m[1] != "" {
		out += " (line " + m[1] + ")"
	}
	return out
}
