package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionScript: packaging/version.sh in a scratch repository, from
// no tag to a tag and past it, with and without the CHANGELOG's hint.
func TestVersionScript(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	script, err := filepath.Abs("version.sh")
	must(t, err)
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version := func() string {
		t.Helper()
		cmd := exec.Command("sh", script)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("version.sh: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	changelog := func(next string) {
		text := "# Changelog\n\n## [Unreleased]\n"
		if next != "" {
			text += "<!-- next-version: " + next + " -->\n"
		}
		must(t, os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte(text+"\n- a change\n"), 0o644))
		git("add", "CHANGELOG.md")
		git("commit", "-qm", "change")
	}
	git("init", "-q")
	changelog("0.2.0")
	hash := git("rev-parse", "--short=12", "HEAD")
	dev := regexp.MustCompile(`^(\d+\.\d+\.\d+)-dev\+g([0-9a-f]{12})(\.dirty)?$`)
	check := func(want, wantHash string, dirty bool) {
		t.Helper()
		got := version()
		m := dev.FindStringSubmatch(got)
		if want == got && wantHash == "" {
			return
		}
		if m == nil || m[1] != want || m[2] != wantHash || (m[3] != "") != dirty {
			t.Errorf("version.sh = %q, want %s-dev+g%s (dirty %v)", got, want, wantHash, dirty)
		}
	}
	check("0.2.0", hash, false) // no tag: the CHANGELOG's next version
	git("tag", "v0.2.0")
	check("0.2.0", "", false) // at the tag
	must(t, os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte("edited\n"), 0o644))
	check("0.3.0", hash, true) // modified: past the tag, the hint (0.2.0) is not above it
	changelog("")
	check("0.3.0", git("rev-parse", "--short=12", "HEAD"), false)
	changelog("1.0.0")
	check("1.0.0", git("rev-parse", "--short=12", "HEAD"), false)
}
