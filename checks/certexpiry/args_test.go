package certexpiry

import (
	"strings"
	"testing"

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
