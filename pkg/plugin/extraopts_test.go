package plugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// secretCheck echoes its password, as a careless error message would.
type secretCheck struct {
	Password string `long:"password" description:"a password" unquote:"false"`
	Token    string `long:"api-key" secret:"yes" description:"marked secret by tag" unquote:"false"`
	Name     string `long:"name" description:"not a secret" unquote:"false"`
}

func (c *secretCheck) Run(context.Context, *Env) (Result, error) {
	var r Result
	r.Add(CRITICAL, "login as "+c.Name+" with "+c.Password+" and "+c.Token+" refused")
	return r, nil
}

var secretPlugin = Plugin{Name: "check_secret", Service: "SECRET", Summary: "a test plugin", Usage: "[OPTIONS]",
	New: func() Check { return &secretCheck{} }}

func writeIni(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugins.ini")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExtraOpts(t *testing.T) {
	ini := writeIni(t, "; options for check_fake\n[check_fake]\ncount = 3\nw=2\n\n[other]\ncount=7\n\n[bad]\nnosuch=1\n\n[badvalue]\ncount=3\nwarning=abc\n\n[flagvalue]\nblock=yes\n\n[nested]\nextra-opts=x\n")
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"default section", []string{"--extra-opts=@" + ini}, 1, "FAKE WARNING - count is 3\n"},
		{"separate argument", []string{"--extra-opts", "@" + ini}, 1, "FAKE WARNING - count is 3\n"},
		{"command line wins", []string{"--extra-opts=@" + ini, "-n", "1"}, 0, "FAKE OK - count is 1\n"},
		{"command line wins when given first", []string{"-n", "1", "--extra-opts=@" + ini}, 0, "FAKE OK - count is 1\n"},
		{"named section", []string{"--extra-opts", "other@" + ini}, 0, "FAKE OK - count is 7\n"},
		{"unknown option", []string{"--extra-opts=bad@" + ini}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ":10: unknown option \"nosuch\"\n"},
		{"bad value at its line", []string{"--extra-opts=badvalue@" + ini}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ":14: invalid argument for flag -w, --warning: invalid range \"abc\": \"abc\" is not a number\n"},
		{"value for a flag", []string{"--extra-opts=flagvalue@" + ini}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ":17: option --block takes no value (write \"block=\")\n"},
		{"no nesting", []string{"--extra-opts=nested@" + ini}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ":20: extra-opts cannot be given in an ini file\n"},
		{"unknown section", []string{"--extra-opts=nosuch@" + ini}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ": no section [nosuch]\n"},
		{"missing file", []string{"--extra-opts=@" + ini + ".missing"}, 3, "FAKE UNKNOWN - extra-opts: " + ini + ".missing: no such file or directory\n"},
		{"a directory", []string{"--extra-opts=@" + filepath.Dir(ini)}, 3, "FAKE UNKNOWN - extra-opts: " + filepath.Dir(ini) + ": is a directory, not a regular file\n"},
		{"after -- it is an argument", []string{"--", "--extra-opts"}, 3, "FAKE UNKNOWN - unexpected argument \"--extra-opts\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run(t, tt.args...)
			out, _, _ = strings.Cut(out, "Usage:")
			if code != tt.code || out != tt.out {
				t.Errorf("%v:\n exit %d, %q\nwant %d, %q", tt.args, code, out, tt.code, tt.out)
			}
		})
	}
}

func TestExtraOptsDefaultFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plugins.ini"), []byte("[check_fake]\ncount=4\n"), 0o600)
	t.Setenv("MP_CONFIG_FILE", "")
	t.Setenv("NAGIOS_CONFIG_PATH", "/nonexistent:"+dir)
	if code, out := run(t, "--extra-opts"); code != 0 || out != "FAKE OK - count is 4\n" {
		t.Errorf("NAGIOS_CONFIG_PATH: exit %d, %q", code, out)
	}
	other := writeIni(t, "[check_fake]\ncount=5\n")
	t.Setenv("MP_CONFIG_FILE", other)
	if code, out := run(t, "--extra-opts", "-n", "6"); code != 0 || out != "FAKE OK - count is 6\n" {
		t.Errorf("MP_CONFIG_FILE and -n: exit %d, %q", code, out)
	}
	if code, out := run(t, "--extra-opts="); code != 0 || out != "FAKE OK - count is 5\n" {
		t.Errorf("MP_CONFIG_FILE: exit %d, %q", code, out)
	}
}

// A password kept in the ini file is masked wherever the check would
// print it, and so are values of options tagged secret.
func TestExtraOptsSecrets(t *testing.T) {
	ini := writeIni(t, "[check_secret]\npassword = hunter2!x\napi-key=tok-123456\nname=alice\n[bad]\npassword=hunter3!x\nnosuch=hunter3!x\n")
	var out strings.Builder
	code := Runner{Args: []string{"--extra-opts=@" + ini}, Stdout: &out}.Run(secretPlugin)
	if want := "SECRET CRITICAL - login as alice with xxxxx and xxxxx refused\n"; code != 2 || out.String() != want {
		t.Errorf("exit %d, %q; want %q", code, out.String(), want)
	}
	out.Reset()
	code = Runner{Args: []string{"--extra-opts=bad@" + ini, "--output-format", "json"}, Stdout: &out}.Run(secretPlugin)
	if code != 3 || strings.Contains(out.String(), "hunter3") || !strings.Contains(out.String(), ini+":7: unknown option") {
		t.Errorf("bad section: exit %d, %q", code, out.String())
	}
	out.Reset()
	Runner{Args: []string{"--password", "hunter4!x"}, Stdout: &out}.Run(secretPlugin)
	if strings.Contains(out.String(), "hunter4") {
		t.Errorf("a secret from the command line printed: %q", out.String())
	}
}

