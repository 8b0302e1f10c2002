// Package httpprobe makes one HTTP request the way a monitor needs it:
// every phase timed (DNS, connect, TLS, first byte, body), the body read
// only up to a bound, and a failure that names the phase that failed and
// why. It knows HTTP and TLS, nothing of Nagios.
package httpprobe

import (
	"bufio"
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
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
)

// Config is how connections are made; one Config becomes one Client and
// one http.Transport shared by every request of a run, proxied or not.
type Config struct {
	// Network is "tcp" (either family), "tcp4" or "tcp6".
	Network string
	// Resolve maps "host:port" to "addr" or "addr:port", as curl's
	// --resolve (and check_http's -I, for the URL's own host and port):
	// only connections to that host and port go there ("addr" keeps the
	// port), so a redirect to another host is resolved as usual. Host
	// header and SNI stay the URL's. Through a proxy it never moves the
	// connection to the proxy: an https request through an http:// proxy
	// asks the proxy for a tunnel to this address; a plain-http or SOCKS
	// proxy reaches the URL's host, which is the proxy's business.
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
	// Version is the HTTP version spoken: Auto (HTTP/2 when the server
	// offers it by ALPN, else HTTP/1.1), or one forced.
	Version Version
	// Jar, when set, gives every request (each hop of a redirect chain
	// too) its cookies and keeps those each response sets.
	Jar http.CookieJar
}

// MaxHeaderBytes bounds a response header: a server sending an endless
// header is an error once it has sent this much, not a run out of
// memory. curl allows 300 KiB; 1 MiB leaves room for big cookies.
const MaxHeaderBytes = 1 << 20

// Client makes probe requests, all through one http.Transport: the same
// connection reuse, retry and limits whether a proxy is in the way or
// not. A sticky redirect hop, which must connect elsewhere than its URL
// says, gets a Transport of its own so that its connections are never
// reused for requests that go where their URL says.
type Client struct {
	cfg Config

	mu     sync.Mutex
	main   *http.Transport
	sticky map[string]*http.Transport // by the address stuck to
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone() // the transport writes NextProtos into it
	}
	if cfg.Resolve != nil {
		// Host names are matched in any case, as curl's --resolve does:
		// a redirect to MYHOST is the same host as myhost.
		lower := make(map[string]string, len(cfg.Resolve))
		for hp, to := range cfg.Resolve {
			lower[strings.ToLower(hp)] = to
		}
		cfg.Resolve = lower
	}
	c := &Client{cfg: cfg}
	c.main = c.newTransport()
	return c
}

// newTransport makes a Transport for this Client's configuration.
func (c *Client) newTransport() *http.Transport {
	t := &http.Transport{
		DialContext:            c.dial,
		TLSClientConfig:        c.cfg.TLS,
		MaxIdleConnsPerHost:    64,
		MaxConnsPerHost:        c.cfg.MaxConnsPerHost,
		MaxResponseHeaderBytes: MaxHeaderBytes,
		DisableCompression:     true, // the body checked is the body sent
		ForceAttemptHTTP2:      true, // a custom dialer and TLS config would turn ALPN h2 off
		// The CONNECT to a proxy is timed and worded as the proxy's.
		GetProxyConnectHeader:  proxyConnectStart,
		OnProxyConnectResponse: proxyConnectDone,
	}
	if c.cfg.Proxy != nil {
		t.Proxy = c.transportProxy
	}
	c.cfg.Version.apply(t, c)
	return t
}

// transportProxy is the proxy the Transport speaks to: none for a
// request that dial tunnels itself.
func (c *Client) transportProxy(r *http.Request) (*url.URL, error) {
	if tr, ok := r.Context().Value(tracerKey{}).(*tracer); ok && tr.via != nil {
		return nil, nil
	}
	return c.cfg.Proxy(r)
}

