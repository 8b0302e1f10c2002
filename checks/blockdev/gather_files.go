package blockdev

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/block"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/mounts"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// gatherFstab maps the mount points fstab mounts read-write to "fstab".
// An fstab that cannot be read is a problem of its own (UNKNOWN): the
// read-write expectations are then off, and the rest is still checked.
func gatherFstab(ctx context.Context, env *plugin.Env, c *Check, obs *observations) map[string]string {
	if c.ExpectRW || c.Fstab == os.DevNull {
		return nil // every filesystem must be rw, or none is expected: no fstab
	}
	data, err := env.Files().Read(ctx, files.Config, c.Fstab)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist) && c.Fstab == defaultFstab:
		if env.Verbose > 0 {
			obs.Notes = append(obs.Notes, "no "+defaultFstab+": no filesystem is expected read-write")
		}
		return nil
	case err != nil:
		obs.Problems = append(obs.Problems, "fstab "+err.Error()+": filesystems mounted read-only against fstab are not seen (--fstab)")
		return nil
	}
	out := map[string]string{}
	for _, e := range mounts.ParseFstab(data) {
		if !e.ReadOnly() && e.MountPoint != "none" && e.FSType != "swap" {
			out[filepath.Clean(e.MountPoint)] = "fstab"
		}
	}
	return out
}

// logLimits bound the kernel log read per run.
var logLimits = kmsg.Limits{Bytes: 32 << 20, Records: 20000}

// gatherLog reads the kernel log: the character device without blocking,
// bounded in bytes and records, or a file of records (fixtures) through
// the file source. What cannot be read is said in words, for an UNKNOWN
// saying what is not seen.
func gatherLog(ctx context.Context, env *plugin.Env, c *Check) (kmsg.Log, string) {
	if c.NoKmsg {
		return kmsg.Log{}, ""
	}
	p := c.Kmsg
	if err := env.Files().CheckLocal(ctx, p); err != nil {
		return kmsg.Log{}, p + " is on a network or FUSE mount (" + env.Files().Target(p) + "), which can hang: not read"
	}
	info, err := env.Files().Stat(ctx, p)
	if err != nil {
		return kmsg.Log{}, err.Error()
	}
	switch {
	case info.IsRegular():
		data, err := env.Files().Read(ctx, files.Kernel, p)
		if err != nil {
			return kmsg.Log{}, err.Error()
		}
		recs := kmsg.ParseAll(string(data))
		if len(recs) == 0 && len(strings.TrimSpace(string(data))) > 0 {
			return kmsg.Log{}, p + ": " + kmsg.ErrNotKmsg.Error()
		}
		return kmsg.Filter(recs, 0, logLimits), ""
	case info.Mode&syscall.S_IFMT == syscall.S_IFCHR:
		done := env.Begin("reading the kernel log " + p)
		defer done()
		log, err := kmsg.ReadDevice(ctx, p, 0, logLimits)
		switch {
		case errors.Is(err, kmsg.ErrNotPermitted):
			return kmsg.Log{}, p + ": not readable as uid " + strconv.Itoa(syscall.Geteuid()) + " (dmesg_restrict)"
		case err != nil:
			return kmsg.Log{}, err.Error()
		}
		return log, ""
	}
	return kmsg.Log{}, p + " is " + fileKind(info.Mode&syscall.S_IFMT) + ", not a character device or a file of records"
}

// badInput tells the errors of a path test's stat that are a mistake in
// the command line (UNKNOWN) from those of a failing filesystem (EIO,
// ESTALE, ENOTCONN: CRITICAL).
func badInput(e syscall.Errno) bool {
	switch e {
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.EACCES, syscall.EPERM:
		return true
	}
	return false
}

// fileKind names a file type (S_IFMT bits) with its article.
func fileKind(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return "a regular file"
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFCHR:
		return "a character device"
	case syscall.S_IFBLK:
		return "a block device"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFLNK:
		return "a symbolic link"
	}
	return "of unknown type"
}

// ext4Errors is ext4's own error bookkeeping in /sys/fs/ext4/DEV: it
// survives a remount and is reset only by e2fsck, so it is the reliable
// signal that ext4 hit an error (measured: mount options still say rw).
type ext4Errors struct {
	Count               uint64
	FirstTime, LastTime time.Time
	FirstFunc, LastFunc string
}

func readExt4Errors(sys block.Tree, dir string) ext4Errors {
	read := func(name string) string {
		b, err := sys.ReadFile(path.Join(dir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	var e ext4Errors
	e.Count, _ = strconv.ParseUint(read("errors_count"), 10, 64)
	if e.Count == 0 {
		return e
	}
	unix := func(name string) time.Time {
		n, err := strconv.ParseInt(read(name), 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}
		}
		return time.Unix(n, 0)
	}
	e.FirstTime, e.LastTime = unix("first_error_time"), unix("last_error_time")
	e.FirstFunc, e.LastFunc = read("first_error_func"), read("last_error_func")
	return e
}
