package httpprobe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// net/textproto quotes a malformed header line whole: `malformed MIME
// header line: "Set-Cookie: a=\x01b"`, value and all. Compiled on first
// use, not at every start.
var mimeLineError = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`malformed MIME header(?: initial)? line: "(?:[^"\\]|\\.)*"|malformed MIME header: missing colon: "(?:[^"\\]|\\.)*"`)
})

// hideHeaderValues rewrites the quoted header lines of a header failure
// so that no secret is printed: a line of a credential-bearing header
// (cookies, authentication) is named, with what is wrong with it, never
// its value. Other lines keep net/textproto's quote, which shows the
// fault.
func hideHeaderValues(msg string) string {
	if !strings.Contains(msg, "malformed MIME header") {
		return msg
	}
	return mimeLineError().ReplaceAllStringFunc(msg, func(m string) string {
		i := strings.IndexByte(m, '"')
		line, err := strconv.Unquote(m[i:])
		if err != nil {
			return "malformed header line (not shown)"
		}
		switch {
		case strings.HasPrefix(m, "malformed MIME header initial line"):
			// A continuation of nothing: whose value it is, is unknown.
			return "malformed header: the first header line starts with a space or tab (not shown)"
		case strings.HasPrefix(m, "malformed MIME header: missing colon"):
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			if sensitiveHeader(name) {
				return fmt.Sprintf("malformed %s header: no colon after its name (value not shown)", name)
			}
			return m
		}
		raw, value, _ := strings.Cut(line, ":")
		name := strings.TrimSpace(raw)
		if !sensitiveHeader(name) {
			return m
		}
		if b, ok := badNameByte(raw); ok {
			return fmt.Sprintf("malformed %s header: byte %#02x in its name (value not shown)", name, b)
		}
		if b, ok := badValueByte(value); ok {
			return fmt.Sprintf("malformed %s header: byte %#02x in its value, not allowed in a header (value not shown)", name, b)
		}
		return fmt.Sprintf("malformed %s header (value not shown)", name)
	})
}

// sensitiveHeader reports a header whose value may carry a credential.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "set-cookie", "set-cookie2", "cookie", "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate":
		return true
	}
	for _, part := range []string{"auth", "cookie", "token", "secret", "key", "session", "passw", "credential", "signature"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// badNameByte returns the first byte of a header name that is not a
// token character (RFC 9110).
func badNameByte(name string) (byte, bool) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return c, true
		}
	}
	return 0, false
}

// badValueByte returns the first byte of a header value that is neither
// visible ASCII, space, tab nor obs-text, as net/textproto judges it.
func badValueByte(v string) (byte, bool) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0x7f || (c < ' ' && c != '\t') {
			return c, true
		}
	}
	return 0, false
}