// transport returns the Transport for requests under ctx.
func (c *Client) transport(ctx context.Context) *http.Transport {
	to, ok := ctx.Value(dialKey{}).(string)
	if !ok || to == "" {
		return c.main
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sticky == nil {
		c.sticky = map[string]*http.Transport{}
	}
	if c.sticky[to] == nil {
		c.sticky[to] = c.newTransport()
	}
	return c.sticky[to]
}

// Close releases idle connections.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.main.CloseIdleConnections()
	for _, t := range c.sticky {
		t.CloseIdleConnections()
	}
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
	if to, ok := c.cfg.Resolve[strings.ToLower(hostport)]; ok {
		return withPort(to, hostport)
	}
	return hostport
}

// withPort gives addr the port of hostport unless it has its own.
func withPort(addr, hostport string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	_, port, _ := net.SplitHostPort(hostport)
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}

// dial is the Transport's dialer: the address override (-I, --resolve,
// a sticky hop) happens here, below HTTP, so Host and SNI stay the URL's.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dialRaw(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return c.cfg.Version.wrap(conn), nil
}

// dialRaw connects for a request to addr: where the address override
// sends it; through the proxy's tunnel when the request tunnels itself
// (an override through an http:// proxy); to addr as it is when the
// Transport speaks to a proxy, since it dials only the proxy then.
func (c *Client) dialRaw(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: c.cfg.ConnectTimeout}
	if network == "tcp" {
		network = c.cfg.Network
	}
	tr, _ := ctx.Value(tracerKey{}).(*tracer)
	switch {
	case tr != nil && tr.via != nil:
		to := c.Target(ctx, addr)
		tr.setTunnel(to)
		conn, err := netproxy.Dial(ctx, d, network, tr.via, to)
		if err == nil {
			tr.setTunnel("")
		}
		return conn, err
	case tr != nil && tr.proxy != "":
		return d.DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, c.Target(ctx, addr))
}

// ErrHTTP10Proxy is an https request in HTTP/1.0 through a proxy whose
// tunnel net/http makes itself (https:// or SOCKS): the TLS inside it is
// net/http's, which writes HTTP/1.1 request lines only.
var ErrHTTP10Proxy = errors.New("HTTP/1.0 cannot be spoken")

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
	Proto      string // "HTTP/1.1"; "HTTP/2" as curl writes it (net/http says "HTTP/2.0")
	Header     http.Header
	Body       []byte
	Truncated  bool // the body was longer than MaxBody and read no further
	Timing     Timing
	TLS        *tls.ConnectionState
	RemoteAddr string // where the connection went (the proxy, with one)
	proxied    bool   // the request went through a proxy
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
	tr.ctx = ctx
	hreq, err := c.newRequest(httptrace.WithClientTrace(context.WithValue(ctx, tracerKey{}, tr), tr.trace()), req)
	if err != nil {
		return nil, err
	}
	if requiresHTTP1(hreq.Header) {
		hreq = hreq.WithContext(context.WithValue(hreq.Context(), h1OnlyKey{}, true))
	}
	if c.cfg.Proxy != nil {
		p, err := c.cfg.Proxy(hreq)
		if err != nil {
			return nil, err // the picker's own words: it names its source
		}
		if p != nil {
			tr.proxy, tr.proxyTLS = p.Hostname(), p.Scheme == "https"
			tr.proxySOCKS = strings.HasPrefix(p.Scheme, "socks")
			// Where an overridden address is asked of the proxy, as -C
			// does: the Transport's CONNECT names the URL's host only.
			hostport := CanonicalAddr(req.URL)
			tunnel := req.URL.Scheme == "https" && p.Scheme == "http"
			if tunnel && (c.Target(ctx, hostport) != hostport || c.cfg.Version == HTTP10) {
				// Tunnelled here, TLS is made by dialTLS: an HTTP/1.0
				// request line can only be written above it.
				tr.via = p
			}
			if req.URL.Scheme == "https" && !tunnel && c.cfg.Version == HTTP10 {
				return nil, fmt.Errorf("%w: https through a %s:// proxy", ErrHTTP10Proxy, p.Scheme)
			}
		}
	}
	if err := expired(ctx); err != nil {
		return nil, tr.fail(ctx, err, nil) // no connection must win over a passed deadline
	}
	resp, err := c.transport(ctx).RoundTrip(hreq)
	if err != nil {
		if out := tr.statusLineOnly(req.URL, err); out != nil {
			return out, nil
		}
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
		Proto:      proto(resp),
		Header:     responseHeader(resp),
		TLS:        resp.TLS,
		RemoteAddr: tr.remote(),
		proxied:    tr.proxy != "",
	}
	if out.TLS == nil {
		out.TLS = tr.connTLS()
	}
	tr.enter(PhaseBody)
	if resp.StatusCode != http.StatusSwitchingProtocols { // after a 101 the connection speaks another protocol
		out.Body, out.Truncated, err = readBounded(resp.Body, req.MaxBody)
	}
	out.Timing = tr.timing()
	if err != nil {
		return out, tr.fail(ctx, err, out)
	}
	return out, nil
}

