package tlsprobe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// stageError says which step of an opening failed: "waiting for the SMTP
// greeting: i/o timeout".
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// maxLine bounds a protocol line, so a peer streaming garbage cannot make
// us buffer without end.
const maxLine = 8192

// session is one STARTTLS opening: line reads go through a small buffer,
// every read under the connection's deadline.
type session struct {
	conn  net.Conn
	r     *bufio.Reader
	proto string
}

func (s *session) send(stage, line string) error {
	if _, err := io.WriteString(s.conn, line); err != nil {
		return &stageError{stage, err}
	}
	return nil
}

// readLine reads one CRLF- or LF-terminated line.
func (s *session) readLine(stage string) (string, error) {
	b, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", &stageError{stage, errors.New("line too long: not " + s.proto + "?")}
	}
	if err != nil {
		return "", &stageError{stage, err}
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// readReply reads an SMTP or FTP reply: lines "NNN-text" until "NNN text".
func (s *session) readReply(stage string) (code string, lines []string, err error) {
	for {
		l, err := s.readLine(stage)
		if err != nil {
			return "", lines, err
		}
		lines = append(lines, l)
		if len(l) < 3 || !isDigits(l[:3]) {
			return "", lines, &stageError{stage, fmt.Errorf("unexpected answer %q: not %s?", clip(l), s.proto)}
		}
		if len(l) == 3 || l[3] != '-' {
			return l[:3], lines, nil
		}
		if len(lines) > 200 {
			return "", lines, &stageError{stage, errors.New("reply too long")}
		}
	}
}

// expect reads a reply and fails unless its code is want.
func (s *session) expect(stage, want string) ([]string, error) {
	code, lines, err := s.readReply(stage)
	if err != nil {
		return lines, err
	}
	if code != want {
		return lines, &stageError{stage, fmt.Errorf("server answered %q", clip(lines[len(lines)-1]))}
	}
	return lines, nil
}

// done makes sure nothing is left in the buffer: bytes after the "go
// ahead" would be lost to the TLS client (and are a protocol violation
// that STARTTLS injection attacks rely on).
func (s *session) done() error {
	if s.r.Buffered() > 0 {
		return &stageError{"after STARTTLS", errors.New("the server sent data before the TLS handshake")}
	}
	return nil
}

func startTLS(conn net.Conn, t Target) error {
	s := &session{conn: conn, r: bufio.NewReaderSize(conn, maxLine), proto: strings.ToUpper(t.Protocol)}
	var err error
	switch t.Protocol {
	case "", "tls":
		return nil
	case "smtp":
		err = s.smtp()
	case "imap":
		err = s.imap()
	case "pop3":
		err = s.pop3()
	case "ftp":
		err = s.ftp()
	case "xmpp":
		d := t.XMPPDomain
		if d == "" {
			d = t.Host
		}
		err = s.xmpp(d)
	case "ldap":
		err = s.ldap()
	case "postgres":
		err = s.postgres()
	case "mysql":
		err = s.mysql()
	default:
		return fmt.Errorf("unknown protocol %q", t.Protocol)
	}
	if err != nil {
		return err
	}
	return s.done()
}

// smtp: RFC 3207.
func (s *session) smtp() error {
	if _, err := s.expect("waiting for the SMTP greeting", "220"); err != nil {
		return err
	}
	if err := s.send("EHLO", "EHLO hindsight.localdomain\r\n"); err != nil {
		return err
	}
	lines, err := s.expect("EHLO", "250")
	if err != nil {
		return err
	}
	if !hasWord(lines, "STARTTLS", 4) {
		return &stageError{"EHLO", errors.New("the server does not offer STARTTLS")}
	}
	if err := s.send("STARTTLS", "STARTTLS\r\n"); err != nil {
		return err
	}
	_, err = s.expect("STARTTLS", "220")
	return err
}

// ftp: RFC 4217.
func (s *session) ftp() error {
	if _, err := s.expect("waiting for the FTP greeting", "220"); err != nil {
		return err
	}
	if err := s.send("AUTH TLS", "AUTH TLS\r\n"); err != nil {
		return err
	}
	_, err := s.expect("AUTH TLS", "234")
	return err
}

// pop3: RFC 2595.
func (s *session) pop3() error {
	l, err := s.readLine("waiting for the POP3 greeting")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+OK") {
		return &stageError{"waiting for the POP3 greeting", fmt.Errorf("unexpected answer %q: not POP3?", clip(l))}
	}
	if err := s.send("STLS", "STLS\r\n"); err != nil {
		return err
	}
	if l, err = s.readLine("STLS"); err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+OK") {
		return &stageError{"STLS", fmt.Errorf("server answered %q", clip(l))}
	}
	return nil
}

