package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type sample struct {
	Seen map[string]int64 `json:"seen"`
}

func TestRoundTripAndTolerance(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "procs.json")
	if found, why, err := Load(path, "procs", 1, &sample{}); found || err != nil || !strings.Contains(why, "no state file") {
		t.Fatalf("missing file: %v %q %v", found, why, err)
	}
	want := sample{Seen: map[string]int64{"1234:5678": 1700000000}}
	if err := Save(path, "procs", 1, want); err != nil {
		t.Fatal(err)
	}
	var got sample
	if found, _, err := Load(path, "procs", 1, &got); !found || err != nil || got.Seen["1234:5678"] != 1700000000 {
		t.Fatalf("round trip: %v %v %+v", found, err, got)
	}
	for name, content := range map[string]string{
		"foreign":  `{"kind":"blockdev","version":1,"data":{}}`,
		"old":      `{"kind":"procs","version":0,"data":{}}`,
		"bad data": `{"kind":"procs","version":1,"data":{"seen":"x"}}`,
		"empty":    "",
	} {
		os.WriteFile(path, []byte(content), 0o600)
		if found, why, err := Load(path, "procs", 1, &sample{}); found || err != nil || why == "" {
			t.Errorf("%s file: found=%v why=%q err=%v", name, found, why, err)
		}
	}
}

func TestRefusesSymlinkedDir(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o700)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link"))
	if err := Save(filepath.Join(dir, "link", "x.json"), "k", 1, 1); err == nil {
		t.Error("Save through a symlinked directory must fail")
	}
}

// A file that is not ours is an error on Load and is never replaced;
// an empty one and an envelope of another kind are ours to replace.
func TestForeignFileKept(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"text":       "important\n",
		"corrupt":    "{not json",
		"json":       `{"user":"root"}`,
		"empty kind": `{"kind":"","data":{}}`,
		"null":       "null",
	} {
		path := filepath.Join(dir, "f")
		os.WriteFile(path, []byte(content), 0o644)
		if _, _, err := Load(path, "procs", 1, &sample{}); !errors.Is(err, ErrForeign) {
			t.Errorf("%s: Load err = %v, want ErrForeign", name, err)
		}
		if err := Save(path, "procs", 1, sample{}); !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Save err = %v, want ErrForeign naming the path", name, err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("%s: the file was changed to %q", name, got)
		}
	}
	for name, content := range map[string]string{
		"empty":        "",
		"blank":        "\n",
		"other kind":   `{"kind":"blockdev","version":1,"data":{}}`,
		"same kind v0": `{"kind":"procs","version":0,"data":{}}`,
	} {
		path := filepath.Join(dir, "ours")
		os.WriteFile(path, []byte(content), 0o600)
		if err := Save(path, "procs", 1, sample{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Only the per-user directory under BaseDir is created: a directory the
// user named must exist.
func TestExplicitDirNotCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	err := Save(filepath.Join(dir, "s.json"), "k", 1, 1)
	if err == nil || !strings.Contains(err.Error(), dir+" does not exist") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the directory was created")
	}
	if !isUserDir(filepath.Dir(DefaultPath("x"))) {
		t.Error("the default directory is not the one created")
	}
}

// Which directories may hold another user's state: its own always; root's
// when named and not writable by everyone; nobody else's.
func TestTrustedOwner(t *testing.T) {
	const nagios = 112
	for _, tc := range []struct {
		name   string
		uid    uint32
		mode   os.FileMode
		rootOK bool
		want   string // "" for trusted
	}{
		{"own, private", nagios, 0o700, false, ""},
		{"own, world-writable", nagios, 0o777, true, ""},
		{"root:nagios 0770, named", 0, 0o770, true, ""},
		{"root 0755, named", 0, 0o755, true, ""},
		{"root 0755, the user's own dir", 0, 0o755, false, "owned by uid 0, not by this user (uid 112);"},
		{"/tmp, named", 0, os.ModeSticky | 0o777, true, "root's and writable by every user"},
		{"another user's", 1000, 0o700, true, "owned by uid 1000"},
	} {
		err := trustedOwner("/d", tc.uid, tc.mode, nagios, tc.rootOK)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
