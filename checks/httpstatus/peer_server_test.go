package httpstatus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The daemon of monitoring-plugins' plugins/tests/check_curl.t and
// check_http.t (an HTTP::Daemon), re-created in Go with what its answers
// look like on the wire where that matters: /method answers with a bare
// status line and closes, /header_broken_check sends a header its
// parser must survive, /timeout never answers.

// peerRoot stands for the peers' plugins/tests/var/root file.
const peerRoot = "Root file of the peers' test daemon: /file/root.\n"

func peerMux(base func() string) *http.ServeMux {
	mux := http.NewServeMux()
	get := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			http.Error(w, "unknown url path:"+r.URL.Path, http.StatusForbidden)
			return false
		}
		return true
	}
	mux.HandleFunc("/statuscode/{code}", func(w http.ResponseWriter, r *http.Request) {
		if code, err := strconv.Atoi(r.PathValue("code")); get(w, r) && err == nil {
			w.WriteHeader(code)
		}
	})
	mux.HandleFunc("/file/root", func(w http.ResponseWriter, r *http.Request) {
		if get(w, r) {
			io.WriteString(w, peerRoot)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if get(w, r) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(time.Second)
			io.WriteString(w, "slow")
		}
	})
	mux.HandleFunc("/method", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "DELETE":
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		case "foo":
			http.Error(w, "Not Implemented", http.StatusNotImplemented)
		default: // send_status_line(200, METHOD), then close: no headers, no blank line
			raw(w, "HTTP/1.1 200 "+r.Method+"\r\n")
		}
	})
	mux.HandleFunc("/postdata", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+":"+string(body))
	})
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { // send_redirect: 301, absolute Location
			w.Header().Set("Location", resolve(base(), to))
			w.WriteHeader(http.StatusMovedPermanently)
		}
	}
	mux.HandleFunc("/redirect", redirect("/redirect2"))
	mux.HandleFunc("/redir_timeout", redirect("/timeout"))
	mux.HandleFunc("/redir_external", func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		redirect(scheme+"://169.254.169.254/redirect2")(w, r)
	})
	// Not a route of the peers' daemon: a Location on another host name,
	// same port, for the semantics of -I with -f (see peerCases).
	mux.HandleFunc("/redir_other_host", func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(r.Host)
		redirect(scheme+"://other.invalid:"+port+"/redirect2")(w, r)
	})
	mux.HandleFunc("/redirect2", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "redirected") })
	mux.HandleFunc("/redirect_rel", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/redirect2")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "moved to /redirect2")
	})
	mux.HandleFunc("/timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/header_check", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["foo"] = []string{""} // send_header('foo'): "foo: "
	})
	mux.HandleFunc("/header_broken_check", func(w http.ResponseWriter, r *http.Request) {
		raw(w, "HTTP/1.1 200 OK\r\nfoo: \r\nTest1:: broken\n Test2: leading whitespace\n\r\n")
	})
	mux.HandleFunc("/virtual_port", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []string{"chunked", "encoding", "test\n"} {
			time.Sleep(100 * time.Millisecond) // the peer sleeps 1s per chunk
			io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/redirect_with_increment") { // a prefix, ;parameters and all
			incrementRedirect(w, r, base())
			return
		}
		http.Error(w, "unknown url path:"+r.URL.Path, http.StatusForbidden)
	})
	return mux
}

// raw writes s as the whole answer and closes the connection.
func raw(w http.ResponseWriter, s string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.WriteString(s)
	buf.Flush()
	conn.Close()
}

func resolve(base, ref string) string {
	b, _ := url.Parse(base)
	r, err := url.Parse(ref)
	if err != nil {
		return base
	}
	return b.ResolveReference(r).String()
}

var beforeParams = regexp.MustCompile(`^([^;]*)(?:;(.*))?\?`)

// incrementRedirect is the peer's /redirect_with_increment: every value
// of the path's ;parameters and of the query is incremented (numbers by
// one, text letter by letter), and the client sent on; redirect_count=3
// answers 200, fail_count=3 403, a ;fragment= parameter becomes the
// fragment.
func incrementRedirect(w http.ResponseWriter, r *http.Request, base string) {
	uri := r.URL.RequestURI()
	before, params := "", ""
	if m := beforeParams.FindStringSubmatch(uri); m != nil {
		before, params = m[1], m[2]
	}
	type pair struct{ k, v string }
	var ps []pair
	for _, p := range strings.Split(strings.TrimRight(params, ";"), ";") {
		if p != "" {
			k, v, _ := strings.Cut(p, "=")
			ps = append(ps, pair{k, increment(v)})
		}
	}
	var qs []string
	if _, q, ok := strings.Cut(uri, "?"); ok {
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			qs = append(qs, k+"="+increment(v))
		}
	}
	next, frag := before, ""
	for _, p := range ps {
		next += ";" + p.k + "=" + p.v
		if p.k == "fragment" {
			frag = p.v
		}
	}
	if len(qs) > 0 {
		next += "?" + strings.Join(qs, "&")
	}
	if frag != "" {
		next += "#" + frag
	}
	switch {
	case strings.Contains(next, "fail_count=3"):
		http.Error(w, "fail count reached 3, url path:"+r.URL.Path, http.StatusForbidden)
	case strings.Contains(next, "redirect_count=3"):
		io.WriteString(w, "new_uri: "+next+"\n")
	default:
		w.Header().Set("Location", resolve(base, next))
		w.WriteHeader(http.StatusMovedPermanently)
		io.WriteString(w, "new_uri: "+next+"\n")
	}
}

func increment(v string) string {
	if n, err := strconv.Atoi(v); err == nil {
		return strconv.Itoa(n + 1)
	}
	b := []byte(v)
	for i := range b {
		b[i]++
	}
	return string(b)
}

// peerServers are the peers' three daemons: http, https, and https with
// an expired certificate (both self-signed, as the peers').
type peerServers struct {
	http, https, expired int // ports on 127.0.0.1
}

func startPeerServers(t *testing.T) peerServers {
	t.Helper()
	pki := newPKI(t)
	now := time.Now()
	good, _, _ := pki.leaf(t, "peer", []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(3650*24*time.Hour), true, x509.ExtKeyUsageServerAuth)
	old, _, _ := pki.leaf(t, "peer-expired", []string{"localhost"}, now.Add(-400*24*time.Hour), now.Add(-399*24*time.Hour), true, x509.ExtKeyUsageServerAuth)
	var s peerServers
	s.http = servePeer(t, nil)
	s.https = servePeer(t, &tls.Config{Certificates: []tls.Certificate{good}})
	s.expired = servePeer(t, &tls.Config{Certificates: []tls.Certificate{old}})
	return s
}

func servePeer(t *testing.T, cfg *tls.Config) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	scheme := "http"
	if cfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, cfg)
	}
	base := fmt.Sprintf("%s://127.0.0.1:%d/", scheme, port)
	srv := &http.Server{Handler: peerMux(func() string { return base }), ErrorLog: nilLogger(),
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}} // HTTP/1.1 only, as HTTP::Daemon
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return port
}
