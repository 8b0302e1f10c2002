// Package ini reads the ini files of monitoring-plugins' --extra-opts: a
// section per plugin (or per use), and in it one "option = value" per
// line. The format is the peer's (lib/parse_ini.c), so that one
// plugins.ini serves their plugins and ours:
//
//   - a line whose first non-blank character is ";" or "#" is a comment;
//     there are no comments after a value (a password may hold "#");
//   - "[name]" opens a section, the name trimmed of blanks; a section may
//     appear more than once, its lines are then read in order;
//   - "key = value": blanks around key and value are dropped, the value
//     is taken literally to the end of the line, quotes and a trailing
//     backslash included (there are no continuation lines);
//   - "key =" or "key=" is an option without a value;
//   - a line that is not a comment and not a section before the first
//     section is an error, as is a line without "=" in the section read;
//     lines of other sections are not looked at.
//
// Line ends may be CRLF, and a UTF-8 byte order mark at the start of the
// file (as Windows editors write one) is skipped.
package ini

import (
	"bytes"
	"strconv"
	"strings"
)

// Entry is one "key = value" line of a section.
type Entry struct {
	Key   string
	Value string
	Line  int // 1-based line number in the file
}

// Error is a line of the file that cannot be read.
type Error struct {
	Line    int
	Problem string
}

func (e *Error) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Problem }

// Section returns the entries of every section called name, in file
// order; found says whether the file has such a section at all (an
// empty section is found, with no entries).
func Section(data []byte, name string) (entries []Entry, found bool, err error) {
	in := false   // inside a section called name
	seen := false // inside any section
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(string(raw), "\r"))
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if strings.ContainsFunc(line, isControl) {
			// No option value can hold one: argv cannot carry a NUL and
			// every engine splits output on the rest.
			return nil, found, &Error{n, "control character in line"}
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, found, &Error{n, "section header without ]"}
			}
			seen = true
			in = strings.TrimSpace(line[1:end]) == name
			found = found || in
			continue
		}
		if !seen {
			return nil, found, &Error{n, "option before the first [section]"}
		}
		if !in {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, found, &Error{n, "no \"=\" in line (expected option = value)"}
		}
		key = strings.TrimSpace(key)
		if key == "" {
			return nil, found, &Error{n, "no option name before \"=\""}
		}
		entries = append(entries, Entry{Key: key, Value: strings.TrimSpace(value), Line: n})
	}
	return entries, found, nil
}

// isControl is a control character other than the tab.
func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }
