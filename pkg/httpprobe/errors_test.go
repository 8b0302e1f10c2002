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
