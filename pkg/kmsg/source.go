package kmsg

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
)

// kmsgDev is /dev/kmsg's device number (1, 11).
var kmsgDev = unix.Mkdev(1, 11)

// ReadPath reads the records after seq from path: the kernel log device
// without blocking, bounded by lim, or a file of records (fixtures)
// through the file source.
func ReadPath(ctx context.Context, src *files.Source, path string, after uint64, lim Limits) (Log, error) {
	regular, err := Kind(ctx, src, path)
	if err != nil {
		return Log{}, err
	}
	if !regular {
		return ReadDevice(ctx, path, after, lim)
	}
	data, err := src.Read(ctx, files.Kernel, path)
	if err != nil {
		return Log{}, err
	}
	recs := ParseAll(string(data))
	if len(recs) == 0 && len(strings.TrimSpace(string(data))) > 0 {
		return Log{}, fmt.Errorf("%s: %w", path, ErrNotKmsg)
	}
	return Filter(recs, after, lim), nil
}

// Kind says whether path is a file of records (true) or the kernel log
// device (false), or why it is neither: the stat that tells is isolated
// on a mount that can hang, and /dev/zero is refused.
func Kind(ctx context.Context, src *files.Source, path string) (regular bool, err error) {
	info, err := src.Stat(ctx, path)
	if err != nil {
		return false, err
	}
	if info.IsRegular() {
		if info.Size > files.Kernel.Max {
			return true, fmt.Errorf("%s: over the limit for %s", path, files.Kernel)
		}
		return true, nil
	}
	if err := src.CheckLocal(ctx, path); err != nil {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != kmsgDev {
		return false, fmt.Errorf("%s: is %s, not the kernel log device or a file of its records", path, files.DescribeType(uint32(st.Mode)))
	}
	return false, nil
}