// newRequest makes the net/http request of req: the method as given
// (methods are case-sensitive), Host from the header, credentials of
// the URL as basic authentication.
func (c *Client) newRequest(ctx context.Context, req Request) (*http.Request, error) {
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
	// -k 'Connection: close': the server will close after its answer, so
	// the connection is not kept for the next request.
	hreq.Close = asksToClose(hreq.Header)
	if c.cfg.Jar != nil {
		for _, ck := range c.cfg.Jar.Cookies(req.URL) {
			hreq.AddCookie(ck)
		}
	}
	return hreq, nil
}

// requiresHTTP1 is net/http's test for a request that must not go over
// HTTP/2 (a websocket upgrade): dialTLS offers such a request HTTP/1.1 only.
func requiresHTTP1(h http.Header) bool {
	for _, token := range strings.Split(h.Get("Connection"), ",") {
		if strings.EqualFold(strings.TrimSpace(token), "upgrade") {
			return strings.EqualFold(h.Get("Upgrade"), "websocket")
		}
	}
	return false
}

// asksToClose reports a "Connection: close" among the request headers.
func asksToClose(h http.Header) bool {
	for _, v := range h["Connection"] {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "close") {
				return true
			}
		}
	}
	return false
}

// responseHeader is the header as the server sent it: net/http moves
// Transfer-Encoding out of the header map, and a check may ask for it.
func responseHeader(resp *http.Response) http.Header {
	h := resp.Header
	if len(resp.TransferEncoding) > 0 && h.Get("Transfer-Encoding") == "" {
		h = h.Clone()
		h.Set("Transfer-Encoding", strings.Join(resp.TransferEncoding, ", "))
	}
	return h
}

