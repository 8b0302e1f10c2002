// Package packaging holds what hindsight ships besides the binaries: the
// Nagios, NRPE and Icinga 2 definitions generated from each plugin's
// options (committed, checked here against the binaries), the nfpm
// configuration, and the tests that install the .deb and run the plugins
// under the real engines (packaging/engines).
package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// kinds are the committed generated files: directory, file extension.
var kinds = []struct{ mode, dir, ext string }{
	{"nagios", "nagios", ".cfg"},
	{"nrpe", "nrpe", ".cfg"},
	{"icinga2", "icinga2", ".conf"},
}

// plugins are the binaries in cmd/: every one is packaged and described.
func plugins(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../cmd/check_*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no plugins in ../cmd: %v", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(d))
	}
	return names
}

// TestGeneratedUpToDate regenerates every plugin's definitions from its
// binary and fails on any difference with the committed files.
func TestGeneratedUpToDate(t *testing.T) {
	names := plugins(t)
	for _, name := range names {
		bin := testutil.Binary(t, name)
		for _, k := range kinds {
			res := testutil.Run(t, bin, "--generate="+k.mode)
			if res.Code != 0 {
				t.Fatalf("%s --generate=%s: exit %d: %s", name, k.mode, res.Code, res.Stdout)
			}
			path := filepath.Join(k.dir, name+k.ext)
			committed, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: %v (run make generate and commit packaging/)", path, err)
				continue
			}
			if string(committed) != res.Stdout {
				t.Errorf("%s differs from `%s --generate=%s`: run make generate and commit packaging/\n%s",
					path, name, k.mode, firstDiff(string(committed), res.Stdout))
			}
		}
	}
	// Nothing stale: every committed file belongs to a plugin in cmd/.
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, k := range kinds {
		files, _ := filepath.Glob(filepath.Join(k.dir, "*"+k.ext))
		for _, f := range files {
			if !known[strings.TrimSuffix(filepath.Base(f), k.ext)] {
				t.Errorf("%s has no plugin in cmd/: remove it", f)
			}
		}
	}
}

// TestManPages renders every generated man page with groff's warnings on.
func TestManPages(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed: cannot render the man pages")
	}
	for _, name := range plugins(t) {
		res := testutil.Run(t, testutil.Binary(t, name), "--generate=man")
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, ".TH "+name+" 1 ") {
			t.Fatalf("%s --generate=man: exit %d: %.200s", name, res.Code, res.Stdout)
		}
		cmd := exec.Command(groff, "-man", "-ww", "-z")
		cmd.Stdin = strings.NewReader(res.Stdout)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s man page: groff: %v %s", name, err, stderr.String())
		}
		manFits80(t, name, res.Stdout)
	}
}

// manFits80 renders a man page as man does on an 80-column terminal and
// fails on any longer line, and when OPTIONS does not list -h/--help.
func manFits80(t *testing.T, name, page string) {
	t.Helper()
	man, err := exec.LookPath("man")
	if err != nil {
		t.Logf("man is not installed: %s not rendered at 80 columns", name)
		return
	}
	f := filepath.Join(t.TempDir(), name+".1")
	if err := os.WriteFile(f, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "-l", f)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man -l %s: %v", f, err)
	}
	text := string(out)
	for i, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("%s man page line %d is %d columns at MANWIDTH=80: %q", name, i+1, n, line)
		}
	}
	opts, _, _ := strings.Cut(text[strings.Index(text, "OPTIONS"):], "\nNOTES")
	if !strings.Contains(opts, "-h, --help") {
		t.Errorf("%s man page: OPTIONS does not list -h, --help", name)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + x + "\n  generated: " + y
		}
	}
	return ""
}
