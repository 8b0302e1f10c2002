package plugin

import (
	"context"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// genCheck has every kind of option the generators distinguish.
type genCheck struct {
	Host     string          `short:"H" long:"hostname" value-name:"ADDRESS" description:"Host to \"ask\"" unquote:"false"`
	Warning  threshold.Range `short:"w" long:"warning" value-name:"RANGE" description:"Warning range" unquote:"false"`
	Critical threshold.Range `short:"c" long:"critical" value-name:"RANGE" description:"Critical range" unquote:"false"`
	Expect   []string        `short:"e" long:"expect" value-name:"TEXT" description:"Expected text (repeatable)" unquote:"false"`
	SSL      bool            `short:"S" long:"ssl" description:"Use TLS"`
	Secret   string          `long:"secret" hidden:"true" description:"hidden" unquote:"false"`
}

func (c *genCheck) Run(context.Context, *Env) (Result, error) { return Result{}, nil }
func (c *genCheck) TakeArgs([]string) error                   { return nil }

var genPlugin = Plugin{Name: "check_gen", Service: "GEN", Summary: "check generation", Usage: "[OPTIONS] URL",
	Help: `Notes.
.starts with a dot

Examples:
  check_gen -H example.org -w 1 -c 2     thresholds
  check_gen -e 'a;b'
  check_gen -e '$HOME'                   skipped for Nagios: a macro
  check_gen                              defaults`,
	New: func() Check { return &genCheck{} }}

func generated(t *testing.T, mode string) string {
	t.Helper()
	var out strings.Builder
	code := Runner{Args: []string{"--generate=" + mode}, Stdout: &out}.Run(genPlugin)
	if code != 0 {
		t.Fatalf("--generate=%s: exit %d: %s", mode, code, out.String())
	}
	return out.String()
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		mode      string
		want, not []string
	}{
		{"nagios", []string{
			"command_line\t$USER1$/hindsight/check_gen $ARG1$\n",
			"command_name\thindsight_gen_thresholds\n",
			"-w '$ARG1$' -c '$ARG2$' $ARG3$",
			"command_line\t$USER1$/hindsight/check_gen --hostname '$HOSTADDRESS$' $ARG1$\n",
			"check_command  hindsight_gen!-H example.org -w 1 -c 2    ; thresholds\n",
			"check_command  hindsight_gen!-e 'a\\;b'\n",
			"#  -e, --expect TEXT",
		}, []string{"HOME", "secret", "--help", "--version"}},
		{"nrpe", []string{
			"# thresholds:\n#command[hindsight_gen_hostname]=/usr/lib/nagios/plugins/hindsight/check_gen -H example.org -w 1 -c 2\n" +
				"#command[hindsight_gen_hostname_v2]=/usr/lib/nagios/plugins/hindsight/check_gen -H example.org -w 1 -c 2 --max-output 1023\n",
			"#command[hindsight_gen_expect]=/usr/lib/nagios/plugins/hindsight/check_gen -e 'a;b'\n",
			"#command[hindsight_gen_expect_2]=/usr/lib/nagios/plugins/hindsight/check_gen -e '$HOME'\n",
			"#command[hindsight_gen_args]=/usr/lib/nagios/plugins/hindsight/check_gen $ARG1$\n",
			"dont_blame_nrpe=1",
		}, []string{"secret", "#command[hindsight_gen]=", "_1]"}},
		{"icinga2", []string{
			"object CheckCommand \"hindsight_gen\" {\n\t// To check the host's own address: vars.hindsight_gen_hostname = \"$check_address$\"\n\timport \"ipv4-or-ipv6\"\n",
			"command = [ PluginDir + \"/hindsight/check_gen\" ]",
			"\"--ssl\" = {\n\t\t\tset_if = \"$hindsight_gen_ssl$\"\n",
			"\"--expect\" = {\n\t\t\tvalue = \"$hindsight_gen_expect$\"\n\t\t\trepeat_key = true\n",
			`description = "Host to \"ask\""`,
			"skip_key = true",
			"vars.hindsight_gen_ssl = false\n",
		}, []string{"secret", "--help"}},
		{"man", []string{".TH check_gen 1", ".SH NOTES\n.PP\nNotes.\n\\&.starts with a dot\n.PP\nExamples:\n.nf\n  check_gen \\-H", "\\-\\-hostname",
			"\\fB\\-h\\fR, \\fB\\-\\-help\\fR", ".fi\n.SH EXIT STATUS"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			out := generated(t, tt.mode)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in:\n%s", n, out)
				}
			}
		})
	}
}

func TestGenerateBadMode(t *testing.T) {
	var out strings.Builder
	code := Runner{Args: []string{"--generate", "xml"}, Stdout: &out}.Run(genPlugin)
	if code != 3 || !strings.HasPrefix(out.String(), "GEN UNKNOWN - invalid --generate \"xml\"") {
		t.Errorf("got %d %q", code, out.String())
	}
}

// A --generate among other arguments is not a generation request: the
// check runs (and go-flags rejects the unknown option).
func TestGenerateOnlyAlone(t *testing.T) {
	for _, args := range [][]string{{"-w", "1", "--generate=man"}, {"--generate"}} {
		if mode, ok := generateMode(args); ok {
			t.Errorf("generateMode(%q) = %q, true", args, mode)
		}
	}
}

// TestWrapIndented: long examples are cut at spaces with a shell
// continuation, their comment moved above them; short lines stay whole.
func TestWrapIndented(t *testing.T) {
	tests := []struct {
		line  string
		width int
		want  []string
	}{
		{"  check_x -a 1", 20, []string{"  check_x -a 1"}},
		{"  check_x --aaa 1 --bbb 2 --ccc 3", 20, []string{"  check_x --aaa 1 \\", "      --bbb 2 \\", "      --ccc 3"}},
		{"  check_x -a 1     a comment here", 20, []string{"  # a comment here", "  check_x -a 1"}},
		{"  a table row that is long", 14, []string{"  a table row", "      that is", "      long"}},
		{"  averyveryverylongword", 10, []string{"  averyveryverylongword"}},
	}
	for _, tt := range tests {
		got := wrapIndented(tt.line, tt.width)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("wrapIndented(%q, %d) = %q, want %q", tt.line, tt.width, got, tt.want)
		}
	}
}

// An option taking a value without unquote:"false" fails generation, so
// `make generate` and the tests that regenerate every plugin's files
// name it before it ships.
func TestGenerateRefusesUnquotingOption(t *testing.T) {
	p := Plugin{Name: "check_q", Service: "Q", Summary: "q", New: func() Check { return &quoteCheck{} }}
	var out strings.Builder
	if err := Generate(&out, p, "man"); err == nil || !strings.Contains(err.Error(), "-s, --string lacks unquote:\"false\"") {
		t.Errorf("err = %v", err)
	}
}

type quoteCheck struct {
	String string `short:"s" long:"string" description:"text"`
}

func (*quoteCheck) Run(context.Context, *Env) (Result, error) { return Result{}, nil }
