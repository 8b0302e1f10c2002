package httpstatus

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (loop devices, mount, network namespaces)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func sh(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// xfsDocroot makes an XFS filesystem on a loop device, mounts it under
// dir and puts a small site on it. It returns the mountpoint and the
// docroot; cleanup unmounts and detaches (a shut-down XFS unmounts fine).
func xfsDocroot(t *testing.T, dir string) (mnt, root string) {
	t.Helper()
	img := filepath.Join(dir, "xfs.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(512 << 20) // XFS 6.1 wants about 300 MB at least
	f.Close()
	loop := sh(t, "losetup", "-f", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	sh(t, "mkfs.xfs", "-q", "-f", loop)
	mnt = filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	sh(t, "mount", "-t", "xfs", loop, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	root = filepath.Join(mnt, "www")
	os.Mkdir(root, 0o755)
	os.Chmod(mnt, 0o755)
	for _, name := range []string{"index.html", "pub.txt"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("gluster rpms here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return mnt, root
}

// TestReplayPostmortem001 replays the download server that answered 403
// to every URL after the XFS under it failed: Apache and nginx serve from
// XFS on a loop device, the filesystem is shut down, and the check must
// turn CRITICAL against both, naming the status (Apache 403, nginx 500).
func TestReplayPostmortem001(t *testing.T) {
	needRoot(t, "losetup", "mkfs.xfs", "xfs_io", "nginx", "apache2")
	bin := testutil.Binary(t, "check_http_status")
	dir := labDir(t)
	mnt, root := xfsDocroot(t, dir) // registered first: unmounted after the servers stop
	nginxPort, apachePort := freePort(t), freePort(t)
	startNginx(t, nginxConfig{Dir: dir, Root: root, Port: nginxPort})
	startApache(t, dir, root, apachePort)

	servers := []struct {
		name   string
		port   int
		status string
	}{
		{"apache", apachePort, "403 Forbidden"},
		{"nginx", nginxPort, "500 Internal Server Error"},
	}
	for _, s := range servers {
		for _, path := range []string{"/", "/pub.txt"} {
			res := testutil.Run(t, bin, "-u", fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path), "-e", "200", "-s", "gluster rpms")
			if res.Code != 0 {
				t.Fatalf("%s healthy %s: exit %d\n%s", s.name, path, res.Code, res.Stdout)
			}
		}
	}

	sh(t, "xfs_io", "-x", "-c", "shutdown", mnt)
	t.Logf("XFS at %s shut down", mnt)

	for _, s := range servers {
		for _, path := range []string{"/", "/pub.txt", "/never-existed"} {
			u := fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path)
			res := testutil.Run(t, bin, "-u", u, "-e", "200")
			t.Logf("%s: %s", s.name, strings.TrimSpace(res.Stdout))
			if res.Code != 2 || !strings.HasPrefix(res.Stdout, "HTTP CRITICAL - "+u+" "+s.status+" - expected 200") {
				t.Errorf("%s %s after shutdown: exit %d, want CRITICAL with %q\n%s", s.name, path, res.Code, s.status, res.Stdout)
			}
		}
		// Without -e as well: every 4xx is CRITICAL here, unlike check_http.
		res := testutil.Run(t, bin, "-u", fmt.Sprintf("http://127.0.0.1:%d/pub.txt", s.port))
		if res.Code != 2 || !strings.Contains(res.Stdout, s.status) {
			t.Errorf("%s without -e: exit %d\n%s", s.name, res.Code, res.Stdout)
		}
	}
}

// TestReplayPostmortem003 replays the services that were up but could not
// get their answers out (a router without its default route): a server in
// a network namespace with no route back to the checker. The check must
// say the connect timed out, well within -t, and never hang.
func TestReplayPostmortem003(t *testing.T) {
	needRoot(t, "ip")
	bin := testutil.Binary(t, "check_http_status")
	id := os.Getpid() % 250
	ns := fmt.Sprintf("hs-http-%d", os.Getpid())
	hostIf, nsIf := fmt.Sprintf("hsh%d", os.Getpid()), fmt.Sprintf("hsn%d", os.Getpid())
	hostIP, nsIP := fmt.Sprintf("10.253.%d.1", id), fmt.Sprintf("10.253.%d.2", id)

	sh(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sh(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostIf).Run() })
	sh(t, "ip", "link", "set", nsIf, "netns", ns)
	sh(t, "ip", "addr", "add", hostIP+"/32", "dev", hostIf)
	sh(t, "ip", "link", "set", hostIf, "up")
	sh(t, "ip", "route", "add", nsIP+"/32", "dev", hostIf)
	// The namespace has its address and nothing else: no route back.
	sh(t, "ip", "-n", ns, "addr", "add", nsIP+"/32", "dev", nsIf)
	sh(t, "ip", "-n", ns, "link", "set", nsIf, "up")
	sh(t, "ip", "-n", ns, "link", "set", "lo", "up")

	addr := nsIP + ":8080"
	srv := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestHelperServe$")
	srv.Env = append(os.Environ(), "HINDSIGHT_TEST_SERVE="+addr)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	// The service is up: from inside the namespace it answers.
	var inside testutil.Result
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		inside = testutil.Run(t, "ip", "netns", "exec", ns, bin, "-u", "http://"+addr+"/text", "-t", "2")
		if inside.Code == 0 {
			break
		}
	}
	if inside.Code != 0 {
		t.Fatalf("service in the namespace does not answer inside it: %s", inside.Stdout)
	}

	// From outside its answers cannot get back.
	for _, timeout := range []string{"3", "10"} {
		res := testutil.Run(t, bin, "-u", "http://"+addr+"/text", "-t", timeout)
		t.Logf("-t %s: %s (%s)", timeout, strings.TrimSpace(res.Stdout), res.Elapsed)
		if res.Code != 2 || !strings.Contains(res.Stdout, "connect to "+addr+": no answer within") {
			t.Errorf("-t %s: exit %d, want CRITICAL connect timeout\n%s", timeout, res.Code, res.Stdout)
		}
		limit, _ := strconv.ParseFloat(timeout, 64)
		if res.Elapsed > time.Duration(limit*0.95*float64(time.Second)) {
			t.Errorf("-t %s: took %s, not well within the deadline", timeout, res.Elapsed)
		}
	}
}

// TestHelperServe is the server process of TestReplayPostmortem003, run
// inside the namespace by re-executing the test binary.
func TestHelperServe(t *testing.T) {
	addr := os.Getenv("HINDSIGHT_TEST_SERVE")
	if addr == "" {
		t.Skip("helper process for TestReplayPostmortem003")
	}
	http.ListenAndServe(addr, testMux())
}
