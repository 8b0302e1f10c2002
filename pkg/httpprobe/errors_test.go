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
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err
			e.URL, e.Addr, e.Err = u, "example.test:80", context.DeadlineExceeded
			if got := e.Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
