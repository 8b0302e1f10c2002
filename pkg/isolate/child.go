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
	ops := []Op{req.Op}
	for _, a := range args[5:] {
		ops = append(ops, Op(a))
	}
	// One write per operation, as soon as it is done: if a later one
	// hangs, the parent has read what came before and knows which hung.
	for _, op := range ops {
		start := time.Now()
		reply, err := perform(Request{Op: op, Path: req.Path, Max: req.Max})
		reply.Elapsed = time.Since(start)
		io.WriteString(out, encode(op, reply, err)+"done="+string(op)+"\n")
		if err != nil {
			break
		}
	}
	io.WriteString(out, "end=1\n")
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

// The reply is a few "key=value" lines per operation, only the fields of
// that operation: no reflection, no dependency.
func encode(op Op, r Reply, err error) string {
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
	switch op {
	case Statfs:
		s := r.Statfs
		num("f_type", s.Type)
		num("f_bsize", s.Bsize)
		num("f_blocks", s.Blocks)
		num("f_bfree", s.Bfree)
		num("f_bavail", s.Bavail)
		num("f_files", s.Files)
		num("f_ffree", s.Ffree)
		num("f_flags", s.Flags)
	case Stat:
		t := r.Stat
		num("st_mode", t.Mode)
		num("st_dev", t.Dev)
		num("st_ino", t.Ino)
		num("st_size", t.Size)
		num("st_mtime_ns", uint64(t.Mtime.UnixNano()))
	case Readdir:
		for _, n := range r.Names {
			b.WriteString("name=" + strconv.Quote(n) + "\n")
		}
	case Read:
		b.WriteString("data=" + base64.StdEncoding.EncodeToString(r.Data) + "\n")
	}
	b.WriteString("ok=1\n")
	return b.String()
}

// decode reads the child's answers. It returns the merged reply, the
// operations that completed, and the first failure. Without "end" the
// child did not finish: the caller decides whether that was a timeout.
func decode(req Request, text string) (r Reply, done []Op, finished bool, err error) {
	var errno syscall.Errno
	for _, line := range strings.Split(text, "\n") {
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "errno":
			errno = syscall.Errno(n)
		case "done":
			done = append(done, Op(v))
			if errno != 0 && err == nil {
				err = &OpError{Req: req.at(Op(v)), Errno: errno}
			}
		case "end":
			finished = true
		case "ok":
		case "elapsed_ns":
			r.Elapsed += time.Duration(n)
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
			data, derr := base64.StdEncoding.DecodeString(v)
			if derr != nil && err == nil {
				err = errors.New(req.String() + ": probe sent a bad reply")
			}
			r.Data = data
		}
	}
	return r, done, finished, err
}
