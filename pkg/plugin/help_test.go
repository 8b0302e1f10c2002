package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// helpCheck has the shapes of option that broke go-flags' layout: a long
// choice list, a long value name, a short-only option and an optional
// value.
type helpCheck struct {
	fakeCheck
	Proto string `short:"P" long:"protocol" value-name:"PROTO" choice:"tls" choice:"smtp" choice:"imap" choice:"pop3" choice:"ftp" choice:"xmpp" choice:"ldap" choice:"postgres" choice:"mysql" default:"tls" description:"STARTTLS protocol to speak before the handshake" unquote:"false"`
	Long  string `long:"a-rather-long-option-name" value-name:"SOMETHING[:MORE]" description:"An option whose name and value leave no room beside them, so its description goes on the next line and is wrapped there like any other" unquote:"false"`
	Short int    `short:"x" description:"Short only" unquote:"false"`
	Maybe string `long:"maybe" optional:"yes" value-name:"WHAT" description:"Optional value" unquote:"false"`
	URL   string `long:"url" description:"https://example.org/a/very/long/path/that/cannot/be/broken/at/any/space/because/it/has/none/at/all" unquote:"false"`
}

var helpPlugin = Plugin{Name: "check_help", Service: "HELP", Summary: "a plugin whose summary is long enough that it has to be wrapped onto a second line",
	Usage: "[-H HOST[:PORT]]... [-P PROTO] [-f FILE|GLOB]... [-d DIR]... [--kubeconfig FILE]... [--kubeadm] [-w DAYS] [-c DAYS] [HOST:PORT]...",
	Help: "Notes: a paragraph line that is far too long for eighty columns and must be filled again, keeping what it says.\n\n" +
		"Examples:\n  check_help -H www.example.com --renewal-at 0.67 --compare-file /etc/letsencrypt/live/www.example.com/cert.pem\n",
	New: func() Check { return &helpCheck{} }}

// TestHelpGolden pins a whole --help. Run with -update to rewrite.
func TestHelpGolden(t *testing.T) {
	var out strings.Builder
	code := Runner{Args: []string{"--help"}, Stdout: &out}.Run(helpPlugin)
	if code != int(UNKNOWN) {
		t.Errorf("--help exit %d, want 3", code)
	}
	golden := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("--help differs from %s; run go test -run HelpGolden -update and read the diff", golden)
	}
	if problems := HelpProblems(out.String()); len(problems) > 0 {
		t.Errorf("--help layout:\n%s", strings.Join(problems, "\n"))
	}
}

func TestWrapText(t *testing.T) {
	tests := []struct {
		text, first, rest string
		width             int
		want              string
	}{
		{"a b c", "", "", 80, "a b c\n"},
		{"aaa bbb ccc", "> ", "  ", 8, "> aaa\n  bbb\n  ccc\n"},
		{"aaaaaaaaaa", "", "", 4, "aaaa\naaaa\naa\n"},
		{"", "  -x  ", "", 80, "  -x\n"},
		{"größe größe", "", "", 6, "größe\ngröße\n"},
	}
	for _, tt := range tests {
		if got := wrapText(tt.text, tt.first, tt.rest, tt.width); got != tt.want {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}

// HelpProblems returns what makes a --help text hard to read at 80
// columns: a line over 80 characters, or text starting so far right that
// fewer than 30 columns are left for it.
func HelpProblems(help string) []string {
	var out []string
	for i, line := range strings.Split(strings.TrimSuffix(help, "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > helpWidth {
			out = append(out, "line "+itoa(i+1)+" has "+itoa(n)+" characters: "+line)
		}
		if col := descriptionColumn(line); helpWidth-col < 30 {
			out = append(out, "line "+itoa(i+1)+" leaves "+itoa(helpWidth-col)+" columns for its text: "+line)
		}
	}
	return out
}

// descriptionColumn is where a line's text starts: after the indent, or
// after the option and the gap of two or more spaces on an option line.
func descriptionColumn(line string) int {
	trimmed := strings.TrimLeft(line, " ")
	col := len(line) - len(trimmed)
	if strings.HasPrefix(trimmed, "-") {
		if gap := strings.Index(trimmed, "  "); gap >= 0 {
			rest := strings.TrimLeft(trimmed[gap:], " ")
			col = utf8.RuneCountInString(line) - utf8.RuneCountInString(rest)
		}
	}
	return col
}
