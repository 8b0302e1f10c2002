package ini

import (
	"reflect"
	"testing"
)

func TestSection(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		section string
		want    []Entry
		found   bool
		errLine int // 0: no error
	}{
		{name: "simple", file: "[check_load]\nwarning=1,2,3\ncritical = 4,5,6\n", section: "check_load",
			want: []Entry{{"warning", "1,2,3", 2}, {"critical", "4,5,6", 3}}, found: true},
		{name: "comments ; and #", file: "# top\n; also\n[s]\n  # indented\n;x=1\nk=v\n", section: "s",
			want: []Entry{{"k", "v", 6}}, found: true},
		{name: "no comment after a value", file: "[s]\npassword=se#cr;et\t\t# not a comment\n", section: "s",
			want: []Entry{{"password", "se#cr;et\t\t# not a comment", 2}}, found: true},
		{name: "quotes are literal", file: "[s]\npassword=\"a b\"\nuser='x'\n", section: "s",
			want: []Entry{{"password", `"a b"`, 2}, {"user", "'x'", 3}}, found: true},
		{name: "no continuation lines", file: "[s]\nsend=foo \\\nbar=baz\n", section: "s",
			want: []Entry{{"send", `foo \`, 2}, {"bar", "baz", 3}}, found: true},
		{name: "blanks trimmed around key, value and name", file: "[  s  ]\n   key   =   some value  \n", section: "s",
			want: []Entry{{"key", "some value", 2}}, found: true},
		{name: "space inside a section name", file: "[check space]\nfoo=bar\n", section: "check space",
			want: []Entry{{"foo", "bar", 2}}, found: true},
		{name: "flags without value", file: "[s]\na=\nverbose =\n", section: "s",
			want: []Entry{{"a", "", 2}, {"verbose", "", 3}}, found: true},
		{name: "section twice", file: "[s]\nfoo=bar\n[t]\nx=y\n[s]\nbar=foo\n", section: "s",
			want: []Entry{{"foo", "bar", 2}, {"bar", "foo", 6}}, found: true},
		{name: "UTF-8 BOM skipped", file: "\xef\xbb\xbf[s]\nfoo=bar\n", section: "s", want: []Entry{{"foo", "bar", 2}}, found: true},
		{name: "BOM only at the start", file: "[s]\n\xef\xbb\xbffoo=bar\n", section: "s", want: []Entry{{"\ufefffoo", "bar", 2}}, found: true},
		{name: "CRLF", file: "[s]\r\nfoo=bar\r\n", section: "s", want: []Entry{{"foo", "bar", 2}}, found: true},
		{name: "empty section found", file: "[s]\n[t]\nx=1\n", section: "s", found: true},
		{name: "unknown section", file: "[t]\nx=1\n", section: "s"},
		{name: "empty file", file: "", section: "s"},
		{name: "other sections are not parsed", file: "[t]\nnonsense\n[s]\nk=v\n", section: "s",
			want: []Entry{{"k", "v", 4}}, found: true},
		{name: "option before any section", file: "k=v\n[s]\n", section: "s", errLine: 1},
		{name: "no equals", file: "[s]\n\njunk\n", section: "s", errLine: 3},
		{name: "no key", file: "[s]\n = v\n", section: "s", errLine: 2},
		{name: "header without ]", file: "[s\nk=v\n", section: "s", errLine: 1},
		{name: "control character", file: "[s]\nk=a\x00b\n", section: "s", errLine: 2},
		{name: "case matters", file: "[S]\nk=v\n", section: "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := Section([]byte(tt.file), tt.section)
			if tt.errLine != 0 {
				e, ok := err.(*Error)
				if !ok || e.Line != tt.errLine {
					t.Fatalf("error %v, want one on line %d", err, tt.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.found || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v found=%v, want %+v found=%v", got, found, tt.want, tt.found)
			}
		})
	}
}
