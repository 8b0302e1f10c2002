package files_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
)

// Replace writes atomically, 0600, within the limit, and replaces a
// symlink at the path rather than writing through it.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	src := source(t, 2*time.Second)
	ctx := context.Background()
	lim := files.Limit{Kind: "test", Max: 16}
	path := filepath.Join(dir, "jar")
	if err := src.Replace(ctx, lim, path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := src.Replace(ctx, lim, path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	// A symlink is refused: neither written through nor replaced, so
	// what is at the path never changes type.
	if err := src.Replace(ctx, lim, link, []byte("new")); err == nil || !strings.Contains(err.Error(), link+": is a symbolic link, not a regular file: not replaced") {
		t.Errorf("symlink: err = %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("written through a symlink: victim holds %q", b)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	if err := src.Replace(ctx, lim, dangling, []byte("new")); err == nil {
		t.Error("a dangling symlink was replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("written through a dangling symlink")
	}
	err := src.Replace(ctx, lim, path, []byte(strings.Repeat("x", 17)))
	if !errors.Is(err, files.ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("over the limit: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("a refused write changed the file: %q", b)
	}
	err = src.Replace(ctx, lim, filepath.Join(dir, "no", "such"), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such")) {
		t.Errorf("missing directory: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// A relative path is written where the process runs, as curl's.
func TestReplaceRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	src := source(t, 2*time.Second)
	if err := src.Replace(context.Background(), files.Limit{Kind: "test", Max: 16}, "jar.txt", []byte("rel")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "jar.txt")); err != nil || string(b) != "rel" {
		t.Errorf("%q %v", b, err)
	}
}
