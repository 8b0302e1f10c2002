package files

import (
	"bytes"
	"strings"
)

// SecretLine is the secret a password or credentials file holds: its
// first line, without the UTF-8 byte-order mark an editor on Windows
// writes first (it would become part of a user name or password) and
// without the line's end (LF or CRLF).
func SecretLine(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimSuffix(string(line), "\r")
}
