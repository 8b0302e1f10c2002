package isolate

import (
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// IsChild reports whether args (os.Args) ask for probe mode.
func IsChild(args []string) bool { return len(args) > 1 && args[1] == childArg }

// ChildMain performs the operation named in args and writes the reply to
// out. It returns the exit code: 0, whatever the operation's result.
func ChildMain(args []string, out io.Writer) int {
	if len(args) < 4 {
		io.WriteString(out, "errno="+strconv.Itoa(int(syscall.EINVAL))+"\n")
		return 0
	}
	req := Request{Op: Op(args[2]), Path: args[3]}
	if len(args) > 4 {
		req.Max, _ = strconv.Atoi(args[4])
	}
	start := time.Now()
	reply, err := perform(req)
	reply.Elapsed = time.Since(start)
	io.WriteString(out, encode(reply, err))
	return 0
}

func perform(req Request) (Reply, error) {
	var r Reply
	switch req.Op {
	case Statfs:
		var st unix.Statfs_t
		if err := unix.Statfs(req.Path, &st); err != nil {
			return r, err
		}
		r.Statfs = StatfsInfo{
			Type: uint64(st.Type), Bsize: uint64(st.Bsize), Blocks: st.Blocks, Bfree: st.Bfree,
			Bavail: st.Bavail, Files: st.Files, Ffree: st.Ffree, Flags: uint64(st.Flags),
		}
	case Stat:
		var st unix.Stat_t
		if err := unix.Stat(req.Path, &st); err != nil {
			return r, err
		}
		r.Stat = StatInfo{Mode: uint64(st.Mode), Dev: st.Dev, Ino: st.Ino, Size: uint64(st.Size),
			Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}
	case Readdir:
		f, err := os.Open(req.Path)
		if err != nil {
			return r, err
		}
		defer f.Close()
		names, err := f.Readdirnames(orDefault(req.Max, 16))
		if err != nil && !errors.Is(err, io.EOF) {
			return r, err
		}
		r.Names = names
	case Read:
		f, err := os.Open(req.Path)
		if err != nil {
			return r, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, int64(orDefault(req.Max, 64<<10))))
		if err != nil {
			return r, err
		}
		r.Data = data
	case ReadDirect:
		return r, readDirect(req.Path)
	case WriteTest:
		return r, writeTest(req.Path)
	default:
		return r, syscall.EINVAL
	}
	return r, nil
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// readDirect reads the first 4 KiB with O_DIRECT, past the page cache, so
// a device that fails or hangs is seen even when its data is cached.
func readDirect(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	const block = 4096
	buf := make([]byte, 2*block)
	off := (block - int(uintptr(unsafePointer(buf))%block)) % block // O_DIRECT wants an aligned buffer
	_, err = unix.Pread(fd, buf[off:off+block], 0)
	return err
}

func writeTest(dir string) error {
	f, err := os.CreateTemp(dir, ".hindsight-write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.WriteString("hindsight write test\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(filepath.Clean(name))
}

// The reply is a few "key=value" lines: no reflection, no dependency.
func encode(r Reply, err error) string {
	var b strings.Builder
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EIO
		}
		b.WriteString("errno=" + strconv.Itoa(int(errno)) + "\n")
		return b.String()
	}
	num := func(k string, v uint64) { b.WriteString(k + "=" + strconv.FormatUint(v, 10) + "\n") }
	num("elapsed_ns", uint64(r.Elapsed))
	s := r.Statfs
	num("f_type", s.Type)
	num("f_bsize", s.Bsize)
	num("f_blocks", s.Blocks)
	num("f_bfree", s.Bfree)
	num("f_bavail", s.Bavail)
	num("f_files", s.Files)
	num("f_ffree", s.Ffree)
	num("f_flags", s.Flags)
	t := r.Stat
	num("st_mode", t.Mode)
	num("st_dev", t.Dev)
	num("st_ino", t.Ino)
	num("st_size", t.Size)
	if !t.Mtime.IsZero() {
		num("st_mtime_ns", uint64(t.Mtime.UnixNano()))
	}
	for _, n := range r.Names {
		b.WriteString("name=" + strconv.Quote(n) + "\n")
	}
	if r.Data != nil {
		b.WriteString("data=" + base64.StdEncoding.EncodeToString(r.Data) + "\n")
	}
	b.WriteString("ok=1\n")
	return b.String()
}

func decode(req Request, text string) (Reply, error) {
	var r Reply
	ok := false
	for _, line := range strings.Split(text, "\n") {
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "errno":
			return r, &OpError{Req: req, Errno: syscall.Errno(n)}
		case "ok":
			ok = true
		case "elapsed_ns":
			r.Elapsed = time.Duration(n)
		case "f_type":
			r.Statfs.Type = n
		case "f_bsize":
			r.Statfs.Bsize = n
		case "f_blocks":
			r.Statfs.Blocks = n
		case "f_bfree":
			r.Statfs.Bfree = n
		case "f_bavail":
			r.Statfs.Bavail = n
		case "f_files":
			r.Statfs.Files = n
		case "f_ffree":
			r.Statfs.Ffree = n
		case "f_flags":
			r.Statfs.Flags = n
		case "st_mode":
			r.Stat.Mode = n
		case "st_dev":
			r.Stat.Dev = n
		case "st_ino":
			r.Stat.Ino = n
		case "st_size":
			r.Stat.Size = n
		case "st_mtime_ns":
			r.Stat.Mtime = time.Unix(0, int64(n))
		case "name":
			if s, err := strconv.Unquote(v); err == nil {
				r.Names = append(r.Names, s)
			}
		case "data":
			data, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return r, errors.New(req.String() + ": probe sent a bad reply")
			}
			r.Data = data
		}
	}
	if !ok {
		return r, errors.New(req.String() + ": probe ended without a reply")
	}
	return r, nil
}
