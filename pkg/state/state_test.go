package state

import (
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
	path := filepath.Join(dir, "sub", "procs.json")
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
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v", fi.Mode())
	}
	for name, content := range map[string]string{
		"corrupt":  "{not json",
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