// expired returns the context's error once it is done or its deadline
// has passed: a timer can fire a moment after the deadline.
func expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// readBounded reads at most max bytes of r, and reports whether there
// was more: a larger body is read no further. The buffer grows by
// doubling but never past max, so an endless body costs max bytes (and
// the garbage of the smaller buffers), not twice as much.
func readBounded(r io.Reader, max int64) ([]byte, bool, error) {
	if max <= 0 {
		return nil, false, nil
	}
	buf := make([]byte, 0, min(max, 32<<10))
	for int64(len(buf)) < max {
		if len(buf) == cap(buf) {
			next := make([]byte, len(buf), min(2*int64(cap(buf)), max))
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
	var one [1]byte
	for {
		m, err := r.Read(one[:])
		if m > 0 {
			return buf, true, nil
		}
		if errors.Is(err, io.EOF) {
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}

// proto is the version of resp as curl names it: "HTTP/2", not
// net/http's "HTTP/2.0".
func proto(resp *http.Response) string {
	if resp.ProtoMajor == 2 {
		return "HTTP/2"
	}
	return resp.Proto
}

// Head is the status line as curl shows it: "HTTP/1.1 403 Forbidden";
// for HTTP/2, which has no reason phrase, "HTTP/2 403".
func (r *Response) Head() string {
	if r.Proto == "HTTP/2" {
		return fmt.Sprintf("%s %d", r.Proto, r.Status)
	}
	return r.Proto + " " + r.StatusLine
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
	proxy  string   // the proxy's host, when the request goes through one
	via    *url.URL // the http:// proxy dial tunnels through itself, if any
	// proxyTLS: the proxy is an https:// one, so a handshake before its
	// tunnel is up is the proxy's own.
	proxyTLS bool
	// proxySOCKS: the proxy is a SOCKS one, whose handshake follows the
	// connect in the same phase.
	proxySOCKS bool
	ctx        context.Context // the request's: a dial the Transport starts for it after its end is not its phase

	mu         sync.Mutex
	phase      Phase
	phaseAt    time.Time
	getConnAt  time.Time
	waited     time.Duration // for a free connection: not the request's own time
	waitDone   bool
	dnsStart   time.Time
	conStart   time.Time
	tlsStart   time.Time
	dns, con   time.Duration
	tls        time.Duration
	firstByte  time.Duration
	addr       string // the address being connected to
	remoteAddr string
	conn       net.Conn // the connection the request went on
	tunnel     string   // host:port asked of the proxy while its CONNECT is unanswered
	tunnelUp   bool     // the proxy answered CONNECT: TLS from now on is the target's
	certAsked  bool     // the server asked for a client certificate, and got none
	tlsReplay  bool     // the Transport is about to report again a handshake dialTLS made
}

type tracerKey struct{}

// setTunnel notes the host:port asked of the proxy while its CONNECT is
// unanswered; "" once answered.
func (t *tracer) setTunnel(target string) {
	t.mu.Lock()
	t.tunnel = target
	t.mu.Unlock()
}

// proxyConnectStart notes that the proxy is asked for a tunnel, for a
// failure to be the proxy's: the dial's context is the request's.
func proxyConnectStart(ctx context.Context, _ *url.URL, target string) (http.Header, error) {
	if t, ok := ctx.Value(tracerKey{}).(*tracer); ok && !t.late() {
		t.mu.Lock()
		t.tunnel, t.phase, t.phaseAt = target, PhaseConnect, time.Now()
		t.mu.Unlock()
	}
	return nil, nil
}

// proxyConnectDone ends the CONNECT: a refusal keeps the proxy's status.
func proxyConnectDone(ctx context.Context, _ *url.URL, req *http.Request, resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return &TunnelRefused{Status: statusLine(resp)}
	}
	if t, ok := ctx.Value(tracerKey{}).(*tracer); ok {
		t.mu.Lock()
		t.tunnel, t.tunnelUp = "", true
		t.mu.Unlock()
	}
	return nil
}

// replayTLS notes that the next handshake reported is one already timed.
func (t *tracer) replayTLS() {
	t.mu.Lock()
	t.tlsReplay = true
	t.mu.Unlock()
}

func newTracer(c *Client, u *url.URL) *tracer {
	now := time.Now()
	return &tracer{client: c, url: u, start: now, phase: PhaseWait, phaseAt: now, getConnAt: now}
}

func (t *tracer) enter(p Phase) {
	t.mu.Lock()
	t.phase, t.phaseAt = p, time.Now()
	t.mu.Unlock()
}

// late reports a hook called after the request ended: the Transport
// dials for a request that waited for a free connection even when its
// deadline has just passed, and that dial is not what the request was
// doing when it ended.
func (t *tracer) late() bool { return t.ctx != nil && t.ctx.Err() != nil }

// endWait marks the end of the wait for a connection; t.mu is held.
func (t *tracer) endWait(now time.Time) {
	if !t.waitDone {
		t.waitDone = true
		t.waited = now.Sub(t.getConnAt)
	}
}

func (t *tracer) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			t.mu.Lock()
			t.phase, t.phaseAt = PhaseWait, time.Now()
			if !t.waitDone {
				t.getConnAt = t.phaseAt
			}
			t.mu.Unlock()
		},
		DNSStart: func(httptrace.DNSStartInfo) {
			if t.late() {
				return
			}
			t.mu.Lock()
			t.phase, t.dnsStart = PhaseDNS, time.Now()
			t.phaseAt = t.dnsStart
			t.endWait(t.dnsStart)
			t.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			t.mu.Lock()
			t.dns = time.Since(t.dnsStart)
			t.mu.Unlock()
		},
		ConnectStart: func(_, addr string) {
			if t.late() {
				return
			}
			t.mu.Lock()
			now := time.Now()
			if t.conStart.IsZero() {
				t.conStart = now
			}
			t.endWait(now)
			t.phase, t.phaseAt, t.addr = PhaseConnect, now, addr
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
			if t.late() {
				return
			}
			t.mu.Lock()
			if t.tlsReplay {
				t.mu.Unlock()
				return
			}
			t.phase, t.tlsStart = PhaseTLS, time.Now()
			t.phaseAt = t.tlsStart
			t.mu.Unlock()
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			t.mu.Lock()
			if t.tlsReplay {
				t.tlsReplay = false
				t.mu.Unlock()
				return
			}
			t.tls = time.Since(t.tlsStart)
			t.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.mu.Lock()
			t.phase, t.phaseAt = PhaseRequest, time.Now()
			t.endWait(t.phaseAt)
			t.conn = info.Conn
			if info.Conn != nil {
				if t.remoteAddr == "" || info.Reused {
					t.remoteAddr = info.Conn.RemoteAddr().String()
				}
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
			t.firstByte = time.Since(t.start) - t.waited
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

// head returns the start of the answer read on the request's connection
// when it can be seen: HTTP/1.x, plain or over TLS made by dialTLS; not
// HTTP/2, nor TLS the Transport made in a proxy's tunnel.
func (t *tracer) head() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rc, ok := t.conn.(*recConn); ok {
		return rc.answerHead()
	}
	return nil
}

// connTLS is the TLS state of a connection the Transport did not
// handshake itself (HTTP/1.x over TLS made by dialTLS).
func (t *tracer) connTLS() *tls.ConnectionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rc, ok := t.conn.(*recConn); ok {
		return rc.connectionState()
	}
	return nil
}

func (t *tracer) timing() Timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Timing{DNS: t.dns, Connect: t.con, TLS: t.tls, FirstByte: t.firstByte, Total: time.Since(t.start) - t.waited}
}

// statusLineOnly is the answer of a server that sent a status line and
// closed the connection, without a header: check_http and check_curl
// accept it, and so does this. nil when err is anything else.
func (t *tracer) statusLineOnly(u *url.URL, err error) *Response {
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	line, ok := statusLineIn(t.head())
	if !ok {
		return nil
	}
	resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(line+"\r\n\r\n")), nil)
	if rerr != nil {
		return nil
	}
	resp.Body.Close()
	return &Response{
		URL: u, Status: resp.StatusCode, StatusLine: statusLine(resp), Proto: proto(resp),
		Header: http.Header{}, RemoteAddr: t.remote(), Timing: t.timing(), TLS: t.connTLS(),
		proxied: t.proxy != "",
	}
}

