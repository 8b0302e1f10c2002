package httpprobe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A request that needs no proxy is made here, on the caller's goroutine:
// dial, handshake, write with Request.Write, read with http.ReadResponse.
// http.Transport does the same work through a dialing goroutine and a
// read and a write loop per connection, which costs a plugin that makes
// one request and exits about a fifth of its run (issue 4's benchmark
// against check_http). Proxied requests still go through the Transport,
// which speaks every proxy protocol.

// conn is one connection to a server, with its buffers.
type conn struct {
	net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	cw     *connWriter
	tls    *tls.ConnectionState
	reused bool
	stop   func() bool // ends the cancellation hook of the request in flight
}

// pool holds the connections of one Client: per target, at most
// Config.MaxConnsPerHost open, idle ones kept for the next request.
type pool struct {
	max   int
	mu    sync.Mutex
	hosts map[string]chan *conn
}

// slots returns the channel of tokens for key. It holds max tokens: nil
// is leave to dial a connection, a *conn an idle one. Taking a token is
// taking one of the host's connections; giving it back frees it.
func (p *pool) slots(key string) chan *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.hosts[key]
	if ch == nil {
		if p.hosts == nil {
			p.hosts = map[string]chan *conn{}
		}
		ch = make(chan *conn, p.max)
		for range p.max {
			ch <- nil
		}
		p.hosts[key] = ch
	}
	return ch
}

// take waits for a connection to key, or leave to dial one (nil).
func (p *pool) take(ctx context.Context, key string) (*conn, error) {
	if p.max <= 0 {
		return nil, nil
	}
	if err := Expired(ctx); err != nil {
		return nil, err // a free connection must not win over a passed deadline
	}
	select {
	case c := <-p.slots(key):
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// give returns a token: c to reuse, or nil when the connection is gone.
func (p *pool) give(key string, c *conn) {
	if p.max <= 0 {
		if c != nil {
			c.Close()
		}
		return
	}
	if c != nil {
		c.reused = true
	}
	p.slots(key) <- c
}

// close closes the idle connections; no request may be in flight.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range p.hosts {
		for len(ch) > 0 {
			if c := <-ch; c != nil {
				c.Close()
			}
		}
	}
}

// roundTripDirect sends hreq to its server without a proxy and returns
// the response; its body returns the connection to the pool when read to
// the end and closed, and closes it otherwise.
func (c *Client) roundTripDirect(ctx context.Context, hreq *http.Request) (*http.Response, error) {
	trace := httptrace.ContextClientTrace(ctx)
	addr := c.Target(ctx, canonicalAddr(hreq.URL))
	key := serverKey(hreq.URL.Scheme, addr) // as ServerKey, with a sticky hop's address
	for attempt := 0; ; attempt++ {
		if trace != nil && trace.GetConn != nil {
			trace.GetConn(addr) // a retry waits for a connection again
		}
		pc, err := c.pool.take(ctx, key)
		if err != nil {
			return nil, err
		}
		if pc != nil && !pc.idle() {
			pc.Close() // closed by the server, or sent bytes nobody asked for
			pc = nil
		}
		if pc == nil {
			if pc, err = c.dialDirect(ctx, hreq, addr); err != nil {
				c.pool.give(key, nil)
				return nil, err
			}
		}
		if trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: pc.Conn, Reused: pc.reused})
		}
		resp, answered, err := c.exchange(ctx, pc, hreq, trace)
		if err == nil {
			resp.Body = &connBody{ReadCloser: resp.Body, pc: pc, key: key, pool: &c.pool,
				keep: reusable(hreq, resp), eof: resp.Body == http.NoBody}
			return resp, nil
		}
		pc.stop()
		pc.Close()
		c.pool.give(key, nil)
		// A kept-alive connection the server closed meanwhile fails before
		// any answer; the request goes again on a new connection when that
		// cannot do harm, by the Transport's rules.
		if !pc.reused || attempt > 0 || answered || !isStale(err) || !retryable(hreq, pc.cw.n == 0) {
			return nil, err
		}
	}
}

// reusable reports whether the connection can carry another request
// after resp has been read to its end.
func reusable(hreq *http.Request, resp *http.Response) bool {
	return !resp.Close && !hreq.Close && resp.StatusCode != http.StatusSwitchingProtocols &&
		!asksToClose(hreq.Header)
}

// asksToClose reports a "Connection: close" among the request headers
// (-k 'Connection: close'): the server will close after its answer.
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

// retryable reports whether hreq may be sent again on a new connection:
// when none of it was written, or when it is idempotent (GET, HEAD,
// OPTIONS, TRACE, or an Idempotency-Key), and its body can be replayed.
func retryable(hreq *http.Request, nothingWritten bool) bool {
	if !nothingWritten {
		switch hreq.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		default:
			if hreq.Header.Get("Idempotency-Key") == "" && hreq.Header.Get("X-Idempotency-Key") == "" {
				return false
			}
		}
	}
	return replayable(hreq)
}

// replayable reports whether hreq can be sent again: its body, if any,
// can be produced anew.
func replayable(hreq *http.Request) bool {
	if hreq.Body == nil || hreq.Body == http.NoBody {
		return true
	}
	if hreq.GetBody == nil {
		return false
	}
	body, err := hreq.GetBody()
	if err != nil {
		return false
	}
	hreq.Body = body
	return true
}

