package httpprobe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// countingServer serves "ok" and counts the connections it accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func get(t *testing.T, c *Client, raw string) (*Response, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Do(ctx, Request{URL: u, MaxBody: 1 << 20})
}

func TestReusesConnections(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	c := New(Config{MaxConnsPerHost: 2})
	defer c.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			resp, err := get(t, c, fmt.Sprintf("%s/?n=%d", srv.URL, i))
			if err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
				t.Errorf("request %d: %v, %+v", i, err, resp)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n < 1 || n > 2 {
		t.Errorf("20 requests with MaxConnsPerHost 2 opened %d connections", n)
	}
}

func TestTimings(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "ok")
	})
	c := New(Config{MaxConnsPerHost: 1})
	defer c.Close()
	first, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if tm := first.Timing; tm.Connect <= 0 || tm.FirstByte < 20*time.Millisecond || tm.Total < tm.FirstByte {
		t.Errorf("first request timing %+v: want connect > 0, first byte >= 20ms <= total", tm)
	}
	if first.RemoteAddr != srv.Listener.Addr().String() {
		t.Errorf("RemoteAddr = %q, want %q", first.RemoteAddr, srv.Listener.Addr())
	}
	second, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if second.Timing.Connect != 0 {
		t.Errorf("a reused connection has connect time %v, want 0", second.Timing.Connect)
	}
}

// rawServer answers each connection with the handler's bytes, for
// answers net/http's server would not send.
func rawServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return "http://" + testutil.Serve(t, "127.0.0.1:0", func(c net.Conn) { handle(c, bufio.NewReader(c)) }) + "/"
}

func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	req.Body.Close()
	return true
}

func TestSkipsInformationalAnswers(t *testing.T) {
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) {
			answer := "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			c.Write([]byte(answer))
		}
	})
	c := New(Config{})
	defer c.Close()
	resp, err := get(t, c, u)
	if err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
		t.Fatalf("got %v, %+v; want 200 ok after the 103", err, resp)
	}
}

func TestBodyTimeoutKeepsWhatCame(t *testing.T) {
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsixteen bytes..."))
			time.Sleep(2 * time.Second)
		}
	})
	c := New(Config{})
	defer c.Close()
	parsed, _ := url.Parse(u)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	resp, err := c.Do(ctx, Request{URL: parsed, MaxBody: 1 << 20})
	var perr *Error
	if !errors.As(err, &perr) || perr.Phase != PhaseBody || !perr.Timeout || perr.Got != 16 {
		t.Fatalf("got %v (%+v); want a body timeout after 16 bytes", err, perr)
	}
	if resp == nil || resp.Status != 200 {
		t.Errorf("the status received before the timeout is lost: %+v", resp)
	}
	if !strings.Contains(err.Error(), "body timeout") {
		t.Errorf("message %q does not say body timeout", err)
	}
}

func TestWaitsForAFreeConnection(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("slow") != "" {
			<-release
		}
		fmt.Fprint(w, "ok")
	})
	defer close(release)
	c := New(Config{MaxConnsPerHost: 1})
	defer c.Close()
	parsed, _ := url.Parse(srv.URL)
	slow, _ := url.Parse(srv.URL + "/?slow=1")
	go c.Do(context.Background(), Request{URL: slow, MaxBody: 10})
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{URL: parsed, MaxBody: 10})
	var perr *Error
	if !errors.As(err, &perr) || perr.Phase != PhaseWait || !perr.Timeout {
		t.Fatalf("got %v; want a timeout waiting for a free connection", err)
	}
}

// A server that refuses a large body before reading it, and closes, is
// heard: the answer is its 413, not the broken pipe of the upload.
func TestAnswerBeforeTheBody(t *testing.T) {
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err == nil { // the header only
			c.Write([]byte("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}
		// Then reset, as a server discarding the unread body does, a moment
		// later (as nginx's lingering close): the Transport returns the
		// answer or the failed write, whichever it sees first, and a reset
		// at once can also discard the answer in the client's buffer.
		time.Sleep(50 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0)
	})
	parsed, _ := url.Parse(u)
	c := New(Config{})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, URL: parsed, Body: make([]byte, 16<<20), MaxBody: 10})
	if err != nil || resp.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %v, %+v; want the 413", err, resp)
	}
}

