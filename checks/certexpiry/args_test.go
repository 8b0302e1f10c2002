package certexpiry

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"example.org", "example.org", "443"},
		{"example.org:8443", "example.org", "8443"},
		{"192.0.2.1", "192.0.2.1", "443"},
		{"192.0.2.1:636", "192.0.2.1", "636"},
		{"::1", "::1", "443"},
		{"2001:db8::1", "2001:db8::1", "443"},
		{"[::1]", "::1", "443"},
		{"[2001:db8::1]:993", "2001:db8::1", "993"},
		{"example.org:65535", "example.org", "65535"},
	}
	for _, tt := range tests {
		h, p, err := splitHostPort(tt.in, "443")
		if err != nil || h != tt.host || p != tt.port {
			t.Errorf("splitHostPort(%q) = %q, %q, %v; want %q, %q", tt.in, h, p, err, tt.host, tt.port)
		}
	}
	bad := map[string]string{
		"":                    "empty host",
		"[::1":                "use HOST, HOST:PORT or [IPv6]:PORT",
		"::1]":                "use HOST, HOST:PORT or [IPv6]:PORT",
		"[::1]]":              `"::1]" in brackets is not an IPv6 address`,
		"[::1]:":              `port "" is not a number 1-65535`,
		"[::1]:0":             `port "0" is not a number 1-65535`,
		"[]":                  `"" in brackets is not an IPv6 address`,
		"[192.0.2.1]":         `"192.0.2.1" in brackets is not an IPv6 address`,
		"[example.org]:443":   `"example.org" in brackets is not an IPv6 address`,
		"example.org:0":       `port "0" is not a number 1-65535`,
		"example.org:65536":   `port "65536" is not a number 1-65535`,
		"example.org:+443":    `port "+443" is not a number 1-65535`,
		"example.org:":        `port "" is not a number 1-65535`,
		":443":                "empty host",
		"a:b:c":               "use HOST, HOST:PORT or [IPv6]:PORT",
		"example.org/path":    `"example.org/path" is not a host name`,
		"exa mple.org":        `"exa mple.org" is not a host name`,
		"example.org\r\n:443": `"example.org\r\n" is not a host name`,
	}
	for in, want := range bad {
		if h, p, err := splitHostPort(in, "443"); err == nil || err.Error() != want {
			t.Errorf("splitHostPort(%q) = %q, %q, %v; want error %q", in, h, p, err, want)
		}
	}
}

