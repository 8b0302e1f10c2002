package isolate

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// init keeps a probe child's requests, which its main goroutine serves,
// on the main thread (only a lock taken during init does that). A child
// stuck in the kernel then is one process in D under the plugin's name.
// From another thread, the SIGKILL of a timeout ends the leader and
// leaves what ps shows as a zombie, its stuck thread hidden behind it:
// /proc/PID then has no command line or executable to tell it by.
func init() {
	if IsChild(os.Args) {
		runtime.LockOSThread()
	}
}

// IsChild reports whether args (os.Args) ask for probe mode.
func IsChild(args []string) bool { return len(args) > 1 && args[1] == childArg }

// ChildMain serves requests, one per line of in, until in is closed,
// writing each reply to out. args[2], when present, is the lock
// directory. It returns the exit code: 0, whatever the operations found.
func ChildMain(args []string, in io.Reader, out io.Writer) int {
	nameProcess(args)
	lockDir := ""
	if len(args) > 2 {
		lockDir = args[2]
	}
	w := bufio.NewWriterSize(out, 32<<10)
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		req, deadline, ok := parseRequestLine(lines.Text())
		if !ok {
			w.WriteString("errno=" + strconv.Itoa(int(syscall.EINVAL)) + "\ndone=bad\nend=1\n")
			w.Flush()
			continue
		}
		serve(w, lockDir, req, deadline)
	}
	return 0
}

// nameProcess gives the child the plugin's name in ps and top: executed
// through /proc/self/exe, its comm would be "exe". /proc/self/comm names
// the process's main thread, whichever thread this goroutine runs on
// (prctl(PR_SET_NAME) would name only the calling thread).
func nameProcess(args []string) {
	name := filepath.Base(args[0])
	if len(name) > 15 {
		name = name[:15]
	}
	os.WriteFile("/proc/self/comm", []byte(name), 0)
}

// serve runs one request's operations under the target's lock. One write
// per operation, as soon as it is done: if a later one hangs, the parent
// has read what came before and knows which hung.
func serve(w *bufio.Writer, lockDir string, req Request, deadline time.Time) {
	finished := false
	if lockDir != "" {
		release, err := lockTarget(lockDir, req.Target, deadline)
		if err == nil {
			defer func() { release(finished) }()
		}
	}
	ops := append([]Op{req.Op}, req.Then...)
	for _, op := range ops {
		start := time.Now()
		r := req.at(op)
		reply, err := perform(w, r)
		reply.Elapsed = time.Since(start)
		w.WriteString(encode(op, reply, err) + "done=" + string(op) + "\n")
		w.Flush()
		if err != nil {
			break
		}
	}
	finished = true // answered, even if with an error: the target is not hung
	w.WriteString("end=1\n")
	w.Flush()
}

func perform(w *bufio.Writer, req Request) (Reply, error) {
	var r Reply
	switch req.Op {
	case Statfs:
		var st unix.Statfs_t
		if err := unix.Statfs(req.Path, &st); err != nil {
			return r, err
		}
		r.Statfs = StatfsInfo{
			// The conversions are no-ops on Linux; FreeBSD's Statfs_t has
			// signed counts and other widths (check_cert_expiry and
			// check_http_status are built for it).
			Type: uint64(st.Type), Bsize: uint64(st.Bsize), Blocks: uint64(st.Blocks), Bfree: uint64(st.Bfree),
			Bavail: uint64(st.Bavail), Files: uint64(st.Files), Ffree: uint64(st.Ffree), Flags: uint64(st.Flags),
		}
	case Stat:
		var st unix.Stat_t
		if err := unix.Stat(req.Path, &st); err != nil {
			return r, err
		}
		r.Stat = statInfo(&st)
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
	case ReadFile:
		return readFile(req.Path, int64(orDefault(req.Max, 64<<10)))
	case Walk:
		return r, walk(w, req.Path, orDefault(req.Max, 10000), req.Depth)
	case Readlink:
		link, err := os.Readlink(req.Path)
		r.Link = link
		return r, err
	case ReadDirect:
		return r, readDirect(req.Path)
	case WriteTest:
		return r, writeTest(req.Path)
	default:
		return r, syscall.EINVAL
	}
	return r, nil
}

func statInfo(st *unix.Stat_t) StatInfo {
	return StatInfo{Mode: uint64(st.Mode), Dev: st.Dev, Ino: st.Ino, Size: uint64(st.Size),
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}
}

