// Package fusetest is a loopback FUSE filesystem for tests whose
// operations can be made to hang or fail with EIO at will, at run time:
// the hung NFS server or dying disk of the postmortems, on demand. It
// needs root (it mounts with mount(2) directly, no fusermount) and
// /dev/fuse. Plugins never import it; tests of the prober, check_blockdev
// and check_stuck_procs do.
package fusetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Fault is what an operation does.
type Fault int

// The faults an operation can be given.
const (
	Pass Fault = iota // behave as the backing directory
	Hang              // never answer until the fault is changed
	EIO               // fail with EIO
)

// The operations faults can be set on.
const (
	OpStatfs  = "statfs"
	OpGetattr = "getattr"
	OpLookup  = "lookup"
	OpReaddir = "readdir"
	OpOpen    = "open"
	OpRead    = "read"
	OpWrite   = "write"
	OpFsync   = "fsync"
)

// FS is a mounted fault-injecting loopback filesystem.
type FS struct {
	Mountpoint string
	Backing    string
	server     *fuse.Server

	mu      sync.Mutex
	faults  map[string]Fault
	changed chan struct{} // closed and replaced on every change
	held    int           // requests taken and being held by Hang
}

// Available says why FUSE tests cannot run here, or "" when they can.
func Available() string {
	if os.Geteuid() != 0 {
		return "needs root to mount a FUSE filesystem"
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "no /dev/fuse: " + err.Error()
	}
	return ""
}

// Mount mounts backing at mountpoint. Call Close when done: it releases
// every hung operation and unmounts.
func Mount(backing, mountpoint string) (*FS, error) {
	f := &FS{Mountpoint: mountpoint, Backing: backing, faults: map[string]Fault{}, changed: make(chan struct{})}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", backing, err)
	}
	root := &fs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}
	root.RootNode = &node{LoopbackNode: &fs.LoopbackNode{RootData: root}, fs: f}
	zero := time.Duration(0)
	opts := &fs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{DirectMountStrict: true, AllowOther: true, FsName: "hindsight-faultfs", Name: "faultfs"},
	}
	server, err := fs.Mount(mountpoint, root.RootNode, opts)
	if err != nil {
		return nil, fmt.Errorf("mount faultfs on %s: %w", mountpoint, err)
	}
	f.server = server
	closeFuseOnExec()
	return f, nil
}

// closeFuseOnExec marks every open /dev/fuse descriptor close-on-exec.
// go-fuse opens it without O_CLOEXEC, so plugins and probe children that a
// test starts would inherit the connection: if the test then dies, those
// children keep the hung filesystem alive themselves and sit in D forever.
func closeFuseOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || target != "/dev/fuse" {
			continue
		}
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			unix.CloseOnExec(fd)
		}
	}
}

