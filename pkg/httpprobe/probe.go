// Package httpprobe makes one HTTP request the way a monitor needs it:
// every phase timed (DNS, connect, TLS, first byte, body), the body read
// only up to a bound, and a failure that names the phase that failed and
// why. It knows HTTP and TLS, nothing of Nagios.
package httpprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config is how connections are made; one Config becomes one Client and
// one http.Transport shared by every request of a run.
type Config struct {
	// Network is "tcp" (either family), "tcp4" or "tcp6".
	Network string
	// ConnectTo, when set, is where every connection goes instead of the
	// URL's host (check_http's -I): "addr" keeps the URL's port,
	// "addr:port" replaces it. Host header and SNI stay the URL's.
	ConnectTo string
	// Resolve maps "host:port" to "addr" or "addr:port", as curl's
	// --resolve: only connections to that host and port are redirected.
	Resolve map[string]string
	// TLS is the client TLS configuration; nil is Go's default.
	TLS *tls.Config
	// Proxy picks the proxy for a request; nil is none.
	Proxy func(*http.Request) (*url.URL, error)
	// ConnectTimeout bounds one TCP connect; 0 leaves it to the context.
	ConnectTimeout time.Duration
	// MaxConnsPerHost bounds connections to one host; further requests
	// wait for one to be free and reuse it (0: no bound). Fifty URLs on
	// one server then cost a few connections, not fifty.
	MaxConnsPerHost int
	// Jar, when set, gives every request (each hop of a redirect chain
	// too) its cookies and keeps those each response sets.
	Jar http.CookieJar
}

// Client makes probe requests: directly on its own connections (see
// direct.go), or through http.Transport when a proxy is in the way.
type Client struct {
	cfg  Config
	pool pool

	transportOnce sync.Once
	transport     *http.Transport // for proxied requests only
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone() // the transport writes NextProtos into it
	}
	return &Client{cfg: cfg, pool: pool{max: cfg.MaxConnsPerHost}}
}

// proxied returns the Transport that makes proxied requests, made on
// first use: most runs have no proxy and never pay for it.
func (c *Client) proxied() *http.Transport {
	c.transportOnce.Do(func() {
		c.transport = &http.Transport{
			Proxy:               c.cfg.Proxy,
			DialContext:         c.dial,
			TLSClientConfig:     c.cfg.TLS,
			MaxIdleConnsPerHost: 64,
			MaxConnsPerHost:     c.cfg.MaxConnsPerHost,
			DisableCompression:  true, // the body checked is the body sent
		}
	})
	return c.transport
}

// Close releases idle connections.
func (c *Client) Close() {
	c.pool.close()
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// roundTrip sends hreq through its proxy, if the configuration gives it
// one, else directly.
func (c *Client) roundTrip(ctx context.Context, hreq *http.Request) (*http.Response, error) {
	if c.cfg.Proxy != nil {
		proxy, err := c.cfg.Proxy(hreq)
		if err != nil {
			return nil, fmt.Errorf("proxy for %s: %w", hreq.URL.Redacted(), err)
		}
		if proxy != nil {
			return c.proxied().RoundTrip(hreq)
		}
	}
	return c.roundTripDirect(ctx, hreq)
}

type dialKey struct{}

// withDialTo makes connections for requests under ctx go to addr
// (host:port): sticky redirects keep the address of the first hop.
func withDialTo(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, dialKey{}, addr)
}

// Target returns the address a request for host:port connects to.
func (c *Client) Target(ctx context.Context, hostport string) string {
	if to, ok := ctx.Value(dialKey{}).(string); ok && to != "" {
		return to
	}
	if to, ok := c.cfg.Resolve[hostport]; ok {
		return withPort(to, hostport)
	}
	if c.cfg.ConnectTo != "" {
		return withPort(c.cfg.ConnectTo, hostport)
	}
	return hostport
}

// ServerKey names the server a request for u goes to without a proxy:
// its scheme and the address connected to. Requests with one key share
// the Client's MaxConnsPerHost connections.
func (c *Client) ServerKey(u *url.URL) string {
	return serverKey(u.Scheme, c.Target(context.Background(), canonicalAddr(u)))
}

