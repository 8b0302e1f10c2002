package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const hsPluginsDir = "/usr/lib/nagios/plugins/"

func init() {
	ours := func(args ...string) []string { return append([]string{"{bin}/check_http_status"}, args...) }
	many := ours()
	for i := 0; i < 50; i++ {
		many = append(many, "-u", "http://127.0.0.1:{hs_http}/?n="+strconv.Itoa(i))
	}
	const rss = 15 * 1024 // KiB
	register(Entry{
		Plugin: "check_http_status",
		Demo: [][]string{
			{"-u", "http://127.0.0.1:1/"},
			{"-u", "http://no-such-host.invalid/"},
			{"-H", "127.0.0.1", "-p", "80", "-e", "200"},
		},
		Bench: []Row{
			{Name: "http_status HTTP vs check_http", Setup: hsLab,
				Ours: ours("-u", "http://127.0.0.1:{hs_http}/"), Peer: []string{hsPluginsDir + "check_http", "-H", "127.0.0.1", "-p", "{hs_http}"},
				MaxRatio: 1, MaxRSS: rss},
			{Name: "http_status HTTP vs check_curl", Setup: hsLab,
				Ours: ours("-u", "http://127.0.0.1:{hs_http}/"), Peer: []string{hsPluginsDir + "check_curl", "-H", "127.0.0.1", "-p", "{hs_http}"},
				MaxRatio: 0.5, MaxRSS: rss},
			{Name: "http_status TLS vs check_http", Setup: hsLab,
				Ours: ours("-u", "https://127.0.0.1:{hs_tls}/", "--ca-file", "{hs_ca}"), Peer: []string{hsPluginsDir + "check_http", "-H", "127.0.0.1", "-p", "{hs_tls}", "-S"},
				MaxRatio: 1, MaxRSS: rss},
			{Name: "http_status TLS vs check_curl", Setup: hsLab,
				Ours: ours("-u", "https://127.0.0.1:{hs_tls}/", "--ca-file", "{hs_ca}"), Peer: []string{hsPluginsDir + "check_curl", "-H", "127.0.0.1", "-p", "{hs_tls}", "-S"},
				MaxRatio: 0.5, MaxRSS: rss},
			{Name: "http_status 50 URLs vs 1 URL", Setup: hsLab,
				Ours: many, Peer: ours("-u", "http://127.0.0.1:{hs_http}/"),
				MaxRatio: 1.5, MaxRSS: rss, Observe: hsNginxCPU},
			// What any Go check pays before its own logic (no target: the
			// floor under the rows above; see cmd/hindsight-dev/floor).
			{Name: "http_status floor: net/http request alone vs check_http", Setup: hsFloor,
				Ours: []string{"{hs_floor_nethttp}", "-u", "http://127.0.0.1:{hs_http}/"}, Peer: []string{hsPluginsDir + "check_http", "-H", "127.0.0.1", "-p", "{hs_http}"}},
			{Name: "http_status floor: 50 URLs vs 1 URL, net/http alone", Setup: hsFloor,
				Ours: append([]string{"{hs_floor_nethttp}"}, many[1:]...), Peer: []string{"{hs_floor_nethttp}", "-u", "http://127.0.0.1:{hs_http}/"}},
			{Name: "http_status floor: + go-flags options, gojq init vs check_http", Setup: hsFloor,
				Ours: []string{"{hs_floor_plugin}", "-u", "http://127.0.0.1:{hs_http}/"}, Peer: []string{hsPluginsDir + "check_http", "-H", "127.0.0.1", "-p", "{hs_http}"}},
		},
	})
}

