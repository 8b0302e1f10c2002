package mounts

import "strings"

// Kind sorts a filesystem type: a check of storage health wants the
// block-backed ones (device health and responsiveness), the network and
// FUSE ones (responsiveness: a hung server or daemon blocks every df),
// and pseudo ones never unless named.
type Kind int

// The kinds of filesystem.
const (
	Block   Kind = iota // on a block device: ext4, xfs, btrfs, vfat ...
	Network             // nfs, cifs, ceph, sshfs ...
	Pseudo              // proc, sysfs, tmpfs, cgroup, overlay ...
	Fuse                // any other FUSE filesystem: a daemon, not a disk
)

var pseudoTypes = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "tmpfs": true, "ramfs": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "debugfs": true, "tracefs": true,
	"configfs": true, "fusectl": true, "mqueue": true, "hugetlbfs": true, "bpf": true,
	"pstore": true, "efivarfs": true, "autofs": true, "binfmt_misc": true, "rpc_pipefs": true,
	"nsfs": true, "selinuxfs": true, "overlay": true, "aufs": true,
	"nfsd": true, "sockfs": true, "pipefs": true, "devfs": true, "none": true,
}

var networkTypes = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ceph": true,
	"glusterfs": true, "9p": true, "afs": true, "lustre": true, "ncpfs": true, "davfs": true,
	"fuse.sshfs": true, "fuse.glusterfs": true, "fuse.s3fs": true, "fuse.rclone": true,
	"fuse.davfs2": true, "fuse.cephfs": true, "gpfs": true, "beegfs": true, "orangefs": true,
	"virtiofs": true, // a host directory served by virtiofsd: hangs when the daemon does
}

// sessionTypes are FUSE filesystems that a desktop session mounts for
// its user under /run/user/UID: they come and go with logins, refuse
// every other user (root included: no allow_other) and a hang of one
// stalls one user's file manager, not a service.
var sessionTypes = map[string]bool{
	"fuse.gvfsd-fuse":       true, // GVfs (GNOME) at /run/user/UID/gvfs
	"fuse.gvfs-fuse-daemon": true, // its name before GVfs 1.14
	"fuse.portal":           true, // xdg-document-portal at /run/user/UID/doc
}

// PerSession reports whether fstype is a FUSE filesystem of one desktop
// session rather than of the host.
func PerSession(fstype string) bool { return sessionTypes[fstype] }

// KindOf classifies m. A filesystem with a real device number (major
// above 0) or a /dev source is block-backed; btrfs and zfs report
// anonymous device numbers but still live on disks.
func KindOf(m Mount) Kind {
	t := m.FSType
	switch {
	case networkTypes[t]:
		return Network
	case pseudoTypes[t]:
		return Pseudo
	case t == "fuse" || strings.HasPrefix(t, "fuse."):
		return Fuse
	case m.Major != 0, strings.HasPrefix(m.Source, "/dev/"), t == "btrfs", t == "zfs":
		return Block
	}
	return Pseudo
}

func (k Kind) String() string {
	switch k {
	case Block:
		return "block"
	case Network:
		return "network"
	case Fuse:
		return "fuse"
	}
	return "pseudo"
}
