// Package state keeps small state files between plugin runs: since when
// a task has been in D, I/O counters of the last run, a hung mount. Files
// live per invoking user (the nagios user under NRPE, root by hand, never
// sharing one file), are written atomically, and a missing, corrupt or
// foreign file reads as "no history", never as an error that stops a check.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
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
	return filepath.Join(BaseDir, "hindsight-"+strconv.Itoa(os.Geteuid()), name+".json")
}

// PrivateDir returns BaseDir/hindsight-UID/NAME, created 0700 for this
// user and refused when someone else owns it or it is a symlink: /var/tmp
// is shared by every user.
func PrivateDir(name string) (string, error) {
	dir := filepath.Join(BaseDir, "hindsight-"+strconv.Itoa(os.Geteuid()), name)
	if err := safeDir(filepath.Dir(dir)); err != nil {
		return "", err
	}
	if err := safeDir(dir); err != nil {
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
// false when there is no usable history (missing, corrupt, foreign), with
// a reason for verbose output; err is reserved for unsafe paths.
func Load(path, kind string, version int, v any) (found bool, why string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, "no state file yet at " + path, nil
	}
	if err != nil {
		return false, fmt.Sprintf("state file unreadable, starting afresh: %v", err), nil
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
// the worst case is an empty file, which Load reads as no history. The directory is created 0700 for this user and refused
// if someone else owns it or it is a symlink (/var/tmp is shared).
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
// made safe as for Save.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := safeDir(dir); err != nil {
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

func safeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 || (ok && int(st.Uid) != os.Geteuid()) {
		return fmt.Errorf("state directory %s is not a directory owned by uid %d; refusing to use it", dir, os.Geteuid())
	}
	return nil
}
