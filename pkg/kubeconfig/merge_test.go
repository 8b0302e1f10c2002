package kubeconfig_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/kubeconfig"
)

// TestMergeKeys: merge keys (<<) are resolved as yaml.v3 decodes them,
// so a certificate reached through one is checked: a key given in the
// mapping wins over a merged one, a list of mappings merges in order
// with the earlier winning, and merges nest.
func TestMergeKeys(t *testing.T) {
	tests := []struct{ name, data string }{
		{"by alias", "base: &b {client-certificate: want.pem}\nusers:\n- name: u\n  user:\n    <<: *b\n"},
		{"by inline map", "users:\n- name: u\n  user:\n    <<: {client-certificate: want.pem}\n"},
		{"by list", "a: &a {token: x}\nb: &b {client-certificate: want.pem}\nusers:\n- name: u\n  user:\n    <<: [*a, *b]\n"},
		{"earlier in the list wins", "a: &a {client-certificate: want.pem}\nb: &b {client-certificate: other.pem}\nusers:\n- name: u\n  user:\n    <<: [*a, *b]\n"},
		{"given wins over merged, after", "b: &b {client-certificate: other.pem}\nusers:\n- name: u\n  user:\n    <<: *b\n    client-certificate: want.pem\n"},
		{"given wins over merged, before", "b: &b {client-certificate: other.pem}\nusers:\n- name: u\n  user:\n    client-certificate: want.pem\n    <<: *b\n"},
		{"nested", "a: &a {client-certificate: want.pem}\nb: &b {<<: *a, token: x}\nusers:\n- name: u\n  user: {<<: *b}\n"},
		{"nested, outer list order", "a: &a {client-certificate: other.pem}\nb: &b {<<: *a}\nc: &c {client-certificate: want.pem}\nusers:\n- name: u\n  user: {<<: [*c, *b]}\n"},
		{"the list item merged", "u: &u {name: u, user: {client-certificate: want.pem}}\nusers:\n- <<: *u\n"},
		{"the name merged", "n: &n {name: u}\nusers:\n- <<: *n\n  user: {client-certificate: want.pem}\n"},
		{"the whole file merged", "k: &k\n  users: [{name: u, user: {client-certificate: want.pem}}]\n<<: *k\n"},
		{"a key given twice takes the last, as kubectl", "users:\n- name: u\n  user:\n    client-certificate: other.pem\n    client-certificate: want.pem\n"},
		{"two merge keys, the later wins, as kubectl", "a: &a {client-certificate: other.pem}\nb: &b {client-certificate: want.pem}\nusers:\n- name: u\n  user:\n    <<: *a\n    <<: *b\n"},
		{"two merge keys, the earlier fills in, as kubectl", "a: &a {client-certificate: want.pem}\nb: &b {token: x}\nusers:\n- name: u\n  user:\n    <<: *a\n    <<: *b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := kubeconfig.Parse([]byte(tt.data), "/k/config")
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 1 || refs[0].Name != "u" || refs[0].Path != "/k/want.pem" {
				t.Fatalf("got %+v, want user u's /k/want.pem", refs)
			}
		})
	}
}

// TestMergeErrors: a merge of the wrong thing is refused, with its line
// and without any value.
func TestMergeErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"a missing anchor", "users:\n- name: u\n  user:\n    <<: *" + token + "\n", "not a kubeconfig: not valid YAML"},
		{"a missing anchor in a list", "a: &a {token: x}\nusers:\n- name: u\n  user:\n    <<: [*a, *" + token + "]\n", "not a kubeconfig: not valid YAML"},
		{"a string", "users:\n- name: u\n  user:\n    <<: " + token + "\n", "not a kubeconfig: a merge (<<) must be a mapping or a list of mappings (line 4)"},
		{"an alias of a string", "s: &s " + token + "\nusers:\n- name: u\n  user:\n    <<: *s\n", "not a kubeconfig: a merge (<<) must be a mapping or a list of mappings (line 5)"},
		{"a string in a list", "users:\n- name: u\n  user:\n    <<: [{token: x}, " + token + "]\n", "not a kubeconfig: a merge (<<) must be a mapping or a list of mappings (line 4)"},
		{"a list in a list", "users:\n- name: u\n  user:\n    <<: [[" + token + "]]\n", "not a kubeconfig: a merge (<<) must be a mapping or a list of mappings (line 4)"},
		{"a bad merge beside the key", "users:\n- name: u\n  user:\n    client-certificate: a.pem\n    <<: " + token + "\n", "not a kubeconfig: a merge (<<) must be a mapping or a list of mappings (line 5)"},
		{"itself", "users:\n- name: u\n  user: &s\n    <<: *s\n", "not a kubeconfig: "},
		{"a key given twice", "users:\n- name: " + token + "\n  name: u\n  user:\n    client-certificate-data: '%%%'\n", "user u client-certificate-data: invalid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubeconfig.Parse([]byte(tt.data), "/x/config")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("%v\nwant %q", err, tt.want)
			}
			for _, leak := range []string{"hunter2", "SECRET", "struct", "[]", "!!", "yaml:\\"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("%q in %q", leak, err)
				}
			}
		})
	}
}

// TestMergeBomb: a billion laughs written with merge keys (each level a
// list of ten merges of the level below, none holding the key looked
// for) is walked in time and memory bounded by the file, not by the
// 10^depth paths through it.
func TestMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("l0: &l0 {token: x}\n")
	const depth = 30
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {<<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	fmt.Fprintf(&b, "users:\n- name: u\n  user: {<<: *l%d}\n- <<: *l%d\n", depth, depth)
	fmt.Fprintf(&b, "<<: *l%d\n", depth)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	refs, err := kubeconfig.Parse([]byte(b.String()), "/k/config")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil || len(refs) != 0 {
		t.Fatalf("%v %+v", err, refs)
	}
	if took > time.Second {
		t.Errorf("took %v", took)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}