// A kept-alive connection the server closed or reset between two
// requests does not fail the next: it is replaced, whether that is seen
// before the request is sent or on its write (a large idempotent PUT).
func TestReplacesClosedConnections(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset bool
		req   func(i int) Request
	}{
		{"closed", false, func(int) Request { return Request{MaxBody: 10} }},
		{"reset", true, func(i int) Request {
			return Request{Method: http.MethodPut, Body: make([]byte, 1<<20), MaxBody: 10,
				Header: http.Header{"Idempotency-Key": {"k" + strconv.Itoa(i)}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				conns.Add(1)
				if readRequest(br) {
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
				if tc.reset {
					c.(*net.TCPConn).SetLinger(0)
				}
				// and close, without "Connection: close"
			})
			c := New(Config{MaxConnsPerHost: 1})
			defer c.Close()
			parsed, _ := url.Parse(u)
			for i := range 3 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				req := tc.req(i)
				req.URL = parsed
				resp, err := c.Do(ctx, req)
				cancel()
				if err != nil || resp.Status != 200 {
					t.Fatalf("request %d: %v", i, err)
				}
				time.Sleep(10 * time.Millisecond) // let the close arrive
			}
			if n := conns.Load(); n != 3 {
				t.Errorf("%d connections, want 3", n)
			}
		})
	}
}

// A body larger than MaxBody is read no further: closing it must not
// read a never-ending stream to the deadline.
func TestTruncatedBodyIsNotDrained(t *testing.T) {
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
			for {
				if _, err := c.Write([]byte("5\r\nhello\r\n")); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
	c := New(Config{MaxConnsPerHost: 1})
	defer c.Close()
	p, _ := url.Parse(u)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := c.Do(ctx, Request{URL: p, MaxBody: 10})
	if err != nil || !resp.Truncated {
		t.Fatalf("got %v, %+v; want a truncated body", err, resp)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Do took %v for a 10-byte read: closing the body read the stream", el)
	}
}

// A POST already written on a kept-alive connection that the server then
// drops is not sent again: the server may have acted on it.
func TestPostIsNotSentTwice(t *testing.T) {
	var posts atomic.Int32
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			req.Body.Close()
			if req.Method == http.MethodPost && posts.Add(1) == 1 {
				return // dropped without an answer
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	c := New(Config{MaxConnsPerHost: 1})
	defer c.Close()
	p, _ := url.Parse(u)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, Request{URL: p, MaxBody: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(ctx, Request{Method: http.MethodPost, URL: p, Body: []byte("x=1"), MaxBody: 10})
	var perr *Error
	if !errors.As(err, &perr) || perr.Phase != PhaseFirstByte {
		t.Errorf("dropped POST: got %v, want a failure waiting for the answer", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the server received the POST %d times", n)
	}
}

// A GET that a kept-alive connection loses the same way goes again.
func TestGetIsRetriedWhenDropped(t *testing.T) {
	var gets, conns atomic.Int32
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		for readRequest(br) {
			if gets.Add(1) == 2 {
				return // the second request, on the kept-alive connection
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	c := New(Config{MaxConnsPerHost: 1})
	defer c.Close()
	for i := range 2 {
		if resp, err := get(t, c, u); err != nil || resp.Status != 200 {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// A request that cannot be written (a bad Host) fails at once, in the
// request phase, without waiting for an answer that cannot come.
func TestLocalWriteErrorIsImmediate(t *testing.T) {
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) { readRequest(br) })
	c := New(Config{})
	defer c.Close()
	p, _ := url.Parse(u)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, Request{URL: p, Header: http.Header{"Host": {"xn--\u00e4"}}, MaxBody: 10})
	var perr *Error
	if !errors.As(err, &perr) || perr.Phase != PhaseRequest || perr.Timeout {
		t.Errorf("got %v, want a request-phase failure", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v", el)
	}
}

// Connections that cannot carry another request are not pooled: bytes
// after a HEAD answer, a 101 upgrade, a request saying Connection: close.
func TestDoesNotReuseSpentConnections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    Request
		answer string
	}{
		{"bytes after a HEAD answer", Request{Method: http.MethodHead},
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
		{"101 upgrade", Request{Header: http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}},
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi"},
		{"Connection: close asked", Request{Header: http.Header{"Connection": {"close"}}, MaxBody: 10},
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				first := conns.Add(1) == 1
				for readRequest(br) {
					if first {
						c.Write([]byte(tc.answer))
						first = false
						continue
					}
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
			})
			c := New(Config{MaxConnsPerHost: 1})
			defer c.Close()
			p, _ := url.Parse(u)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			req := tc.req
			req.URL = p
			if _, err := c.Do(ctx, req); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // let trailing bytes arrive
			resp, err := c.Do(ctx, Request{URL: p, MaxBody: 10})
			if err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
				t.Fatalf("the next request: %v, %+v", err, resp)
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// Kept-alive TLS connections survive the idle check between requests.
func TestReusesTLSConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c := New(Config{MaxConnsPerHost: 1, TLS: &tls.Config{RootCAs: certPool(srv)}})
	defer c.Close()
	for i := range 5 {
		resp, err := get(t, c, srv.URL)
		if err != nil || resp.Status != 200 || resp.TLS == nil {
			t.Fatalf("request %d: %v", i, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 requests over TLS opened %d connections, want 1", n)
	}
}

func certPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}
