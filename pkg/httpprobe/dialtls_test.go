package httpprobe

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Over TLS as in clear, the protocol is negotiated by ALPN, the answer's
// TLS state and handshake time are known, and HTTP/1.x goes through a
// recConn above TLS.
func TestDialTLSProtocols(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	for _, tc := range []struct {
		v      Version
		header http.Header
		proto  string
	}{
		{Auto, nil, "HTTP/2.0"},
		{HTTP2, nil, "HTTP/2.0"},
		{HTTP11, nil, "HTTP/1.1"},
		{HTTP10, nil, "HTTP/1.0"},
		{Auto, http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, "HTTP/1.1"},
	} {
		t.Run(tc.v.String()+tc.header.Get("Upgrade"), func(t *testing.T) {
			c := New(Config{Version: tc.v, TLS: &tls.Config{RootCAs: certPool(srv)}})
			defer c.Close()
			u := mustURL(t, srv.URL)
			resp, err := c.Do(t.Context(), Request{URL: u, Header: tc.header, MaxBody: 100})
			if err != nil {
				t.Fatal(err)
			}
			// A handshake takes milliseconds here (the server signs with
			// RSA); the Transport's replay of one dialTLS made, taken for a
			// second handshake, would leave microseconds.
			if string(resp.Body) != tc.proto || resp.TLS == nil || resp.Timing.TLS < 100*time.Microsecond {
				t.Errorf("server saw %q (want %q), TLS state %v, handshake %v", resp.Body, tc.proto, resp.TLS != nil, resp.Timing.TLS)
			}
		})
	}
}

// A server that sends a status line and closes is accepted over TLS as
// in clear (check_http and check_curl accept it).
func TestStatusLineOnlyOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS() // for its certificate only
	srv.Close()
	cert := srv.TLS.Certificates[0]
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				if readRequest(bufio.NewReader(conn)) {
					conn.Write([]byte("HTTP/1.1 200 OK\r\n"))
				}
			}(conn)
		}
	}()
	c := New(Config{TLS: &tls.Config{InsecureSkipVerify: true}})
	defer c.Close()
	resp, err := c.Do(t.Context(), Request{URL: mustURL(t, "https://"+ln.Addr().String()+"/"), MaxBody: 100})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.TLS == nil || !strings.HasPrefix(resp.Proto, "HTTP/1.1") {
		t.Errorf("got %d %q, TLS state %v: want 200 HTTP/1.1 over TLS", resp.Status, resp.Proto, resp.TLS != nil)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// https through a proxy's CONNECT tunnel: the Transport makes that TLS
// itself (dialTLS is not called for it), HTTP/2 included.
func TestTLSThroughConnectProxy(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	var tunnels atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		w.WriteHeader(http.StatusOK)
		down, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer down.Close()
		tunnels.Add(1)
		go func() {
			io.Copy(up, rw)
			up.Close()
		}()
		io.Copy(down, up)
	}))
	defer proxy.Close()
	pu := mustURL(t, proxy.URL)
	for _, v := range []Version{Auto, HTTP11} {
		t.Run(v.String(), func(t *testing.T) {
			c := New(Config{Version: v, TLS: &tls.Config{RootCAs: certPool(srv)}, Proxy: http.ProxyURL(pu)})
			defer c.Close()
			resp, err := c.Do(t.Context(), Request{URL: mustURL(t, srv.URL), MaxBody: 100})
			if err != nil {
				t.Fatal(err)
			}
			want := map[Version]string{Auto: "HTTP/2.0", HTTP11: "HTTP/1.1"}[v]
			if resp.Status != 200 || string(resp.Body) != want || resp.TLS == nil {
				t.Errorf("got %d %q (want 200 %q), TLS state %v", resp.Status, resp.Body, want, resp.TLS != nil)
			}
		})
	}
	if tunnels.Load() != 2 {
		t.Errorf("%d tunnels, want 2", tunnels.Load())
	}
}

// A TLS 1.3 server that requires a client certificate refuses it after
// the client's handshake has ended: the request may then meet its alert,
// or a closed connection ("broken pipe"), depending on timing. Either way
// the failure is the certificate's, in the TLS phase.
func TestClientCertRequiredWhateverTheTiming(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	for i := 0; i < 20; i++ {
		c := New(Config{Version: HTTP11, TLS: BuildTLS(TLSOptions{RootCAs: certPool(srv)})})
		_, err := c.Do(t.Context(), Request{URL: mustURL(t, srv.URL), MaxBody: 100})
		c.Close()
		var e *Error
		if !errors.As(err, &e) || e.Phase != PhaseTLS || !RefusedClientCert(err) || !strings.Contains(err.Error(), "certificate required") {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

// The tracer's side of it: a closed connection after the server asked
// for a certificate, in any phase after the handshake, is that refusal;
// without the request it stays what it was.
func TestClosedAfterCertAsked(t *testing.T) {
	for _, asked := range []bool{true, false} {
		tr := newTracer(New(Config{}), mustURL(t, "https://127.0.0.1:8443/"))
		tr.addr, tr.phase, tr.certAsked = "127.0.0.1:8443", PhaseRequest, asked
		err := tr.fail(t.Context(), &net.OpError{Op: "write", Err: syscall.EPIPE}, nil)
		var e *Error
		if !errors.As(err, &e) || (e.Phase == PhaseTLS) != asked || RefusedClientCert(err) != asked {
			t.Errorf("asked %v: %v (phase %v)", asked, err, e.Phase)
		}
	}
}