// hsLab starts one nginx (HTTP and TLS on loopback) for every
// check_http_status row, as nagios-lab.md §7 did for the baselines.
func hsLab(l *Lab) error {
	if l.Vars["hs_http"] != "" {
		return nil
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return errors.New("nginx not installed")
	}
	dir := filepath.Join(l.Dir, "httpstatus")
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		return err
	}
	os.Chmod(l.Dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("<html><body>hindsight bench</body></html>\n"), 0o644); err != nil {
		return err
	}
	cert, key, err := hsSelfSigned(dir)
	if err != nil {
		return err
	}
	httpPort, err := hsFreePort()
	if err != nil {
		return err
	}
	tlsPort, err := hsFreePort()
	if err != nil {
		return err
	}
	conf := fmt.Sprintf(`daemon off;
user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp;
  proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp;
  scgi_temp_path %[1]s/tmp;
  server { listen 127.0.0.1:%[2]d; root %[1]s/www; location = /nginx_status { stub_status; } }
  server { listen 127.0.0.1:%[3]d ssl; ssl_certificate %[4]s; ssl_certificate_key %[5]s; root %[1]s/www; }
}
`, dir, httpPort, tlsPort, cert, key)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-c", confPath, "-p", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	l.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	for _, p := range []int{httpPort, tlsPort} {
		if err := hsWaitListening(p); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return fmt.Errorf("nginx: %v: %s", err, strings.TrimSpace(string(log)))
		}
	}
	l.Vars["hs_http"], l.Vars["hs_tls"], l.Vars["hs_ca"] = strconv.Itoa(httpPort), strconv.Itoa(tlsPort), cert
	l.Vars["hs_nginx_pid"] = strconv.Itoa(cmd.Process.Pid)
	return nil
}

// hsNginxCPU measures the CPU nginx's worker spends per request during a
// row: on a 2-CPU machine the server's share of each request is time the
// check cannot overlap, which bounds how cheap many URLs can be.
func hsNginxCPU(l *Lab) func() string {
	worker, err := hsNginxWorker(l.Vars["hs_nginx_pid"])
	if err != nil {
		return func() string { return "nginx CPU not measured: " + err.Error() }
	}
	cpu0, err0 := hsTaskCPU(worker)
	req0, err1 := hsNginxRequests(l.Vars["hs_http"])
	return func() string {
		cpu1, err2 := hsTaskCPU(worker)
		req1, err3 := hsNginxRequests(l.Vars["hs_http"])
		if err := errors.Join(err0, err1, err2, err3); err != nil {
			return "nginx CPU not measured: " + err.Error()
		}
		n := req1 - req0 - 1 // the status request itself
		if n <= 0 {
			return "nginx served no requests"
		}
		return fmt.Sprintf("nginx's single worker spent %s of CPU per request (%d requests); the server's share alone of 49 more requests is %s",
			(cpu1-cpu0)/time.Duration(n), n, ms(49*(cpu1-cpu0)/time.Duration(n)))
	}
}

// hsNginxWorker is the pid of the master's (only) worker.
func hsNginxWorker(master string) (string, error) {
	b, err := os.ReadFile("/proc/" + master + "/task/" + master + "/children")
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "", errors.New("nginx has no worker")
	}
	return f[0], nil
}

// hsTaskCPU is the time pid has run on a CPU, from schedstat (ns, unlike
// the clock ticks of stat).
func hsTaskCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/schedstat")
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	return time.Duration(ns), err
}

// hsNginxRequests reads the request counter of stub_status.
func hsNginxRequests(port string) (int64, error) {
	resp, err := http.Get("http://127.0.0.1:" + port + "/nginx_status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	// "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \n..."
	lines := strings.Split(string(b), "\n")
	if len(lines) < 3 || len(strings.Fields(lines[2])) < 3 {
		return 0, fmt.Errorf("unexpected stub_status %q", b)
	}
	return strconv.ParseInt(strings.Fields(lines[2])[2], 10, 64)
}

// hsFloor builds the floor programs (cmd/hindsight-dev/floor) as the
// Makefile builds the plugins, next to hsLab's nginx.
func hsFloor(l *Lab) error {
	if err := hsLab(l); err != nil {
		return err
	}
	if l.Vars["hs_floor_plugin"] != "" {
		return nil
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	for _, name := range []string{"nethttp", "plugin"} {
		out := filepath.Join(l.Dir, "floor-"+name)
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/hindsight-dev/floor/"+name)
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build floor/%s: %v: %s", name, err, msg)
		}
		l.Vars["hs_floor_"+name] = out
	}
	return nil
}

func hsFreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func hsWaitListening(port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("%s not listening after 10s", addr)
}

// hsSelfSigned writes a self-signed certificate for localhost and
// 127.0.0.1, which is also the CA file our rows trust.
func hsSelfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}
