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

	mu          sync.Mutex
	head        []byte
	writing     bool   // a request is being written: its first write holds the request line
	pending     []byte // read on closing after a failed write, for the reads that follow
	writeFailed bool
	reading     int // Reads in progress
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

// wrote notes a failed write: a server that refuses the connection
// sends its reason and closes (with TLS 1.3, the alert refusing a client
// certificate comes after the handshake), and the writer closes the
// connection on the broken pipe before its reader has seen the reason.
func (c *recConn) wrote(err error) error {
	if err != nil {
		c.mu.Lock()
		c.writeFailed = true
		c.mu.Unlock()
	}
	return err
}

// Close closes the connection. After a failed write it first lets the
// server's last bytes be read: a reader blocked on the connection gets
// them (the Transport's read loop, for an early answer such as a 413 to
// a large upload), or else they are kept here for the reads that follow
// (of the TLS connection above, for its alert). Closed at once, they
// would be lost with the socket's buffer.
func (c *recConn) Close() error {
	c.mu.Lock()
	failed := c.writeFailed
	c.mu.Unlock()
	if failed {
		c.Conn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		for range 50 { // the reader's Read returns by the deadline
			c.mu.Lock()
			busy := c.reading > 0
			c.mu.Unlock()
			if !busy {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		c.mu.Lock()
		idle := c.reading == 0
		c.mu.Unlock()
		if idle {
			buf := make([]byte, 4096)
			n, _ := c.Conn.Read(buf)
			c.mu.Lock()
			c.pending = append(c.pending, buf[:n]...)
			c.mu.Unlock()
		}
	}
	return c.Conn.Close()
}

func (c *recConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.reading++
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading--
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