func serverKey(scheme, addr string) string { return scheme + " " + addr }

// withPort gives addr the port of hostport unless it has its own.
func withPort(addr, hostport string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	_, port, _ := net.SplitHostPort(hostport)
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}

func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: c.cfg.ConnectTimeout}
	if network == "tcp" {
		network = c.cfg.Network
	}
	return d.DialContext(ctx, network, c.Target(ctx, addr))
}

// Request is one request to make.
type Request struct {
	Method  string
	URL     *url.URL
	Header  http.Header
	Body    []byte
	MaxBody int64 // bytes of body read at most; 0 reads none
}

// Response is what came back, with its timings.
type Response struct {
	URL        *url.URL
	Status     int
	StatusLine string // "403 Forbidden"
	Proto      string
	Header     http.Header
	Body       []byte
	Truncated  bool // the body was longer than MaxBody and read no further
	Timing     Timing
	TLS        *tls.ConnectionState
	RemoteAddr string // where the connection went (the proxy, with one)
}

// Timing holds the duration of each phase; a phase that did not happen
// (DNS for an address, TLS for http, connect on a reused connection) is 0.
// FirstByte and Total are from the start of the request.
type Timing struct {
	DNS, Connect, TLS, FirstByte, Total time.Duration
}

// Do makes one request and reads the body up to req.MaxBody. Redirects
// are not followed (see Fetch). A failure is an *Error naming the phase.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	tr := newTracer(c, req.URL)
	ctx = httptrace.WithClientTrace(ctx, tr.trace())
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL.String(), body)
	if err != nil {
		return nil, fmt.Errorf("request for %s: %w", req.URL.Redacted(), err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			if strings.EqualFold(k, "Host") {
				hreq.Host = v
				continue
			}
			hreq.Header.Add(k, v)
		}
	}
	if u := req.URL.User; u != nil {
		pw, _ := u.Password()
		hreq.SetBasicAuth(u.Username(), pw)
	}
	if c.cfg.Jar != nil {
		for _, ck := range c.cfg.Jar.Cookies(req.URL) {
			hreq.AddCookie(ck)
		}
	}
	resp, err := c.roundTrip(ctx, hreq)
	if err != nil {
		return nil, tr.fail(ctx, err, nil)
	}
	defer resp.Body.Close()
	if c.cfg.Jar != nil {
		c.cfg.Jar.SetCookies(req.URL, resp.Cookies())
	}
	out := &Response{
		URL:        req.URL,
		Status:     resp.StatusCode,
		StatusLine: statusLine(resp),
		Proto:      resp.Proto,
		Header:     resp.Header,
		TLS:        resp.TLS,
		RemoteAddr: tr.remote(),
	}
	tr.enter(PhaseBody)
	out.Body, out.Truncated, err = readBounded(resp.Body, req.MaxBody)
	out.Timing = tr.timing()
	if err != nil {
		return out, tr.fail(ctx, err, out)
	}
	return out, nil
}

// Unsent is the error of a request to u that never started: the
// deadline passed while it waited for earlier requests to the same
// server, which it reports as waiting for a free connection.
func (c *Client) Unsent(u *url.URL, waited time.Duration, err error) *Error {
	return &Error{
		Phase: PhaseWait, URL: u, Addr: c.Target(context.Background(), canonicalAddr(u)),
		Err: err, Timeout: true, Elapsed: waited, InPhase: waited,
	}
}

// readBounded reads at most max bytes of r, and reports whether there
// was more: a larger body is read no further.
func readBounded(r io.Reader, max int64) ([]byte, bool, error) {
	if max <= 0 {
		return nil, false, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max))
	if err != nil {
		return buf.Bytes(), false, err
	}
	if n < max {
		return buf.Bytes(), false, nil
	}
	var one [1]byte
	m, err := r.Read(one[:])
	if m > 0 {
		return buf.Bytes(), true, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return buf.Bytes(), false, err
	}
	return buf.Bytes(), false, nil
}

