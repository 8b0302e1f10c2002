package certexpiry

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/certs"
)

// realLab is one real server's private directory with a CA and the
// leaf it is configured with. The leaf's life is chosen per server, so
// a server that serves some other certificate shows at once.
type realLab struct {
	dir                       string
	ca, leaf                  *certtest.Cert
	certFile, keyFile, caFile string
	port                      string
}

// newRealLab makes the directory (world-readable: servers drop root)
// and a CA-signed RSA leaf for cn, valid for days more.
func newRealLab(t *testing.T, prefix, cn string, days float64) *realLab {
	t.Helper()
	dir, err := os.MkdirTemp("", "hindsight-"+prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	now := time.Now()
	l := &realLab{dir: dir, port: freePort(t)}
	l.ca = certtest.New(t, certtest.Spec{CN: prefix + " CA", CA: true, RSABits: 2048, NotAfter: now.Add(certtest.Days(3650))})
	l.leaf = certtest.New(t, certtest.Spec{CN: cn, DNS: []string{cn}, Parent: l.ca, RSABits: 2048, NotAfter: now.Add(certtest.Days(days))})
	l.certFile = write(t, filepath.Join(dir, "cert.pem"), l.leaf.PEM())
	l.keyFile = write(t, filepath.Join(dir, "key.pem"), l.leaf.KeyPEM())
	l.caFile = write(t, filepath.Join(dir, "ca.pem"), l.ca.PEM())
	return l
}

func (l *realLab) addr() string { return "127.0.0.1:" + l.port }

// start runs a server in the foreground in its own process group,
// stopped (group-wide) when the test ends, and waits for its port.
func (l *realLab) start(t *testing.T, logFile string, stop func(), name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if stop != nil {
			stop()
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	waitListening(t, l.addr(), func() string {
		b, _ := os.ReadFile(logFile)
		return out.String() + string(b)
	})
}

// expectServed runs the binary against the server and checks that it
// read the configured certificate: --compare-file says "same as" only
// for the very bytes, and the date is the leaf's.
func (l *realLab) expectServed(t *testing.T, args ...string) {
	t.Helper()
	bin := testutil.Binary(t, "check_cert_expiry")
	args = append([]string{"-H", l.addr(), "--ca-file", l.caFile, "--compare-file", l.certFile, "-t", "8"}, args...)
	r := testutil.Run(t, bin, args...)

	// Servers given the CA file send it along (slapd, MariaDB): the
	// leaf is then #0 of the chain.
	cn := " (" + l.leaf.Cert.Subject.CommonName + "): expires in "
	want := l.addr() + cn
	if strings.Contains(r.Stdout, l.addr()+"#0"+cn) {
		want = l.addr() + "#0" + cn
	}
	date := "(" + certs.Date(l.leaf.Cert.NotAfter) + ")"
	if r.Code != 0 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, date) || !strings.Contains(r.Stdout, "same as "+l.certFile) {
		t.Errorf("%s: exit %d\n%s\nwant OK with %q, %q and %q", strings.Join(args, " "), r.Code, r.Stdout, want, date, "same as "+l.certFile)
	}
}

// needRoot skips unless the binaries are installed and we are root.
func needRoot(t *testing.T, pkg string, bins ...string) {
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (apt-get install %s)", b, pkg)
		}
	}
	if os.Geteuid() != 0 {
		t.Skipf("starting %s needs root", pkg)
	}
}

// TestPostfix: SMTP STARTTLS against a real postfix smtpd.
func TestPostfix(t *testing.T) {
	needRoot(t, "postfix", "postfix")
	t.Parallel()
	l := newRealLab(t, "postfix", "smtp.test", 101.5)
	etc := filepath.Join(l.dir, "etc")
	os.MkdirAll(etc, 0o755)
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		t.Fatal(err)
	}
	mc := strings.Replace(string(master), "\nsmtp      inet", "\n127.0.0.1:"+l.port+" inet", 1)
	if !strings.Contains(mc, "127.0.0.1:"+l.port+" inet") {
		t.Fatal("no smtp service line in /etc/postfix/master.cf")
	}
	write(t, filepath.Join(etc, "master.cf"), []byte(mc))
	os.Chmod(l.keyFile, 0o600)
	log := filepath.Join(l.dir, "postfix.log")
	write(t, filepath.Join(etc, "main.cf"), []byte(fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/data
myhostname = smtp.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_tls_cert_file = %[2]s
smtpd_tls_key_file = %[3]s
smtpd_tls_security_level = may
maillog_file = %[4]s
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
`, l.dir, l.certFile, l.keyFile, log)))
	os.MkdirAll(filepath.Join(l.dir, "data"), 0o755)
	os.MkdirAll(filepath.Join(l.dir, "spool"), 0o755)
	exec.Command("chown", "postfix", filepath.Join(l.dir, "data")).Run()
	// master in the foreground, without postfix-script's checks of the
	// whole installation (seconds of find and stat).
	for _, d := range []string{"pid", "public", "private", "maildrop"} {
		os.MkdirAll(filepath.Join(l.dir, "spool", d), 0o755)
	}
	exec.Command("chown", "postfix", filepath.Join(l.dir, "spool", "public"), filepath.Join(l.dir, "spool", "private")).Run()
	l.start(t, log, nil, "/usr/lib/postfix/sbin/master", "-c", etc, "-d")
	l.expectServed(t, "-P", "smtp", "--sni", "smtp.test")
}

// TestVsftpd: FTP AUTH TLS against a real vsftpd.
func TestVsftpd(t *testing.T) {
	needRoot(t, "vsftpd", "vsftpd")
	t.Parallel()
	l := newRealLab(t, "vsftpd", "ftp.test", 102.5)
	empty := filepath.Join(l.dir, "empty")
	os.MkdirAll(empty, 0o755)
	log := filepath.Join(l.dir, "vsftpd.log")
	conf := write(t, filepath.Join(l.dir, "vsftpd.conf"), []byte(fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%s
background=NO
anonymous_enable=NO
local_enable=YES
ssl_enable=YES
rsa_cert_file=%s
rsa_private_key_file=%s
secure_chroot_dir=%s
xferlog_enable=NO
vsftpd_log_file=%s
seccomp_sandbox=NO
pam_service_name=vsftpd
`, l.port, l.certFile, l.keyFile, empty, log)))
	os.Chmod(conf, 0o600) // vsftpd refuses a config others can write; root owns it
	l.start(t, log, nil, "vsftpd", conf)
	l.expectServed(t, "-P", "ftp", "--sni", "ftp.test")
}