// readFile opens path without blocking (a FIFO without writer would wait
// in open) and reads it only when it is a regular file, at most max+1
// bytes, so the caller can tell a file over its limit from one at it.
func readFile(path string, max int64) (Reply, error) {
	var r Reply
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return r, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return r, err
	}
	r.Stat = statInfo(&st)
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return r, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return r, err
	}
	r.Data = data
	return r, nil
}

// walk streams the tree under root, one "entry=" line per file, flushed
// before each directory is read: when a directory hangs, the parent has
// every entry found before it, and the last one is the directory that
// hung. Symlinks are reported, not followed.
func walk(w *bufio.Writer, root string, max, depth int) error {
	n := 0
	rootDepth := strings.Count(strings.TrimSuffix(filepath.Clean(root), "/"), "/")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			w.WriteString("walkerr=" + strconv.Itoa(int(errnoOf(err))) + "\t0\t" + strconv.Quote(path) + "\n")
			return nil
		}
		if n >= max {
			w.WriteString("truncated=1\n")
			return filepath.SkipAll
		}
		n++
		mode, size := uint32(0), int64(0)
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				mode, size = uint32(st.Mode), st.Size // Mode is 16 bits on FreeBSD
			}
		}
		w.WriteString("entry=" + strconv.FormatUint(uint64(mode), 10) + "\t" + strconv.FormatInt(size, 10) + "\t" + strconv.Quote(path) + "\n")
		if d.IsDir() {
			if depth > 0 && path != root && strings.Count(path, "/")-rootDepth >= depth {
				return filepath.SkipDir
			}
			w.Flush()
		}
		return nil
	})
	return err
}

func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
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

// requestLine encodes a request for the child's stdin: the operations,
// Max and Depth, the parent's deadline (so that the record in the lock
// says the same deadline the parent gives up at), then the target and the
// path quoted (a path may hold tabs or newlines).
func requestLine(req Request, deadline time.Time) string {
	ops := []string{string(req.Op)}
	for _, op := range req.Then {
		ops = append(ops, string(op))
	}
	return strings.Join(ops, ",") + "\t" + strconv.Itoa(req.Max) + "," + strconv.Itoa(req.Depth) + "\t" + strconv.FormatInt(deadline.UnixNano(), 10) +
		"\t" + strconv.Quote(req.Target) + "\t" + strconv.Quote(req.Path) + "\n"
}

func parseRequestLine(line string) (Request, time.Time, bool) {
	f := strings.SplitN(line, "\t", 5)
	if len(f) != 5 {
		return Request{}, time.Time{}, false
	}
	ops := strings.Split(f[0], ",")
	maxs, depths, _ := strings.Cut(f[1], ",")
	max, err1 := strconv.Atoi(maxs)
	depth, _ := strconv.Atoi(depths)
	deadline, err2 := strconv.ParseInt(f[2], 10, 64)
	target, err3 := strconv.Unquote(f[3])
	path, err4 := strconv.Unquote(f[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || ops[0] == "" {
		return Request{}, time.Time{}, false
	}
	req := Request{Op: Op(ops[0]), Path: path, Max: max, Depth: depth, Target: target}
	for _, op := range ops[1:] {
		req.Then = append(req.Then, Op(op))
	}
	return req, time.Unix(0, deadline), true
}

// The reply is a few "key=value" lines per operation, only the fields of
// that operation: no reflection, no dependency.
func encode(op Op, r Reply, err error) string {
	var b strings.Builder
	if err != nil {
		b.WriteString("errno=" + strconv.Itoa(int(errnoOf(err))) + "\n")
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
	case Stat, ReadFile:
		t := r.Stat
		num("st_mode", t.Mode)
		num("st_dev", t.Dev)
		num("st_ino", t.Ino)
		num("st_size", t.Size)
		num("st_mtime_ns", uint64(t.Mtime.UnixNano()))
		if op == ReadFile && r.Data != nil {
			b.WriteString("data=" + base64.StdEncoding.EncodeToString(r.Data) + "\n")
		}
	case Readdir:
		for _, n := range r.Names {
			b.WriteString("name=" + strconv.Quote(n) + "\n")
		}
	case Read:
		b.WriteString("data=" + base64.StdEncoding.EncodeToString(r.Data) + "\n")
	case Readlink:
		b.WriteString("link=" + strconv.Quote(r.Link) + "\n")
	}
	b.WriteString("ok=1\n")
	return b.String()
}
