package tlsprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// peer is the server side of a STARTTLS opening, written from the RFCs
// independently of the client; nil error means "start TLS now".
type peer func(c net.Conn) error

// line reads one line byte by byte, so nothing past it is consumed.
func line(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return strings.TrimRight(string(b), "\r"), nil
		}
		b = append(b, one[0])
	}
}

// until reads until the text read ends with suffix.
func until(c net.Conn, suffix string) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(b, []byte(suffix)) {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		b = append(b, one[0])
	}
	return string(b), nil
}

func says(c net.Conn, s string) error { _, err := io.WriteString(c, s); return err }

func expectLine(c net.Conn, want string) error {
	l, err := line(c)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, want) {
		return fmt.Errorf("got %q, want %q", l, want)
	}
	return nil
}

var peers = map[string]peer{
	"smtp": func(c net.Conn) error {
		says(c, "220-mx.test ESMTP\r\n220 mx.test ready\r\n")
		if err := expectLine(c, "EHLO "); err != nil {
			return err
		}
		says(c, "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n")
		if err := expectLine(c, "STARTTLS"); err != nil {
			return err
		}
		return says(c, "220 2.0.0 Ready to start TLS\r\n")
	},
	"imap": func(c net.Conn) error {
		says(c, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
		l, err := line(c)
		if err != nil {
			return err
		}
		tag, cmd, _ := strings.Cut(l, " ")
		if cmd != "CAPABILITY" {
			return fmt.Errorf("got %q", l)
		}
		says(c, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"+tag+" OK done\r\n")
		if l, err = line(c); err != nil {
			return err
		}
		tag, cmd, _ = strings.Cut(l, " ")
		if cmd != "STARTTLS" {
			return fmt.Errorf("got %q", l)
		}
		return says(c, tag+" OK Begin TLS negotiation now\r\n")
	},
	"pop3": func(c net.Conn) error {
		says(c, "+OK POP3 ready\r\n")
		if err := expectLine(c, "STLS"); err != nil {
			return err
		}
		return says(c, "+OK Begin TLS\r\n")
	},
	"ftp": func(c net.Conn) error {
		says(c, "220-Welcome\r\n220-to the test\r\n220 FTP ready\r\n")
		if err := expectLine(c, "AUTH TLS"); err != nil {
			return err
		}
		return says(c, "234 AUTH TLS successful\r\n")
	},
	"xmpp": func(c net.Conn) error {
		head, err := until(c, "version='1.0'>")
		if err != nil {
			return err
		}
		if !strings.Contains(head, "to='chat.test'") {
			return fmt.Errorf("stream header %q lacks to='chat.test'", head)
		}
		says(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='chat.test' id='x1' version='1.0'>")
		says(c, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
		if _, err := until(c, "/>"); err != nil {
			return err
		}
		return says(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	},
	"ldap": func(c net.Conn) error {
		req := make([]byte, 31)
		if _, err := io.ReadFull(c, req); err != nil {
			return err
		}
		if !bytes.HasSuffix(req, []byte("1.3.6.1.4.1.1466.20037")) || req[5] != 0x77 {
			return fmt.Errorf("not a StartTLS request: % x", req)
		}
		// messageID 1, ExtendedResponse: success, no DN, no message;
		// long-form length as OpenLDAP writes it.
		_, err := c.Write([]byte{0x30, 0x84, 0, 0, 0, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
		return err
	},
	"postgres": func(c net.Conn) error {
		req := make([]byte, 8)
		if _, err := io.ReadFull(c, req); err != nil {
			return err
		}
		if !bytes.Equal(req, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}) {
			return fmt.Errorf("not an SSLRequest: % x", req)
		}
		return says(c, "S")
	},
	"mysql": func(c net.Conn) error {
		var p []byte
		p = append(p, 0x0a)
		p = append(p, "8.0.36\x00"...)
		p = append(p, 1, 0, 0, 0)                   // connection id
		p = append(p, "abcdefgh"...)                // salt part 1
		p = append(p, 0)                            // filler
		p = append(p, 0xff, 0xff)                   // capabilities, CLIENT_SSL among them
		p = append(p, 0x21, 0x02, 0x00, 0xff, 0xc3) // charset, status, upper capabilities
		p = append(p, 21)
		p = append(p, make([]byte, 10)...)
		p = append(p, "ijklmnopqrst\x00mysql_native_password\x00"...)
		c.Write(append([]byte{byte(len(p)), byte(len(p) >> 8), 0, 0}, p...))
		req := make([]byte, 36)
		if _, err := io.ReadFull(c, req); err != nil {
			return err
		}
		if req[0] != 32 || req[3] != 1 || req[5]&0x08 == 0 {
			return fmt.Errorf("not an SSLRequest: % x", req)
		}
		return nil
	},
}

// server runs p then a TLS handshake on each connection and records the
// SNI it was sent.
type server struct {
	addr string
	mu   sync.Mutex
	sni  []string
	errs []error
}

func serve(t *testing.T, p peer, cert tls.Certificate) *server {
	t.Helper()
	s := &server{}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.sni = append(s.sni, h.ServerName)
		s.mu.Unlock()
		return nil, nil
	}}
	s.addr = testutil.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if p != nil {
			if err := p(c); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
				return
			}
		}
		tc := tls.Server(c, cfg)
		tc.Handshake()
		tc.Read(make([]byte, 1))
	})
	return s
}

func probe(t *testing.T, addr, proto string, mod ...func(*Target)) (Result, error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	tg := Target{Host: host, Port: port, Protocol: proto, XMPPDomain: "chat.test"}
	for _, m := range mod {
		m(&tg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return Probe(ctx, &net.Dialer{}, tg)
}

func TestStartTLS(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "CA", CA: true})
	leaf := certtest.New(t, certtest.Spec{CN: "mx.test", DNS: []string{"mx.test"}, Parent: ca})
	for proto, p := range peers {
		t.Run(proto, func(t *testing.T) {
			s := serve(t, p, leaf.TLS(ca))
			res, err := probe(t, s.addr, proto)
			if err != nil {
				t.Fatalf("%s: %v (peer: %v)", proto, err, s.errs)
			}
			if len(res.Chain) != 2 || res.Chain[0].Subject.CommonName != "mx.test" {
				t.Errorf("%s: chain %v", proto, res.Chain)
			}
		})
	}
}

// TestStartTLSFailures: refusals, stalls and wrong protocols give one
// line saying which step failed, within the deadline.
func TestStartTLSFailures(t *testing.T) {
	cert := certtest.New(t, certtest.Spec{CN: "x"}).TLS()
	noStartTLS := func(c net.Conn) error {
		says(c, "220 mx.test\r\n")
		line(c)
		says(c, "250-mx.test\r\n250 PIPELINING\r\n")
		line(c)
		return fmt.Errorf("done")
	}
	stallAfterGreeting := func(c net.Conn) error {
		says(c, "220 mx.test\r\n")
		time.Sleep(4 * time.Second)
		return fmt.Errorf("done")
	}
	silent := func(c net.Conn) error { time.Sleep(4 * time.Second); return fmt.Errorf("done") }
	pgRefuses := func(c net.Conn) error { io.ReadFull(c, make([]byte, 8)); says(c, "N"); return fmt.Errorf("done") }
	ldapRefuses := func(c net.Conn) error {
		io.ReadFull(c, make([]byte, 31))
		c.Write([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00})
		return fmt.Errorf("done")
	}
	mysqlNoSSL := func(c net.Conn) error {
		p := append([]byte{0x0a}, "5.5\x00\x01\x00\x00\x00abcdefgh\x00\xff\xf7"...)
		c.Write(append([]byte{byte(len(p)), 0, 0, 0}, p...))
		time.Sleep(time.Second)
		return fmt.Errorf("done")
	}
	injected := func(c net.Conn) error {
		says(c, "+OK ready\r\n")
		line(c)
		return says(c, "+OK Begin TLS\r\n+OK injected\r\n")
	}
	tests := []struct {
		name, proto string
		p           peer
		want        string
	}{
		{"SMTP without STARTTLS", "smtp", noStartTLS, "EHLO: the server does not offer STARTTLS"},
		{"SMTP stalls after the greeting", "smtp", stallAfterGreeting, "EHLO: no answer within"},
		{"SMTP greeting never comes", "smtp", silent, "waiting for the SMTP greeting: no answer within"},
		{"IMAP spoken to an SMTP server", "imap", peers["smtp"], `waiting for the IMAP greeting: unexpected answer "220-mx.test ESMTP": not IMAP?`},
		{"SMTP spoken to a POP3 server", "smtp", peers["pop3"], `unexpected answer "+OK POP3 ready": not SMTP?`},
		{"PostgreSQL with ssl = off", "postgres", pgRefuses, "SSLRequest: the server does not support SSL (ssl = off)"},
		{"LDAP refuses StartTLS", "ldap", ldapRefuses, "server refused StartTLS (LDAP result code 2)"},
		{"MySQL without SSL", "mysql", mysqlNoSSL, "the server does not offer SSL"},
		{"data injected after STLS", "pop3", injected, "the server sent data before the TLS handshake"},
		{"XMPP server that never answers", "xmpp", silent, "waiting for the XMPP stream features: no answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, tt.p, cert)
			start := time.Now()
			_, err := probe(t, s.addr, tt.proto)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("%s: took %s, past the 2s budget", tt.name, el)
			}
		})
	}
}