// Through the runtime: the message names -H or the argument, and the text.
func TestBadEndpoints(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-H", "[::1"}, `CERT UNKNOWN - invalid -H "[::1": use HOST, HOST:PORT or [IPv6]:PORT`},
		{[]string{"-H", ""}, `CERT UNKNOWN - invalid -H "": empty host`},
		{[]string{"-H", "example.org:0"}, `CERT UNKNOWN - invalid -H "example.org:0": port "0" is not a number 1-65535`},
		{[]string{"-H", "example.org:70000"}, `CERT UNKNOWN - invalid -H "example.org:70000": port "70000" is not a number 1-65535`},
		{[]string{"[::1"}, `CERT UNKNOWN - invalid argument "[::1": use HOST, HOST:PORT or [IPv6]:PORT`},
		{[]string{"-H", "example.org", "example.org:0"}, `CERT UNKNOWN - invalid argument "example.org:0": port "0" is not a number 1-65535`},
		{[]string{"-H", "example.org", "-p", "0"}, `CERT UNKNOWN - invalid -p "0": a port number 1-65535`},
	}
	for _, tt := range tests {
		var out strings.Builder
		code := plugin.Runner{Args: tt.args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
		if code != 3 || !strings.HasPrefix(out.String(), tt.want+"\n") {
			t.Errorf("%q: exit %d\n%s\nwant first line %s", tt.args, code, out.String(), tt.want)
		}
	}
}

// TestCollapseEndpoints: the same endpoint given twice, in any spelling,
// is probed once, and -v says so.
func TestCollapseEndpoints(t *testing.T) {
	tests := []struct {
		name  string
		in    []endpoint
		out   []endpoint
		notes []string
	}{
		{"distinct", []endpoint{{"a.test", "443"}, {"a.test", "8443"}, {"b.test", "443"}},
			[]endpoint{{"a.test", "443"}, {"a.test", "8443"}, {"b.test", "443"}}, nil},
		{"twice", []endpoint{{"localhost", "47443"}, {"localhost", "47443"}},
			[]endpoint{{"localhost", "47443"}}, []string{"endpoint localhost:47443 given 2 times: checked once"}},
		{"case and trailing dot", []endpoint{{"A.test", "443"}, {"b.test", "443"}, {"a.test.", "443"}, {"a.TEST", "443"}},
			[]endpoint{{"A.test", "443"}, {"b.test", "443"}}, []string{"endpoint A.test:443 given 3 times: checked once"}},
		{"IPv6 spellings", []endpoint{{"::1", "443"}, {"0:0::1", "443"}},
			[]endpoint{{"::1", "443"}}, []string{"endpoint [::1]:443 given 2 times: checked once"}},
	}
	for _, tt := range tests {
		out, notes := collapseEndpoints(tt.in)
		if fmt.Sprint(out) != fmt.Sprint(tt.out) || fmt.Sprint(notes) != fmt.Sprint(tt.notes) {
			t.Errorf("%s: %v %q, want %v %q", tt.name, out, notes, tt.out, tt.notes)
		}
	}
}

// TestDuplicateSources: -H twice (once as an argument, once without the
// default port), -f twice and --kubeconfig twice are checked once each:
// one perfdata label each (no "#0#2"), a -v note each.
func TestDuplicateSources(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, 60.5, 90)
	addr := certtest.ServeTLS(t, leaf.TLS(p.inter))
	_, port, _ := net.SplitHostPort(addr)
	file := write(t, filepath.Join(t.TempDir(), "srv.crt"), leaf.PEM())
	tests := []struct {
		name   string
		args   []string
		labels []string
		note   string
	}{
		{"-H twice", []string{"--ca-file", p.rootFile, "-H", addr, "-H", addr}, []string{addr + "#0="}, "endpoint " + addr + " given 2 times: checked once"},
		{"-H and an argument, -p", []string{"--ca-file", p.rootFile, "-p", port, "-H", "127.0.0.1", addr}, []string{addr + "#0="}, "endpoint " + addr + " given 2 times: checked once"},
		{"-f twice", []string{"-f", file, "-f", file}, []string{file + "#0="}, "-f " + file + " given 2 times: read once"},
		{"--kubeconfig twice", []string{"--kubeconfig", mergeKubeconfig, "--kubeconfig", mergeKubeconfig}, []string{mergeKubeconfig + " cluster c1#0'=", mergeKubeconfig + " cluster c3#0'="}, "--kubeconfig " + mergeKubeconfig + " given 2 times: read once"},
	}
	for _, tt := range tests {
		var out strings.Builder
		args := append([]string{"-v", "--no-revocation"}, tt.args...)
		code := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
		expect(t, tt.name, code, out.String(), 0, tt.note)
		for _, l := range tt.labels {
			if n := strings.Count(out.String(), l); n != 1 {
				t.Errorf("%s: label %q %d times\n%s", tt.name, l, n, out.String())
			}
		}
		if contains(out.String(), "#0#2") {
			t.Errorf("%s: checked twice\n%s", tt.name, out.String())
		}
	}
	// Without -v, nothing is said.
	var out strings.Builder
	plugin.Runner{Args: []string{"--ca-file", p.rootFile, "-H", addr, "-H", addr}, Stdout: &out, Exit: func(int) {}}.Run(Plugin)
	if contains(out.String(), "given 2 times") {
		t.Errorf("note without -v:\n%s", out.String())
	}
}