// imap: RFC 3501 / 9051.
func (s *session) imap() error {
	l, err := s.readLine("waiting for the IMAP greeting")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "* OK") && !strings.HasPrefix(l, "* PREAUTH") {
		return &stageError{"waiting for the IMAP greeting", fmt.Errorf("unexpected answer %q: not IMAP?", clip(l))}
	}
	caps, err := s.imapCommand("CAPABILITY", "h1")
	if err != nil {
		return err
	}
	if !hasWord(caps, "STARTTLS", 0) {
		return &stageError{"CAPABILITY", errors.New("the server does not offer STARTTLS")}
	}
	_, err = s.imapCommand("STARTTLS", "h2")
	return err
}

// imapCommand sends tag+cmd and reads untagged lines until the tagged
// completion, which must be OK.
func (s *session) imapCommand(cmd, tag string) ([]string, error) {
	if err := s.send(cmd, tag+" "+cmd+"\r\n"); err != nil {
		return nil, err
	}
	var lines []string
	for len(lines) < 200 {
		l, err := s.readLine(cmd)
		if err != nil {
			return lines, err
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l[len(tag)+1:], "OK") {
				return lines, &stageError{cmd, fmt.Errorf("server answered %q", clip(l))}
			}
			return lines, nil
		}
		lines = append(lines, l)
	}
	return lines, &stageError{cmd, errors.New("reply too long")}
}

// ErrNotTLS is matched when the server answered something else than a
// TLS handshake: often a plain-text service that needs a STARTTLS
// opening first. The check names its option for that.
var ErrNotTLS = errors.New("not a TLS service")

// ErrXMPPStream is matched when an XMPP server refuses the stream: most
// often the domain sent in the stream header is not one it serves.
var ErrXMPPStream = errors.New("stream error")

// xmpp: RFC 6120 section 5. The stream is XML, but the few elements that
// matter can be found in the text; a full parser buys nothing here.
func (s *session) xmpp(domain string) error {
	open := "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='" + xmlEscape(domain) + "' version='1.0'>"
	if err := s.send("opening the XMPP stream", open); err != nil {
		return err
	}
	got, err := s.readUntil("waiting for the XMPP stream features", "</stream:features>", "<stream:features/>", "<stream:error")
	if err != nil {
		return err
	}
	if strings.Contains(got, "<stream:error") {
		return &stageError{"opening the XMPP stream", fmt.Errorf("%w %q", ErrXMPPStream, clip(got[strings.Index(got, "<stream:error"):]))}
	}
	if !strings.Contains(got, "<starttls") {
		return &stageError{"XMPP stream features", errors.New("the server does not offer STARTTLS")}
	}
	if err := s.send("starttls", "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
		return err
	}
	got, err = s.readUntil("starttls", "<proceed", "<failure")
	if err != nil {
		return err
	}
	if strings.Contains(got, "<failure") {
		return &stageError{"starttls", errors.New("the server refused STARTTLS")}
	}
	// The rest of the <proceed .../> element may still be in flight.
	if !strings.Contains(got[strings.Index(got, "<proceed"):], ">") {
		if _, err := s.readUntil("starttls", ">"); err != nil {
			return err
		}
	}
	return nil
}

// readUntil reads until the text read contains one of marks, consuming
// exactly up to the end of the element holding it.
func (s *session) readUntil(stage string, marks ...string) (string, error) {
	var buf []byte
	for len(buf) < 64<<10 {
		b, err := s.r.ReadByte()
		if err != nil {
			return string(buf), &stageError{stage, err}
		}
		buf = append(buf, b)
		if b != '>' {
			continue
		}
		for _, m := range marks {
			if bytes.Contains(buf, []byte(m)) {
				return string(buf), nil
			}
		}
	}
	return string(buf), &stageError{stage, errors.New("answer too long")}
}

// ldap: the StartTLS extended operation, RFC 4511 section 4.14.
func (s *session) ldap() error {
	oid := "1.3.6.1.4.1.1466.20037"
	req := append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, oid...)
	if _, err := s.conn.Write(req); err != nil {
		return &stageError{"StartTLS request", err}
	}
	msg, err := readBER(s.r)
	if err != nil {
		return &stageError{"StartTLS response", err}
	}
	code, err := ldapResult(msg)
	if err != nil {
		return &stageError{"StartTLS response", err}
	}
	if code != 0 {
		return &stageError{"StartTLS response", fmt.Errorf("server refused StartTLS (LDAP result code %d)", code)}
	}
	return nil
}