func TestSplitExtraOpts(t *testing.T) {
	tests := []struct {
		args, rest, locs []string
	}{
		{[]string{"-w", "1"}, []string{"-w", "1"}, nil},
		{[]string{"--extra-opts"}, nil, []string{""}},
		{[]string{"--extra-opts", "-w", "1"}, []string{"-w", "1"}, []string{""}},
		{[]string{"--extra-opts", "sec", "-w", "1"}, []string{"-w", "1"}, []string{"sec"}},
		{[]string{"--extra-opts=a@f", "--extra-opts=b"}, nil, []string{"a@f", "b"}},
		{[]string{"--", "--extra-opts"}, []string{"--", "--extra-opts"}, nil},
	}
	for _, tt := range tests {
		rest, locs := splitExtraOpts(tt.args)
		if !reflect.DeepEqual(rest, tt.rest) || !reflect.DeepEqual(locs, tt.locs) {
			t.Errorf("%q: rest %q locators %q", tt.args, rest, locs)
		}
	}
	for loc, want := range map[string][2]string{"": {"check_x", ""}, "s": {"s", ""}, "@f": {"check_x", "f"}, "s@/a@b": {"s", "/a@b"}} {
		if s, f := locate(loc, "check_x"); s != want[0] || f != want[1] {
			t.Errorf("locate(%q) = %q, %q", loc, s, f)
		}
	}
}

// authCheck validates its options once parsed, as check_http_status -a.
type authCheck struct {
	Auth string `short:"a" long:"authorization" description:"USER:PASSWORD" unquote:"false"`
	Name string `long:"name" description:"a name" unquote:"false"`
}

func (c *authCheck) Validate() error {
	if c.Auth != "" && !strings.Contains(c.Auth, ":") {
		return errors.New("-a must be USER:PASSWORD")
	}
	return nil
}

func (c *authCheck) Run(context.Context, *Env) (Result, error) {
	var r Result
	r.Add(OK, "fine")
	return r, nil
}

var authPlugin = Plugin{Name: "check_auth", Service: "AUTH", Summary: "a test plugin", Usage: "[OPTIONS]",
	New: func() Check { return &authCheck{} }}

// A value the check refuses once parsed is reported at its line in the
// ini file; one from the command line, as it is.
func TestExtraOptsValidateWhere(t *testing.T) {
	ini := writeIni(t, "[check_auth]\nname=x\nauthorization=nocolon\n")
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--extra-opts=@" + ini}, 3, "AUTH UNKNOWN - " + ini + ":3: -a must be USER:PASSWORD\n"},
		{[]string{"--extra-opts=@" + ini, "-a", "u:p"}, 0, "AUTH OK - fine\n"},
		{[]string{"--extra-opts=@" + ini, "-a", "bad", "--name", "y"}, 3, "AUTH UNKNOWN - -a must be USER:PASSWORD\n"},
	} {
		var out strings.Builder
		code := Runner{Args: tt.args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(authPlugin)
		got, _, _ := strings.Cut(out.String(), "Usage:")
		if code != tt.code || got != tt.out {
			t.Errorf("%v: exit %d, %q\nwant %d, %q", tt.args, code, got, tt.code, tt.out)
		}
	}
}

// --help and -V answer even when the ini file is bad: they are how one
// finds out what to write in it.
func TestExtraOptsBadIniHelpVersion(t *testing.T) {
	ini := writeIni(t, "[check_fake]\nnosuch=1\n")
	for _, args := range [][]string{
		{"--extra-opts=@" + ini, "--help"},
		{"-h", "--extra-opts=@" + ini + ".missing"},
		{"--extra-opts=@" + ini, "-V"},
		{"--version", "--extra-opts=@" + ini},
	} {
		code, out := run(t, args...)
		if code != 3 || strings.Contains(out, "extra-opts: ") || !(strings.Contains(out, "Usage:") || strings.Contains(out, "(hindsight)")) {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, out := run(t, "--extra-opts=@"+ini); code != 3 || !strings.Contains(out, ini+":2: unknown option") {
		t.Errorf("without --help: exit %d %q", code, out)
	}
}

// A file saved by a Windows editor starts with a byte order mark.
func TestExtraOptsBOM(t *testing.T) {
	ini := writeIni(t, "\xef\xbb\xbf[check_fake]\ncount=3\n")
	if code, out := run(t, "--extra-opts=@"+ini); code != 0 || out != "FAKE OK - count is 3\n" {
		t.Errorf("exit %d %q", code, out)
	}
}