func statusLine(resp *http.Response) string {
	// resp.Status is "200 OK" for HTTP/1 and "200 OK" synthesised for h2.
	if s := strings.TrimSpace(resp.Status); s != "" {
		return s
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// tracer records phase times and the phase in progress, so that a
// failure can say which phase did not finish.
type tracer struct {
	client *Client
	url    *url.URL
	start  time.Time

	mu         sync.Mutex
	phase      Phase
	phaseAt    time.Time
	dnsStart   time.Time
	conStart   time.Time
	tlsStart   time.Time
	dns, con   time.Duration
	tls        time.Duration
	firstByte  time.Duration
	addr       string // the address being connected to
	remoteAddr string
}

func newTracer(c *Client, u *url.URL) *tracer {
	now := time.Now()
	return &tracer{client: c, url: u, start: now, phase: PhaseWait, phaseAt: now}
}

func (t *tracer) enter(p Phase) {
	t.mu.Lock()
	t.phase, t.phaseAt = p, time.Now()
	t.mu.Unlock()
}

func (t *tracer) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { t.enter(PhaseWait) },
		DNSStart: func(httptrace.DNSStartInfo) {
			t.mu.Lock()
			t.phase, t.dnsStart = PhaseDNS, time.Now()
			t.phaseAt = t.dnsStart
			t.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			t.mu.Lock()
			t.dns = time.Since(t.dnsStart)
			t.mu.Unlock()
		},
		ConnectStart: func(_, addr string) {
			t.mu.Lock()
			if t.conStart.IsZero() {
				t.conStart = time.Now()
			}
			t.phase, t.phaseAt, t.addr = PhaseConnect, time.Now(), addr
			t.mu.Unlock()
		},
		ConnectDone: func(_, addr string, err error) {
			t.mu.Lock()
			if err == nil {
				t.con = time.Since(t.conStart)
				t.remoteAddr = addr
			}
			t.mu.Unlock()
		},
		TLSHandshakeStart: func() {
			t.mu.Lock()
			t.phase, t.tlsStart = PhaseTLS, time.Now()
			t.phaseAt = t.tlsStart
			t.mu.Unlock()
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			t.mu.Lock()
			t.tls = time.Since(t.tlsStart)
			t.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.mu.Lock()
			t.phase, t.phaseAt = PhaseRequest, time.Now()
			if t.remoteAddr == "" && info.Conn != nil {
				t.remoteAddr = info.Conn.RemoteAddr().String()
			}
			t.mu.Unlock()
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil { // a failed write is still the request's failure
				t.enter(PhaseFirstByte)
			}
		},
		GotFirstResponseByte: func() {
			t.mu.Lock()
			t.firstByte = time.Since(t.start)
			t.phase, t.phaseAt = PhaseHeaders, time.Now()
			t.mu.Unlock()
		},
	}
}

func (t *tracer) remote() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.remoteAddr
}

func (t *tracer) timing() Timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Timing{DNS: t.dns, Connect: t.con, TLS: t.tls, FirstByte: t.firstByte, Total: time.Since(t.start)}
}

// fail turns a transport error into an *Error naming the phase.
func (t *tracer) fail(ctx context.Context, err error, partial *Response) error {
	t.mu.Lock()
	e := &Error{
		Phase:   t.phase,
		URL:     t.url,
		Addr:    t.addr,
		Err:     err,
		Elapsed: time.Since(t.start),
		InPhase: time.Since(t.phaseAt),
	}
	t.mu.Unlock()
	if e.Addr == "" {
		e.Addr = t.client.Target(ctx, canonicalAddr(t.url))
	}
	if partial != nil {
		e.Got = int64(len(partial.Body))
		e.Status = partial.StatusLine
	}
	var ne net.Error
	e.Timeout = errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (errors.As(err, &ne) && ne.Timeout())
	// A dial can fail before ConnectStart (no address of the family).
	var op *net.OpError
	if e.Phase == PhaseWait && errors.As(err, &op) && op.Op == "dial" {
		e.Phase = PhaseConnect
	}
	// A failed lookup can surface as a dial error before DNSDone marks it.
	var dns *net.DNSError
	if errors.As(err, &dns) {
		e.Phase = PhaseDNS
	}
	var tlsRec tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &tlsRec) || errors.As(err, &certErr) || isTLSAlert(err) {
		e.Phase = PhaseTLS
	}
	return e
}

// canonicalAddr is host:port of u with the scheme's default port.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
