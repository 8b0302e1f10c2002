package proc

import (
	"strconv"
	"strings"
)

// fsWaits are the wait channels of tasks blocked on a filesystem that
// answers over a channel (a FUSE daemon, a server): prefixes and exact
// names, with the family a reader knows them by. FUSE and NFS wait
// interruptibly (state S) until a fatal signal, so the state letter alone
// misses them.
var fsWaits = []struct {
	name   string
	prefix bool
	family string
}{
	{"request_wait_answer", false, "FUSE"},
	{"fuse_", true, "FUSE"},
	{"rpc_wait_bit_killable", false, "NFS"},
	{"nfs_wait_", true, "NFS"},
	{"nfs4_", true, "NFS"},
	{"nfs_", true, "NFS"},
	{"rpc_", true, "NFS"}, // SUNRPC: NFS in practice
	{"wait_for_response", false, "CIFS"},
	{"cifs_", true, "CIFS"},
	{"smb2_", true, "CIFS"},
	{"ceph_", true, "Ceph"},
	{"p9_client_", true, "9p"},
	{"p9_", true, "9p"},
}

// FSWait names the filesystem family a task with wait channel wchan is
// blocked on ("FUSE", "NFS", "CIFS", "Ceph", "9p"), "" for any other wait.
func FSWait(wchan string) string {
	for _, w := range fsWaits {
		if wchan == w.name || (w.prefix && strings.HasPrefix(wchan, w.name)) {
			return w.family
		}
	}
	return ""
}

// FamilyOf says whether a filesystem type belongs to a family FSWait
// names: a mount a task blocked in that family's wait may be on.
func FamilyOf(fstype, family string) bool {
	switch family {
	case "FUSE":
		return fstype == "fuse" || fstype == "fuseblk" || strings.HasPrefix(fstype, "fuse.")
	case "NFS":
		return fstype == "nfs" || fstype == "nfs4"
	case "CIFS":
		return fstype == "cifs" || fstype == "smb3" || fstype == "smbfs"
	case "Ceph":
		return fstype == "ceph" || fstype == "fuse.ceph" || fstype == "fuse.cephfs"
	case "9p":
		return fstype == "9p"
	}
	return false
}

// Cwd is the working directory of a process: readlink of cwd, which does
// not touch the filesystem it points into. The kernel refuses it for
// other users' processes unless root (or CAP_SYS_PTRACE).
func (fs *FS) Cwd(pid int) (string, error) {
	return fs.readlink(strconv.Itoa(pid) + "/cwd")
}

// Mountinfo reads the mount table as process pid sees it (its mount
// namespace): a path it uses resolves against this one.
func (fs *FS) Mountinfo(pid int) ([]byte, error) {
	return fs.read(strconv.Itoa(pid)+"/mountinfo", make([]byte, 8192))
}
