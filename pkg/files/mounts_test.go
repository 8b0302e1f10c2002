package files

import "testing"

func TestRiskyMounts(t *testing.T) {
	text := `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
30 22 0:45 / /mnt/fuse rw - fuse.sshfs host:/ rw
31 22 0:46 / /srv/nfs rw - nfs4 server:/export rw
32 22 0:47 / /home rw - autofs systemd-1 rw
33 22 0:48 / /boot rw - autofs systemd-1 rw
34 33 254:2 / /boot rw - ext4 /dev/vda2 rw
35 22 0:49 / /tmp rw - tmpfs tmpfs rw
36 22 0:50 / /mnt/sp\040ace rw - fuse.rclone remote: rw
`
	got := riskyMounts(text)
	want := map[string]string{"/mnt/fuse": "fuse.sshfs", "/srv/nfs": "nfs4", "/home": "autofs", "/mnt/sp ace": "fuse.rclone"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