// dialDirect connects to addr and, for https, completes the handshake;
// the trace hooks in ctx see DNS and connect (from net) and TLS.
func (c *Client) dialDirect(ctx context.Context, hreq *http.Request, addr string) (*conn, error) {
	d := net.Dialer{Timeout: c.cfg.ConnectTimeout}
	raw, err := d.DialContext(ctx, c.cfg.Network, addr)
	if err != nil {
		return nil, err
	}
	pc := &conn{Conn: raw}
	if hreq.URL.Scheme == "https" {
		tc, state, err := c.handshake(ctx, raw, hreq.URL.Hostname())
		if err != nil {
			raw.Close()
			return nil, err
		}
		pc.Conn, pc.tls = tc, state
	}
	pc.cw = &connWriter{Conn: pc.Conn}
	pc.br = bufio.NewReader(pc.Conn)
	pc.bw = bufio.NewWriter(pc.cw)
	return pc, nil
}

// connWriter keeps the error of a failed write: Request.Write reports a
// failure while copying the body as a body read error that does not
// unwrap, but our bodies are in memory and never fail to read.
type connWriter struct {
	net.Conn
	n   int64 // bytes written by the request in flight
	err error
}

func (w *connWriter) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// idle reports whether an idle connection can be used: nothing arrived
// on it since its last answer, and the server has not closed it. One
// read that cannot wait tells.
func (pc *conn) idle() bool {
	if pc.br.Buffered() > 0 {
		return false
	}
	pc.SetReadDeadline(time.Unix(1, 0))
	_, err := pc.br.Peek(1)
	pc.SetReadDeadline(time.Time{})
	return isTimeout(err)
}

func (c *Client) handshake(ctx context.Context, raw net.Conn, host string) (*tls.Conn, *tls.ConnectionState, error) {
	cfg := c.cfg.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	tc := tls.Client(raw, cfg)
	err := tc.HandshakeContext(ctx)
	state := tc.ConnectionState()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(state, err)
	}
	if err != nil {
		return nil, nil, err
	}
	return tc, &state, nil
}

// maxInformational bounds the 1xx answers skipped before the real one,
// as the Transport does.
const maxInformational = 5

// exchange writes hreq on pc and reads the response header; answered
// says whether any of an answer came. Reads and writes stop at ctx's
// deadline, or at once when ctx is cancelled.
func (c *Client) exchange(ctx context.Context, pc *conn, hreq *http.Request, trace *httptrace.ClientTrace) (resp *http.Response, answered bool, err error) {
	deadline, _ := ctx.Deadline()
	pc.SetDeadline(deadline)
	pc.stop = context.AfterFunc(ctx, func() { pc.SetDeadline(time.Unix(1, 0)) })

	pc.cw.n, pc.cw.err = 0, nil
	err = hreq.Write(pc.bw)
	if err == nil {
		err = pc.bw.Flush()
	}
	if pc.cw.err != nil {
		err = pc.cw.err
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
	if err != nil {
		// A server may answer before reading the whole body and close
		// (413 to a large POST); its answer says more than the broken
		// pipe. Only a failure on the connection can hide an answer.
		if pc.cw.err != nil && ctx.Err() == nil && !isTimeout(err) {
			if resp, rerr := c.readAnswer(pc, hreq, trace); rerr == nil {
				resp.Close = true
				return resp, true, nil
			}
		}
		return nil, false, ctxErr(ctx, err)
	}
	resp, err = c.readAnswer(pc, hreq, trace)
	return resp, err == nil || pc.br.Buffered() > 0 || errors.Is(err, io.ErrUnexpectedEOF), err
}

// readAnswer reads the response header, skipping 1xx answers (100
// Continue, 103 Early Hints); 101 Switching Protocols is the answer.
func (c *Client) readAnswer(pc *conn, hreq *http.Request, trace *httptrace.ClientTrace) (*http.Response, error) {
	ctx := hreq.Context()
	if _, err := pc.br.Peek(1); err != nil {
		return nil, ctxErr(ctx, err)
	}
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	for skipped := 0; ; skipped++ {
		resp, err := http.ReadResponse(pc.br, hreq)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			resp.TLS = pc.tls
			return resp, nil
		}
		if skipped == maxInformational {
			return nil, fmt.Errorf("more than %d informational (1xx) answers", maxInformational)
		}
	}
}

// Expired returns the context's error once it is done or its deadline
// has passed: the deadline a connection was given can fire a moment
// before the context's own timer.
func Expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// isStale reports the errors of a kept-alive connection the server has
// closed: end of file or reset on reading, broken pipe on writing.
func isStale(err error) bool {
	return isEOF(err) || errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ctxErr is the context's error when the context ended the I/O (the
// deadline it set on the connection, or its cancellation), as the
// Transport reports it.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// connBody is a response body on a pooled connection: read to the end
// and closed, the connection goes back to the pool; else it is closed.
type connBody struct {
	io.ReadCloser
	pc   *conn
	key  string
	pool *pool
	keep bool
	eof  bool
	done bool
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *connBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	// Nothing may be left unread, and the cancellation hook must not
	// have fired, for the connection to serve another request.
	stopped := b.pc.stop()
	if !b.keep || !b.eof || b.pc.br.Buffered() > 0 || !stopped {
		// Closed first: closing the body of an unread stream would read it
		// to its end.
		b.pc.Close()
		b.ReadCloser.Close()
		b.pool.give(b.key, nil)
		return nil
	}
	if err := b.ReadCloser.Close(); err != nil {
		b.pc.Close()
		b.pool.give(b.key, nil)
		return err
	}
	b.pc.SetDeadline(time.Time{})
	b.pool.give(b.key, b.pc)
	return nil
}