// readBER reads one BER TLV (the LDAPMessage) whole.
func readBER(r *bufio.Reader) ([]byte, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	if head[0] != 0x30 {
		return nil, fmt.Errorf("not an LDAP message (first byte %#02x): not LDAP?", head[0])
	}
	n := int(head[1])
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return nil, errors.New("bad BER length")
		}
		lb := make([]byte, k)
		if _, err := io.ReadFull(r, lb); err != nil {
			return nil, err
		}
		n = 0
		for _, b := range lb {
			n = n<<8 | int(b)
		}
	}
	if n > 64<<10 {
		return nil, errors.New("LDAP message too long")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// ldapResult finds the resultCode in an ExtendedResponse body: messageID,
// then [APPLICATION 24] holding ENUMERATED resultCode first.
func ldapResult(body []byte) (int, error) {
	_, rest, err := tlv(body) // messageID
	if err != nil {
		return 0, err
	}
	if len(rest) == 0 || rest[0] != 0x78 {
		return 0, errors.New("not an ExtendedResponse")
	}
	op, _, err := tlv(rest)
	if err != nil {
		return 0, err
	}
	if len(op) < 3 || op[0] != 0x0a || op[1] != 1 {
		return 0, errors.New("ExtendedResponse without a resultCode")
	}
	return int(op[2]), nil
}

// tlv splits one BER element off b: its contents and what follows.
func tlv(b []byte) (content, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, errors.New("truncated BER")
	}
	n, off := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, nil, errors.New("bad BER length")
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		off += k
	}
	if off+n > len(b) {
		return nil, nil, errors.New("truncated BER")
	}
	return b[off : off+n], b[off+n:], nil
}

// postgres: SSLRequest, then one byte: S (TLS follows) or N.
func (s *session) postgres() error {
	if _, err := s.conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		return &stageError{"SSLRequest", err}
	}
	b, err := s.r.ReadByte()
	if err != nil {
		return &stageError{"SSLRequest", err}
	}
	switch b {
	case 'S':
		return nil
	case 'N':
		return &stageError{"SSLRequest", errors.New("the server does not support SSL (ssl = off)")}
	case 'E':
		return &stageError{"SSLRequest", errors.New("the server answered with an error: not PostgreSQL 7.2 or later?")}
	}
	return &stageError{"SSLRequest", fmt.Errorf("unexpected answer byte %#02x: not PostgreSQL?", b)}
}

// mysql: read the server's Initial Handshake, then send an SSLRequest;
// the ClientHello follows at once.
func (s *session) mysql() error {
	const stage = "waiting for the MySQL handshake"
	head := make([]byte, 4)
	if _, err := io.ReadFull(s.r, head); err != nil {
		return &stageError{stage, err}
	}
	n := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	if n == 0 || n > 64<<10 {
		return &stageError{stage, fmt.Errorf("bad packet length %d: not MySQL?", n)}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(s.r, p); err != nil {
		return &stageError{stage, err}
	}
	caps, err := mysqlCaps(p)
	if err != nil {
		return &stageError{stage, err}
	}
	if caps&0x0800 == 0 {
		return &stageError{stage, errors.New("the server does not offer SSL (have_ssl = DISABLED)")}
	}
	req := make([]byte, 4+32)
	req[0], req[3] = 32, 1 // length 32, sequence 1
	copy(req[4:], []byte{0x85, 0xae, 0x7f, 0x00, 0, 0, 0, 1, 0x21})
	if _, err := s.conn.Write(req); err != nil {
		return &stageError{"SSLRequest", err}
	}
	return nil
}

// mysqlCaps returns the lower capability flags of an Initial Handshake
// v10 payload.
func mysqlCaps(p []byte) (uint16, error) {
	if p[0] == 0xff {
		msg := ""
		if len(p) > 3 {
			msg = string(p[3:])
		}
		return 0, fmt.Errorf("server error %q", clip(msg))
	}
	if p[0] != 0x0a {
		return 0, fmt.Errorf("protocol version %d: not MySQL?", p[0])
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		return 0, errors.New("truncated handshake")
	}
	i := 1 + end + 1 + 4 + 8 + 1 // version, NUL, connection id, salt, filler
	if i+2 > len(p) {
		return 0, errors.New("truncated handshake")
	}
	return uint16(p[i]) | uint16(p[i+1])<<8, nil
}

func hasWord(lines []string, word string, skip int) bool {
	for _, l := range lines {
		if len(l) < skip {
			continue
		}
		for _, f := range strings.Fields(strings.ToUpper(l[skip:])) {
			if f == word {
				return true
			}
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	return human.Truncate(printable([]byte(s)), 80)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&apos;", "<", "&lt;", ">", "&gt;").Replace(s)
}