// statusLineIn returns head as a status line when it is one line, the
// end of the answer: "HTTP/1.1 200 OK" with or without its CRLF.
func statusLineIn(head []byte) (string, bool) {
	line := strings.TrimRight(string(head), "\r\n")
	if !strings.HasPrefix(line, "HTTP/") || strings.ContainsAny(line, "\r\n") || len(head) >= recHead {
		return "", false
	}
	return line, true
}

// fail turns a transport error into an *Error naming the phase.
func (t *tracer) fail(ctx context.Context, err error, partial *Response) error {
	err = t.h2Cause(err)
	if t.answeredHTTP1(err) {
		err = fmt.Errorf("%w (%w)", ErrNoH2C, err)
	}
	t.mu.Lock()
	phase := t.phase
	t.mu.Unlock()
	if expired(ctx) == nil && (phase == PhaseFirstByte || phase == PhaseHeaders) {
		err = h2Reason(err)
	}
	t.mu.Lock()
	e := &Error{
		Phase:   t.phase,
		URL:     t.url,
		Addr:    t.addr,
		Err:     err,
		Elapsed: time.Since(t.start),
		InPhase: time.Since(t.phaseAt),
		Waited:  t.waited,
		Proxy:   t.proxy,
	}
	if t.remoteAddr != "" { // connected to the proxy: its CONNECT (or SOCKS handshake) failed
		e.Tunnel = t.tunnel
		e.SOCKS = t.proxySOCKS
	}
	if t.certAsked && (e.Phase == PhaseRequest || e.Phase == PhaseFirstByte || e.Phase == PhaseHeaders) && closedByPeer(err) {
		e.Phase, e.Err = PhaseTLS, ErrClientCertRequired
	}
	// Through a proxy, TLS is the target's in a tunnel (CONNECT answered,
	// or dialled by us), and always through an http:// or SOCKS proxy,
	// which speak no TLS themselves.
	e.TLSWithTarget = t.proxy != "" && (!t.proxyTLS || t.tunnelUp || t.via != nil)
	t.mu.Unlock()
	if e.Phase == PhaseHeaders {
		e.Head = strings.TrimRight(printable(t.head()), "\r\n")
	}
	if e.Addr == "" {
		e.Addr = t.client.Target(ctx, CanonicalAddr(t.url))
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

// answeredHTTP1 reports an HTTP/2 error on a connection whose server
// answered in HTTP/1 (h2c to a server without it). Which error the
// Transport returns, and in which phase, depends on timing ("frame too
// large ... looked like an HTTP/1.1 header", or "client conn could not
// be established"); the bytes received say it either way.
func (t *tracer) answeredHTTP1(err error) bool {
	if err == nil || errors.Is(err, ErrNoH2C) || !strings.Contains(err.Error(), "http2:") {
		return false
	}
	return strings.Contains(err.Error(), "looked like an HTTP/1.1 header") || bytes.HasPrefix(t.head(), []byte("HTTP/1."))
}

// h2Cause finds why a TLS connection died as the request was sent: with
// TLS 1.3 a server refusing the client certificate says so after the
// handshake, and HTTP/2, which writes first, then reports only a broken
// pipe or "could not be established", while the TLS connection still
// holds the alert that ended it.
func (t *tracer) h2Cause(err error) error {
	if err == nil || !(strings.Contains(err.Error(), "http2: client conn could not be established") ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return err
	}
	t.mu.Lock()
	conn := t.conn
	t.mu.Unlock()
	if rc, ok := conn.(*recConn); ok { // HTTP/1.x over TLS made by dialTLS
		conn = rc.Conn
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return err
	}
	tc.SetReadDeadline(time.Now().Add(time.Millisecond)) // closed already: returns at once
	var one [1]byte
	if _, rerr := tc.Read(one[:]); isTLSAlert(rerr) {
		return rerr
	}
	return err
}

// CanonicalAddr is host:port of u with the scheme's default port: where
// a request for u connects, and the key of a Resolve entry.
func CanonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// printable is b with bytes that are not printable ASCII as ".", for
// quoting what a server sent.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\r' && r != '\n' || r > 0x7e {
			return '.'
		}
		return r
	}, string(b))
}
