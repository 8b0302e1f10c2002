package httpprobe

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestReadBounded(t *testing.T) {
	for _, tc := range []struct {
		body      string
		max       int64
		want      string
		truncated bool
	}{
		{"hello", 10, "hello", false},
		{"hello", 5, "hello", false},
		{"hello!", 5, "hello", true},
		{"hello", 0, "", false},
	} {
		got, trunc, err := readBounded(strings.NewReader(tc.body), tc.max)
		if err != nil || !bytes.Equal(got, []byte(tc.want)) || trunc != tc.truncated {
			t.Errorf("readBounded(%q, %d) = %q, %v, %v; want %q, %v", tc.body, tc.max, got, trunc, err, tc.want, tc.truncated)
		}
	}
}

func TestTarget(t *testing.T) {
	c := New(Config{Resolve: map[string]string{"a.example:443": "[2001:db8::1]", "b.example:80": "192.0.2.9:8080"}})
	ctx := context.Background()
	for in, want := range map[string]string{
		"a.example:443": "[2001:db8::1]:443",
		"b.example:80":  "192.0.2.9:8080",
		"c.example:81":  "c.example:81", // another host (or port) is resolved as usual
	} {
		if got := c.Target(ctx, in); got != want {
			t.Errorf("Target(%s) = %s, want %s", in, got, want)
		}
	}
	if got := c.Target(withDialTo(ctx, "192.0.2.7:80"), "a.example:443"); got != "192.0.2.7:80" {
		t.Errorf("sticky Target = %s", got)
	}
}

func TestParseTLSVersion(t *testing.T) {
	for _, ok := range []string{"1.0", "1.1", "1.2", "1.3", "TLSv1.2", "1.2+"} {
		if _, err := ParseTLSVersion(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := ParseTLSVersion("1.4"); err == nil {
		t.Error("1.4 accepted")
	}
}
