package proc

import "testing"

func TestFSWait(t *testing.T) {
	for _, tc := range []struct{ wchan, want string }{
		{"request_wait_answer", "FUSE"},
		{"fuse_wait_on_page_writeback", "FUSE"},
		{"rpc_wait_bit_killable", "NFS"},
		{"nfs_wait_bit_killable", "NFS"},
		{"nfs4_wait_clnt_recover", "NFS"},
		{"rpc_wait_for_msg_send", "NFS"},
		{"wait_for_response", "CIFS"},
		{"cifs_reconnect_tcon", "CIFS"},
		{"ceph_mdsc_wait_request", "Ceph"},
		{"p9_client_rpc", "9p"},
		{"do_select", ""},
		{"futex_wait_queue", ""},
		{"0", ""},
		{"", ""},
		{"request_wait_answer_x", ""},
	} {
		if got := FSWait(tc.wchan); got != tc.want {
			t.Errorf("FSWait(%q) = %q, want %q", tc.wchan, got, tc.want)
		}
	}
}

func TestFamilyOf(t *testing.T) {
	for _, tc := range []struct {
		fstype, family string
		want           bool
	}{
		{"fuse.glusterfs", "FUSE", true},
		{"fuse", "FUSE", true},
		{"nfs4", "NFS", true},
		{"nfs4", "FUSE", false},
		{"cifs", "CIFS", true},
		{"ext4", "NFS", false},
		{"9p", "9p", true},
		{"ceph", "Ceph", true},
	} {
		if got := FamilyOf(tc.fstype, tc.family); got != tc.want {
			t.Errorf("FamilyOf(%q, %q) = %v", tc.fstype, tc.family, got)
		}
	}
}
