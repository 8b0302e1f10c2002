package fusetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A child started while the filesystem is mounted must not inherit the
// /dev/fuse connection (see closeFuseOnExec).
func TestChildrenDoNotInheritTheConnection(t *testing.T) {
	if why := Available(); why != "" {
		t.Skip("skipping: " + why)
	}
	f, err := Mount(t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := exec.Command("sh", "-c", "ls -l /proc/self/fd/").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(string(out), "/dev/fuse") {
		t.Errorf("a child inherited /dev/fuse:\n%s", out)
	}
	if _, err := os.Stat(f.Mountpoint); err != nil {
		t.Errorf("mount point: %v", err)
	}
}
