package files

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Replace writes data as the file at path, atomically: a new file in the
// same directory, renamed over the old one, so a reader (or a run killed
// half-way) sees the old content or the new, never a part. data must not
// exceed lim. The directory must be on a filesystem that cannot hang (it
// is written in-process). Only a regular file, or nothing, at path is
// replaced: the type of what is there never changes, so a symlink (or a
// FIFO, a directory) is an error, neither replaced nor written through
// (it may point at a file that is not the caller's to write). The file
// is created mode 0600: what a check writes back (a cookie jar) may hold
// credentials.
func (s *Source) Replace(ctx context.Context, lim Limit, path string, data []byte) error {
	if int64(len(data)) > lim.Max {
		return &Error{Path: path, Problem: "not written: larger than the " + formatSize(lim.Max) + " limit for " + lim.Kind + " files", Err: ErrTooLarge}
	}
	// The directory is resolved, not the file, and without cleaning the
	// path ("a/link/../f" is not "a/f" when link is a symlink).
	dirPart, name := ".", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dirPart, name = path[:i], path[i+1:]
		if i == 0 {
			dirPart = "/"
		}
	}
	dir, err := s.Local(ctx, dirPart)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, name), &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return &Error{Path: path, Problem: "is " + DescribeType(uint32(st.Mode)) + ", not a regular file: not replaced", Err: ErrNotRegular}
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return errnoError(path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return errnoError(path, err)
	}
	if err := tmp.Close(); err != nil {
		return errnoError(path, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return errnoError(path, err)
	}
	return nil
}
