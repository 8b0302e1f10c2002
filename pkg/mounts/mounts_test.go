package mounts

import (
	"os"
	"testing"
)

// read parses a fixture mountinfo.
func read(t *testing.T, path string) ([]Mount, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data)
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/srv/my\040data`:   "/srv/my data",
		`/a\011b\012c`:      "/a\tb\nc",
		`/back\134slash`:    `/back\slash`,
		`/plain`:            "/plain",
		`/trailing\04`:      `/trailing\04`,
		`/not\999octal`:     `/not\999octal`,
		`\040lead`:          " lead",
		`/x\040\040y\040`:   "/x  y ",
		`/dev/disk/by-\x2d`: `/dev/disk/by-\x2d`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadMountinfo(t *testing.T) {
	ms, err := read(t, "../../testdata/blockdev/healthy/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	byPoint := map[string]Mount{}
	for _, m := range ms {
		byPoint[m.MountPoint] = m
	}
	srv, ok := byPoint["/srv/my data"]
	if !ok {
		t.Fatalf("escaped mount point not decoded: %+v", ms)
	}
	if srv.Dev() != "254:1" || srv.FSType != "xfs" || srv.Source != "/dev/vda1" || srv.ReadOnly() || KindOf(srv) != Block {
		t.Errorf("bad /srv/my data: %+v", srv)
	}
	for point, kind := range map[string]Kind{"/": Block, "/mnt/image": Block, "/mnt/nfs": Network, "/run/user/0": Pseudo, "/proc": Pseudo} {
		if got := KindOf(byPoint[point]); got != kind {
			t.Errorf("%s: kind %s, want %s", point, got, kind)
		}
	}
}

func TestEmergencyRO(t *testing.T) {
	ms, err := read(t, "../../testdata/blockdev/ext4/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		switch m.MountPoint {
		case "/var":
			if !m.EmergencyRO() || m.ReadOnly() {
				t.Errorf("/var: emergency_ro %v, ro %v; want true, false", m.EmergencyRO(), m.ReadOnly())
			}
		case "/home":
			if !m.ReadOnly() {
				t.Errorf("/home not read-only")
			}
		}
	}
}

func TestLatest(t *testing.T) {
	ms := []Mount{{ID: 1, MountPoint: "/a"}, {ID: 2, MountPoint: "/b"}, {ID: 3, MountPoint: "/a"}}
	got := Latest(ms)
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 3 {
		t.Errorf("Latest = %+v", got)
	}
}

func TestFstab(t *testing.T) {
	data, err := os.ReadFile("../../testdata/blockdev/healthy/fstab")
	if err != nil {
		t.Fatal(err)
	}
	es := ParseFstab(data)
	if len(es) != 3 || es[1].MountPoint != "/srv/my data" || es[1].ReadOnly() {
		t.Errorf("fstab = %+v", es)
	}
	if es := ParseFstab(nil); es != nil {
		t.Errorf("empty fstab: %v", es)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{"", "\x00\x00\x00", "22 27 0:21 / /proc rw,relatime proc proc rw", "x 27 0:21 / /p rw - proc proc rw"} {
		if ms, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, ms)
		}
	}
}

func TestContaining(t *testing.T) {
	ms := []Mount{{MountPoint: "/"}, {MountPoint: "/srv"}, {MountPoint: "/srv/www"}, {MountPoint: "/srv/w"}}
	for path, want := range map[string]string{"/srv/www/index.html": "/srv/www", "/srv/wx": "/srv", "/srv": "/srv", "/etc": "/"} {
		if m, ok := Containing(ms, path); !ok || m.MountPoint != want {
			t.Errorf("Containing(%q) = %q, want %q", path, m.MountPoint, want)
		}
	}
}

func TestKindOfFuseAndSession(t *testing.T) {
	for _, tt := range []struct {
		fstype  string
		kind    Kind
		session bool
	}{
		{"fuse.glusterfs", Network, false},
		{"virtiofs", Network, false},
		{"fuse.lxcfs", Fuse, false},
		{"fuse.faultfs", Fuse, false},
		{"fuse.gvfsd-fuse", Fuse, true},
		{"fuse.portal", Fuse, true},
		{"fusectl", Pseudo, false},
	} {
		m := Mount{FSType: tt.fstype, Minor: 50}
		if got := KindOf(m); got != tt.kind || PerSession(tt.fstype) != tt.session {
			t.Errorf("%s: kind %s, per session %v; want %s, %v", tt.fstype, got, PerSession(tt.fstype), tt.kind, tt.session)
		}
	}
}
