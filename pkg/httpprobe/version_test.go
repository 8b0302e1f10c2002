package httpprobe

import (
	"bytes"
	"net"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{"": Auto, "auto": Auto, "1.0": HTTP10, "HTTP/1.1": HTTP11, "2": HTTP2, "h2": HTTP2} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"3", "1.2", "http"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestStatusLineIn(t *testing.T) {
	for _, tc := range []struct {
		head string
		ok   bool
	}{
		{"HTTP/1.1 200 OK\r\n", true},
		{"HTTP/1.0 204 No Content", true},
		{"HTTP/1.1 200 OK\r\nX-A: b", false}, // a header was started
		{"SSH-2.0-OpenSSH\r\n", false},
		{"", false},
	} {
		if _, ok := statusLineIn([]byte(tc.head)); ok != tc.ok {
			t.Errorf("statusLineIn(%q) = %v, want %v", tc.head, ok, tc.ok)
		}
	}
}

// HTTP/1.0 rewrites only the version of the request line, in the first
// write of each request.
func TestHTTP10RequestLine(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	rc := &recConn{Conn: client, http10: true}
	got := make(chan []byte, 1)
	go func() {
		var all bytes.Buffer
		buf := make([]byte, 256)
		for all.Len() < 2*len("GET / HTTP/1.1\r\nX: HTTP/1.1\r\n\r\n") {
			n, err := server.Read(buf)
			if err != nil {
				break
			}
			all.Write(buf[:n])
		}
		got <- all.Bytes()
	}()
	for range 2 {
		rc.Write([]byte("GET / HTTP/1.1\r\nX: HTTP/1.1\r\n"))
		rc.Write([]byte("\r\n"))
		rc.mu.Lock()
		rc.writing = false // as an answer read between requests does
		rc.mu.Unlock()
	}
	want := "GET / HTTP/1.0\r\nX: HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\nX: HTTP/1.1\r\n\r\n"
	if g := string(<-got); g != want {
		t.Errorf("sent %q, want %q", g, want)
	}
}

// The status line reads as curl shows it: HTTP/2 has no reason phrase.
func TestHead(t *testing.T) {
	for _, tc := range []struct {
		r    Response
		want string
	}{
		{Response{Proto: "HTTP/1.1", Status: 403, StatusLine: "403 Forbidden"}, "HTTP/1.1 403 Forbidden"},
		{Response{Proto: "HTTP/1.0", Status: 200, StatusLine: "200 Fine"}, "HTTP/1.0 200 Fine"},
		{Response{Proto: "HTTP/2", Status: 200, StatusLine: "200 OK"}, "HTTP/2 200"},
	} {
		if got := tc.r.Head(); got != tc.want {
			t.Errorf("Head() = %q, want %q", got, tc.want)
		}
	}
}
