package httpstatus

// Helpers that start Debian's nginx and Apache on loopback ports without
// systemd, each from a config of its own in a scratch directory, as the
// lab did (../shared/docs/blockdev-lab.md §1e, nagios-lab.md §7).

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// labDir is a scratch directory that the servers' unprivileged workers
// (www-data, nobody) can traverse, unlike t.TempDir's 0700.
func labDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hindsight-http-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nginxConfig is a minimal foreground nginx serving root on 127.0.0.1:port,
// with every path it writes under dir. tls adds a second listener.
type nginxConfig struct {
	Dir, Root         string
	Port              int
	TLSPort           int // 0: none
	CertFile, KeyFile string
}

func (c nginxConfig) render() string {
	tlsServer := ""
	if c.TLSPort != 0 {
		tlsServer = fmt.Sprintf(`
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s;
    ssl_certificate_key %s;
    root %s;
  }`, c.TLSPort, c.CertFile, c.KeyFile, c.Root)
	}
	return fmt.Sprintf(`daemon off;
user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/nginx-tmp/body;
  proxy_temp_path %[1]s/nginx-tmp/proxy;
  fastcgi_temp_path %[1]s/nginx-tmp/fastcgi;
  uwsgi_temp_path %[1]s/nginx-tmp/uwsgi;
  scgi_temp_path %[1]s/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:%[2]d;
    root %[3]s;
  }%[4]s
}
`, c.Dir, c.Port, c.Root, tlsServer)
}

// startNginx writes the config and runs nginx in the foreground as our
// child until the test ends.
func startNginx(t testing.TB, c nginxConfig) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (apt-get install nginx)")
	}
	os.MkdirAll(filepath.Join(c.Dir, "nginx-tmp"), 0o755)
	conf := filepath.Join(c.Dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(c.render()), 0o644); err != nil {
		t.Fatal(err)
	}
	startServerProcess(t, "nginx", c.Port, filepath.Join(c.Dir, "nginx-error.log"), bin, "-c", conf, "-p", c.Dir)
}

// startApache runs Debian's apache2 (prefork) in the foreground serving
// root on 127.0.0.1:port. Its children run as www-data.
func startApache(t testing.TB, dir, root string, port int) {
	t.Helper()
	bin, err := exec.LookPath("apache2")
	if err != nil {
		t.Skip("apache2 not installed (apt-get install apache2)")
	}
	mods := "/usr/lib/apache2/modules/"
	conf := fmt.Sprintf(`ServerRoot %[1]s
DefaultRuntimeDir %[1]s
PidFile %[1]s/apache.pid
Mutex file:%[1]s default
ErrorLog %[1]s/apache-error.log
LogLevel warn
LoadModule mpm_prefork_module %[4]smod_mpm_prefork.so
LoadModule authz_core_module %[4]smod_authz_core.so
LoadModule dir_module %[4]smod_dir.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
User www-data
Group www-data
ServerName localhost
Listen 127.0.0.1:%[2]d
DocumentRoot %[3]s
DirectoryIndex index.html
<Directory />
  Require all denied
</Directory>
<Directory %[3]s>
  Require all granted
</Directory>
`, dir, port, root, mods)
	path := filepath.Join(dir, "apache2.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startServerProcess(t, "apache2", port, filepath.Join(dir, "apache-error.log"), bin, "-f", path, "-DFOREGROUND")
}

// startServerProcess starts argv, waits until port accepts connections,
// and stops the process (and its workers) at cleanup.
func startServerProcess(t testing.TB, name string, port int, errorLog string, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := os.Create(filepath.Join(filepath.Dir(errorLog), name+".out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		out.Close()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			log, _ := os.ReadFile(out.Name())
			elog, _ := os.ReadFile(errorLog)
			t.Fatalf("%s exited at start:\n%s\n%s", name, log, elog)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within 10s", name, addr)
}