func TestSNI(t *testing.T) {
	s := serve(t, nil, certtest.New(t, certtest.Spec{CN: "x"}).TLS())
	_, port, _ := net.SplitHostPort(s.addr)
	cases := []struct {
		name string
		mod  func(*Target)
		want string
	}{
		{"IP literal: no SNI", func(*Target) {}, ""},
		{"--sni", func(tg *Target) { tg.SNI = "override.test" }, "override.test"},
		{"name with --resolve", func(tg *Target) { tg.Host, tg.Addr = "www.test", "127.0.0.1" }, "www.test"},
		{"NoSNI", func(tg *Target) { tg.Host, tg.Addr, tg.NoSNI = "www.test", "127.0.0.1", true }, ""},
	}
	for i, c := range cases {
		if _, err := probe(t, s.addr, "", c.mod); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		s.mu.Lock()
		got := s.sni[i]
		s.mu.Unlock()
		if got != c.want {
			t.Errorf("%s: SNI %q, want %q", c.name, got, c.want)
		}
	}
	_ = port
}

func TestLookupAll(t *testing.T) {
	ctx := context.Background()
	got, err := LookupAll(ctx, net.DefaultResolver, "::1", "tcp")
	if err != nil || len(got) != 1 || got[0] != "::1" {
		t.Errorf("IP literal: %v %v", got, err)
	}
	got, err = LookupAll(ctx, net.DefaultResolver, "localhost", "tcp4")
	if err != nil || len(got) == 0 || got[0] != "127.0.0.1" {
		t.Errorf("localhost/tcp4: %v %v", got, err)
	}
}
