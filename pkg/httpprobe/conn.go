package httpprobe

import (
	"bytes"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// recHead is how much of an answer a recConn keeps: enough for a
// status line.
const recHead = 256

// recConn is a connection as the Transport sees it. It keeps the first
// bytes read since the last request was written, so that an answer cut
// short can be quoted ("sent the status line ... and closed"), and for
// HTTP/1.0 rewrites the version of each request line.
type recConn struct {
	net.Conn
	http10 bool

	mu      sync.Mutex
	head    []byte
	writing bool   // a request is being written: its first write holds the request line
	pending []byte // read when a write failed, for the reads that follow
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.head = c.head[:0]
	first := !c.writing
	c.writing = true
	c.mu.Unlock()
	if c.http10 && first {
		// net/http writes the whole request line in its first write.
		if i := bytes.Index(p, []byte(" HTTP/1.1\r\n")); i >= 0 && bytes.IndexByte(p[:i], '\n') < 0 {
			q := append([]byte(nil), p...)
			copy(q[i:], " HTTP/1.0\r\n")
			n, err := c.Conn.Write(q)
			return n, c.wrote(err)
		}
	}
	n, err := c.Conn.Write(p)
	return n, c.wrote(err)
}

// wrote keeps what the server sent before a write failed: a server that
// refuses the connection sends its reason and closes (with TLS 1.3, the
// alert refusing a client certificate comes after the handshake), and
// the writer closes the connection on the broken pipe before its reader
// has seen the reason. Kept here, the reads that follow still get it.
func (c *recConn) wrote(err error) error {
	if err == nil {
		return nil
	}
	c.Conn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
	buf := make([]byte, 4096)
	n, _ := c.Conn.Read(buf)
	c.Conn.SetReadDeadline(time.Time{})
	c.mu.Lock()
	c.pending = append(c.pending, buf[:n]...)
	c.mu.Unlock()
	return err
}

func (c *recConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.writing = false // an answer is coming: the next write is a new request
	if room := recHead - len(c.head); room > 0 && n > 0 {
		c.head = append(c.head, p[:min(n, room)]...)
	}
	c.mu.Unlock()
	return n, err
}

// answerHead returns the first bytes read since the last request.
func (c *recConn) answerHead() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.head...)
}

// connectionState is the TLS state of a connection made by dialTLS,
// which the Transport cannot see through the wrapper.
func (c *recConn) connectionState() *tls.ConnectionState {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		return &cs
	}
	return nil
}
