package httpprobe

import (
	"context"
	"net/url"
	"testing"
	"time"
)

func TestErrorText(t *testing.T) {
	u, _ := url.Parse("http://example.test/")
	for _, tc := range []struct {
		name string
		err  Error
		want string
	}{
		{"first-byte timeout", Error{Phase: PhaseFirstByte, Timeout: true, InPhase: 800 * time.Millisecond},
			"example.test:80 accepted the request but sent no response within 800ms (first-byte timeout)"},
		{"queued, then connected at the deadline", Error{Phase: PhaseFirstByte, Timeout: true, InPhase: 300 * time.Microsecond, Waited: 799 * time.Millisecond},
			"example.test:80 accepted the request but sent no response within <1ms (first-byte timeout), after waiting 799ms for a free connection (other requests to it still pending)"},
		{"a short wait is not the story", Error{Phase: PhaseFirstByte, Timeout: true, InPhase: 700 * time.Millisecond, Waited: 100 * time.Millisecond},
			"example.test:80 accepted the request but sent no response within 700ms (first-byte timeout)"},
		{"a body timeout counts the request's own time", Error{Phase: PhaseBody, Timeout: true, Elapsed: 900 * time.Millisecond, Waited: 600 * time.Millisecond, InPhase: 200 * time.Millisecond, Status: "200 OK", Got: 10},
			"example.test:80 answered 200 OK but the body did not complete within 300ms (10 bytes received, body timeout), after waiting 600ms for a free connection (other requests to it still pending)"},
		{"a SOCKS proxy connected to but silent", Error{Phase: PhaseConnect, Timeout: true, InPhase: 8 * time.Second, Proxy: "proxy.test", Addr: "proxy.test:1080", SOCKS: true},
			"proxy proxy.test:1080: connected, but no answer to the SOCKS handshake for example.test:80 within 8s (is it a SOCKS proxy?)"},
		{"a SOCKS proxy not connected to", Error{Phase: PhaseConnect, Timeout: true, InPhase: 8 * time.Second, Proxy: "proxy.test", Addr: "proxy.test:1080"},
			"proxy proxy.test:1080: no answer within 8s (connect timeout)"},
		{"still queued", Error{Phase: PhaseWait, Timeout: true, InPhase: 800 * time.Millisecond},
			"no connection to example.test:80 free within 800ms (other requests to it still pending)"},
		{"TLS in a proxy's tunnel is the target's", Error{Phase: PhaseTLS, Timeout: true, InPhase: time.Second, Proxy: "proxy.test", Addr: "proxy.test:3128", TLSWithTarget: true},
			"TLS handshake with example.test:80 (through proxy proxy.test:3128): no answer within 1s"},
		{"an https proxy's own TLS", Error{Phase: PhaseTLS, Timeout: true, InPhase: time.Second, Proxy: "proxy.test", Addr: "proxy.test:3128"},
			"TLS handshake with proxy.test:3128: no answer within 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err
			e.URL, e.Err = u, context.DeadlineExceeded
			if e.Addr == "" {
				e.Addr = "example.test:80"
			}
			if got := e.Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A malformed header line of a cookie or credential is named with its
// fault, never quoted; other lines keep net/textproto's quote.
func TestHideHeaderValues(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`malformed MIME header line: "Set-Cookie: a=\x01\x02b; Path=/"`,
			"malformed Set-Cookie header: byte 0x01 in its value, not allowed in a header (value not shown)"},
		{`bad response from h:80: malformed MIME header line: "authorization: Bearer t\x7fk"`,
			"bad response from h:80: malformed authorization header: byte 0x7f in its value, not allowed in a header (value not shown)"},
		{`malformed MIME header line: "WWW-Authenticate : Basic realm=\"x\""`,
			"malformed WWW-Authenticate header: byte 0x20 in its name (value not shown)"},
		{`malformed MIME header line: "X-Api-Key: s3cr\x00t"`,
			"malformed X-Api-Key header: byte 0x00 in its value, not allowed in a header (value not shown)"},
		{`malformed MIME header: missing colon: "Cookie a=secret"`,
			"malformed Cookie header: no colon after its name (value not shown)"},
		{`malformed MIME header initial line: " a=secret"`,
			"malformed header: the first header line starts with a space or tab (not shown)"},
		{`malformed MIME header line: "X-Thing: a\x01b"`, `malformed MIME header line: "X-Thing: a\x01b"`},
		{`malformed MIME header: missing colon: "garbage"`, `malformed MIME header: missing colon: "garbage"`},
	} {
		if got := hideHeaderValues(tc.in); got != tc.want {
			t.Errorf("hideHeaderValues(%q)\n got  %q\n want %q", tc.in, got, tc.want)
		}
	}
}