// Set gives op the fault; "all" sets every operation.
func (f *FS) Set(op string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == "all" {
		for _, o := range []string{OpStatfs, OpGetattr, OpLookup, OpReaddir, OpOpen, OpRead, OpWrite, OpFsync} {
			f.faults[o] = fault
		}
	} else {
		f.faults[op] = fault
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// WaitHeld waits until at least n requests are being held by Hang, and
// reports whether that happened within timeout. A caller shows
// request_wait_answer as soon as its request is queued, but only once the
// filesystem has taken it does SIGKILL leave the caller in D.
func (f *FS) WaitHeld(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		held := f.held
		f.mu.Unlock()
		if held >= n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Release makes every operation pass again, answering all hung requests.
func (f *FS) Release() { f.Set("all", Pass) }

// Close releases hung requests and unmounts, lazily if still busy.
func (f *FS) Close() error {
	f.Release()
	if f.server == nil {
		return nil
	}
	if err := f.server.Unmount(); err != nil {
		err = syscall.Unmount(f.Mountpoint, lazyUnmount)
		if err == syscall.EINVAL { // no longer a mount point: someone unmounted it
			return nil
		}
		return err
	}
	return nil
}

// gate applies the fault of op: returns 0 to proceed, EIO to fail, or
// blocks while the fault is Hang.
func (f *FS) gate(ctx context.Context, op string) syscall.Errno {
	for {
		f.mu.Lock()
		fault, changed := f.faults[op], f.changed
		f.mu.Unlock()
		switch fault {
		case EIO:
			return syscall.EIO
		case Hang:
			// Like a dead server that has read the request: from now on a
			// killed caller sleeps in D until the fault is changed.
			f.mu.Lock()
			f.held++
			f.mu.Unlock()
			<-changed // a kernel interrupt does not end it
			f.mu.Lock()
			f.held--
			f.mu.Unlock()
		default:
			return 0
		}
	}
}

type node struct {
	*fs.LoopbackNode
	fs *FS
}

// WrapChild makes every node the loopback creates below the root one of
// ours, so that faults apply at any depth.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), fs: n.fs}
}

var (
	_ fs.NodeWrapChilder    = (*node)(nil)
	_ fs.NodeStatfser       = (*node)(nil)
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeLookuper       = (*node)(nil)
	_ fs.NodeReaddirer      = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
)

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	if e := n.fs.gate(ctx, OpStatfs); e != 0 {
		return e
	}
	return n.LoopbackNode.Statfs(ctx, out)
}

func (n *node) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if e := n.fs.gate(ctx, OpGetattr); e != 0 {
		return e
	}
	return n.LoopbackNode.Getattr(ctx, fh, out)
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.fs.gate(ctx, OpLookup); e != 0 {
		return nil, e
	}
	return n.LoopbackNode.Lookup(ctx, name, out)
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if e := n.fs.gate(ctx, OpReaddir); e != 0 {
		return nil, 0, e
	}
	return n.LoopbackNode.OpendirHandle(ctx, flags)
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	if e := n.fs.gate(ctx, OpReaddir); e != 0 {
		return nil, e
	}
	return n.LoopbackNode.Readdir(ctx)
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if e := n.fs.gate(ctx, OpOpen); e != 0 {
		return nil, 0, e
	}
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &file{inner: fh, fs: n.fs}, fl | fuse.FOPEN_DIRECT_IO, 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if e := n.fs.gate(ctx, OpWrite); e != 0 {
		return nil, nil, 0, e
	}
	in, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return in, &file{inner: fh, fs: n.fs}, fl, 0
}

// file wraps the loopback file handle so reads, writes and fsyncs can be
// faulted; FOPEN_DIRECT_IO keeps the page cache from hiding them.
type file struct {
	inner fs.FileHandle
	fs    *FS
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileWriter    = (*file)(nil)
	_ fs.FileFsyncer   = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
)

func (f *file) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if e := f.fs.gate(ctx, OpRead); e != 0 {
		return nil, e
	}
	return f.inner.(fs.FileReader).Read(ctx, dest, off)
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if e := f.fs.gate(ctx, OpWrite); e != 0 {
		return 0, e
	}
	return f.inner.(fs.FileWriter).Write(ctx, data, off)
}

func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if e := f.fs.gate(ctx, OpFsync); e != 0 {
		return e
	}
	return f.inner.(fs.FileFsyncer).Fsync(ctx, flags)
}

func (f *file) Flush(ctx context.Context) syscall.Errno {
	if fl, ok := f.inner.(fs.FileFlusher); ok {
		return fl.Flush(ctx)
	}
	return 0
}

func (f *file) Release(ctx context.Context) syscall.Errno {
	if r, ok := f.inner.(fs.FileReleaser); ok {
		return r.Release(ctx)
	}
	return 0
}

func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	if e := f.fs.gate(ctx, OpGetattr); e != 0 {
		return e
	}
	if g, ok := f.inner.(fs.FileGetattrer); ok {
		return g.Getattr(ctx, out)
	}
	return 0
}
