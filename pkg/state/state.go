// Package state keeps small state files between plugin runs: since when
// a task has been in D, I/O counters of the last run, a hung mount. Files
// live per invoking user (the nagios user under NRPE, root by hand, never
// sharing one file), are written atomically, and a missing, corrupt or
// foreign file reads as "no history", never as an error that stops a check.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// BaseDir is where the per-user directories are made. /var/tmp survives
// reboots, so a device that vanished across one is still noticed.
const BaseDir = "/var/tmp"

// DefaultPath returns BaseDir/hindsight-UID/NAME.json.
func DefaultPath(name string) string {
	return filepath.Join(userDir(), name+".json")
}

// userDir is BaseDir/hindsight-UID, the one state directory Write
// creates: a directory named by the user (--state-file) must exist, so a
// typo is an error rather than a tree made as root somewhere.
func userDir() string {
	return filepath.Join(BaseDir, "hindsight-"+strconv.Itoa(os.Geteuid()))
}

// isUserDir reports whether dir is userDir, also when reached through a
// symlinked BaseDir (callers may hand over a resolved path).
func isUserDir(dir string) bool {
	if dir == userDir() {
		return true
	}
	base, err := filepath.EvalSymlinks(BaseDir)
	return err == nil && dir == filepath.Join(base, filepath.Base(userDir()))
}

// ErrForeign is a file at a state path that is neither empty nor one of
// ours: it is never read as history and never overwritten.
var ErrForeign = errors.New("not a hindsight state file")

// Ours reports whether data may be replaced by a state file: empty (a
// fresh file, or one cut short by a crash) or our JSON envelope with a
// kind, of whatever kind and version. Anything else (a password file
// given by mistake) is someone's data.
func Ours(data []byte) bool {
	if len(bytes.TrimSpace(data)) == 0 {
		return true
	}
	var env struct {
		Kind *string `json:"kind"`
	}
	return json.Unmarshal(data, &env) == nil && env.Kind != nil && *env.Kind != ""
}

// PrivateDir returns BaseDir/hindsight-UID/NAME, created 0700 for this
// user and refused when someone else owns it or it is a symlink: /var/tmp
// is shared by every user.
func PrivateDir(name string) (string, error) {
	dir := filepath.Join(userDir(), name)
	if err := safeDir(filepath.Dir(dir), true); err != nil {
		return "", err
	}
	if err := safeDir(dir, true); err != nil {
		return "", err
	}
	return dir, nil
}

// envelope marks a file with what wrote it, so another plugin's or an
// older format's file is ignored rather than misread.
type envelope struct {
	Kind    string          `json:"kind"`
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
}

// Load reads the state of kind and version at path into v. It returns
// false when there is no usable history (missing, of another kind or
// version), with a reason for verbose output; err is for a file that is
// not ours (ErrForeign), which must not be overwritten.
func Load(path, kind string, version int, v any) (found bool, why string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, "no state file yet at " + path, nil
	}
	if err != nil {
		return false, fmt.Sprintf("state file unreadable, starting afresh: %v", err), nil
	}
	if !Ours(data) {
		return false, "", fmt.Errorf("state file %s: %w", path, ErrForeign)
	}
	found, why = Decode(data, path, kind, version, v)
	return found, why, nil
}

// Decode reads the state of kind and version from data (the content of
// the file at path) into v. It returns false when there is no usable
// history (corrupt, foreign), with a reason for verbose output.
func Decode(data []byte, path, kind string, version int, v any) (found bool, why string) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return false, "state file " + path + " is corrupt, starting afresh"
	}
	if env.Kind != kind || env.Version != version {
		return false, fmt.Sprintf("state file %s belongs to %s v%d, starting afresh", path, env.Kind, env.Version)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return false, "state file " + path + " has bad data, starting afresh"
	}
	return true, ""
}

// Save writes v atomically: a temporary file in the same directory, then
// rename. No fsync: it costs milliseconds on every run, and after a crash
// the worst case is an empty file, which Load reads as no history. The
// directory must exist, but for the per-user one under BaseDir, which is
// created 0700; either is refused if someone else owns it or it is a
// symlink (/var/tmp is shared). A file at path that is not ours
// (ErrForeign) is not replaced.
func Save(path, kind string, version int, v any) error {
	data, err := Encode(kind, version, v)
	if err != nil {
		return err
	}
	return Write(path, data)
}

// Encode marks v with its kind and version, as Save writes it.
func Encode(kind string, version int, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	out, err := json.Marshal(envelope{Kind: kind, Version: version, Data: data})
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return append(out, '\n'), nil
}

// Write replaces the file at path with data atomically, in a directory
// made safe as for Save, unless what is there is not ours.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := safeDir(dir, isUserDir(dir)); err != nil {
		return err
	}
	if err := checkOurs(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	return nil
}

// checkOurs refuses a regular file at path that is not ours. The caller
// has checked it on reading already; this is the last guard before a
// rename would destroy it. A symlink or nothing at path is fine: the
// rename replaces the link, never its target.
func checkOurs(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil // nothing there, a symlink (ELOOP), or unreadable: the rename decides
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil
	}
	// A state file is small; a file larger than any is not ours.
	data, err := io.ReadAll(io.LimitReader(f, maxCheck+1))
	if err != nil || len(data) > maxCheck || !Ours(data) {
		return fmt.Errorf("state file %s: %w", path, ErrForeign)
	}
	return nil
}

// maxCheck bounds what checkOurs reads: above the runtime's limit for
// state files, so no state file of ours is taken for a foreign one.
const maxCheck = 4 << 20

// safeDir makes sure dir may hold this user's state: a real directory of
// this user's, created when create (the user's own directory); another
// one named by the user (an explicit state file's) may also be root's.
func safeDir(dir string, create bool) error {
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create state directory %s: %w", dir, err)
		}
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state directory %s does not exist", dir)
	}
	if err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	if !fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("state directory %s is not a directory; refusing to use it", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return trustedOwner(dir, st.Uid, fi.Mode(), os.Geteuid(), !create)
}

// trustedOwner says why a directory owned by uid with mode may not hold
// the state of user euid, or nil. Its own user's always may. Root's may
// when the user named it (rootOK) and only root and a group it chose can
// write there, as in a root:nagios 0770 directory: anyone who can write
// in a directory can put a state file of their making in it.
func trustedOwner(dir string, uid uint32, mode fs.FileMode, euid int, rootOK bool) error {
	switch {
	case int(uid) == euid:
		return nil
	case !rootOK:
		return fmt.Errorf("state directory %s is owned by uid %d, not by this user (uid %d); refusing to use it", dir, uid, euid)
	case uid != 0:
		return fmt.Errorf("state directory %s is owned by uid %d, not by this user (uid %d) or root; refusing to use it", dir, uid, euid)
	case mode.Perm()&0o002 != 0:
		return fmt.Errorf("state directory %s is root's and writable by every user; refusing to use it", dir)
	}
	return nil
}