// TestProsody: XMPP c2s STARTTLS against a real prosody, which answers
// only for its own domain.
func TestProsody(t *testing.T) {
	needRoot(t, "prosody", "prosody")
	t.Parallel()
	l := newRealLab(t, "prosody", "xmpp.test", 103.5)
	os.MkdirAll(filepath.Join(l.dir, "data"), 0o755)
	log := filepath.Join(l.dir, "prosody.log")
	s2s := freePort(t)
	conf := write(t, filepath.Join(l.dir, "prosody.cfg.lua"), []byte(fmt.Sprintf(`run_as_root = true
pidfile = "%[1]s/prosody.pid"
data_path = "%[1]s/data"
log = { info = "%[4]s", error = "%[1]s/prosody.err" }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { %[2]s }
c2s_direct_tls_ports = { }
s2s_ports = { %[3]s }
s2s_direct_tls_ports = { }
component_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "tls", "saslauth", "disco", "roster", "ping" }
modules_disabled = { "admin_shell", "admin_socket" }
c2s_require_encryption = true
authentication = "internal_plain"
VirtualHost "xmpp.test"
  ssl = { certificate = "%[5]s"; key = "%[6]s" }
`, l.dir, l.port, s2s, log, l.certFile, l.keyFile)))
	l.start(t, log, nil, "prosody", "--config", conf, "-F")
	l.expectServed(t, "-P", "xmpp", "--xmpp-domain", "xmpp.test", "--sni", "xmpp.test")
}

// TestSlapd: LDAP StartTLS against a real OpenLDAP slapd.
func TestSlapd(t *testing.T) {
	needRoot(t, "slapd", "slapd")
	t.Parallel()
	l := newRealLab(t, "slapd", "ldap.test", 104.5)
	db := filepath.Join(l.dir, "db")
	os.MkdirAll(db, 0o700)
	conf := write(t, filepath.Join(l.dir, "slapd.conf"), []byte(fmt.Sprintf(`include /etc/ldap/schema/core.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile %[2]s
TLSCertificateKeyFile %[3]s
TLSCACertificateFile %[4]s
database mdb
suffix "dc=test"
rootdn "cn=admin,dc=test"
rootpw unused
directory %[5]s
`, l.dir, l.certFile, l.keyFile, l.caFile, db)))
	// -d keeps slapd in the foreground; level 0 logs nothing.
	l.start(t, "", nil, "slapd", "-f", conf, "-h", "ldap://"+l.addr()+"/", "-d", "0")
	l.expectServed(t, "-P", "ldap", "--sni", "ldap.test")
}

// TestMariaDB: the MySQL protocol's TLS switch against a real MariaDB.
func TestMariaDB(t *testing.T) {
	needRoot(t, "mariadb-server", "mariadbd", "mariadb-install-db")
	t.Parallel()
	l := newRealLab(t, "mariadb", "db.test", 105.5)
	data := filepath.Join(l.dir, "data")
	os.MkdirAll(data, 0o755)
	if out, err := exec.Command("chown", "-R", "mysql", l.dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := exec.Command("mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir="+data,
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	log := filepath.Join(l.dir, "err.log")
	l.start(t, log, nil, "mariadbd", "--no-defaults", "--user=mysql", "--datadir="+data, "--port="+l.port,
		"--bind-address=127.0.0.1", "--socket="+filepath.Join(l.dir, "mysqld.sock"), "--pid-file="+filepath.Join(l.dir, "mysqld.pid"),
		"--log-error="+log, "--skip-grant-tables=0", "--ssl-cert="+l.certFile, "--ssl-key="+l.keyFile, "--ssl-ca="+l.caFile)
	l.expectServed(t, "-P", "mysql", "--sni", "db.test")
}
