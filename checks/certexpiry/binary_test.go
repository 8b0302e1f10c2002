package certexpiry

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func waitListening(t *testing.T, addr string, log func() string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s\n%s", addr, log())
}

// TestDovecot proves the IMAP and POP3 openings against a real server
// from Debian (dovecot-imapd, dovecot-pop3d), started by the test.
func TestDovecot(t *testing.T) {
	dovecot, err := exec.LookPath("dovecot")
	if err != nil {
		t.Skip("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
	}
	if os.Geteuid() != 0 {
		t.Skip("dovecot needs root to start its login processes as dovenull")
	}
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	ca := certtest.New(t, certtest.Spec{CN: "Mail CA", CA: true, NotAfter: time.Now().Add(certtest.Days(3650))})
	leaf := certtest.New(t, certtest.Spec{CN: "mail.test", DNS: []string{"mail.test"}, Parent: ca, NotAfter: time.Now().Add(certtest.Days(10.5))})
	write(t, filepath.Join(dir, "cert.pem"), certtest.Bundle(leaf, ca))
	write(t, filepath.Join(dir, "key.pem"), leaf.KeyPEM())
	caFile := write(t, filepath.Join(dir, "ca.pem"), ca.PEM())
	imap, pop3 := freePort(t), freePort(t)
	conf := fmt.Sprintf(`protocols = imap pop3
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log
ssl = required
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%[1]s/home
}
mail_location = maildir:%[1]s/mail
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[3]s
  }
  inet_listener pop3s {
    port = 0
  }
}
`, dir, imap, pop3)
	confFile := write(t, filepath.Join(dir, "dovecot.conf"), []byte(conf))
	cmd := exec.Command(dovecot, "-F", "-c", confFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	logs := func() string { b, _ := os.ReadFile(filepath.Join(dir, "log")); return string(b) }
	waitListening(t, "127.0.0.1:"+imap, logs)
	waitListening(t, "127.0.0.1:"+pop3, logs)

	for _, c := range []struct{ proto, port string }{{"imap", imap}, {"pop3", pop3}} {
		r := testutil.Run(t, bin, "-H", "127.0.0.1:"+c.port, "-P", c.proto, "--sni", "mail.test", "--ca-file", caFile)
		want := "CERT CRITICAL - 127.0.0.1:" + c.port + "#0 (mail.test): expires in 10 days"
		if r.Code != 2 || !strings.HasPrefix(r.Stdout, want) || !strings.Contains(r.Stdout, "[OK] 127.0.0.1:"+c.port+"#1 (Mail CA)") {
			t.Errorf("dovecot %s: exit %d\n%s\nwant %q\n%s", c.proto, r.Code, r.Stdout, want, logs())
		}
		// The wrong protocol on a real server fails cleanly.
		r = testutil.Run(t, bin, "-H", "127.0.0.1:"+c.port, "-P", "smtp", "-t", "3")
		if r.Code != 2 || !strings.Contains(r.Stdout, "not SMTP?") {
			t.Errorf("smtp spoken to dovecot %s: exit %d\n%s", c.proto, r.Code, r.Stdout)
		}
	}
}

// TestUnreadableAsNagios: a certificate the nagios user cannot read is
// reported as such, not skipped.
func TestUnreadableAsNagios(t *testing.T) {
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the nobody user must reach the files
	os.Chmod(dir, 0o755)
	c := certtest.New(t, certtest.Spec{CN: "secret", NotAfter: time.Now().Add(certtest.Days(100))})
	f := write(t, filepath.Join(dir, "secret.pem"), c.PEM())
	os.Chmod(f, 0o600)
	ok := write(t, filepath.Join(dir, "public.pem"), c.PEM())
	cmd := exec.Command(bin, "-f", f, "-f", ok)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		os.Chmod(f, 0)
	}
	out, _ := cmd.Output()
	code := cmd.ProcessState.ExitCode()
	expect(t, "unreadable", code, string(out), 3,
		"[UNKNOWN] "+f+": permission denied for uid ", "(run as a user that can read it, or grant read access)", "[OK] "+ok)
}

// TestDeadline: the binary answers within -t even when every endpoint
// hangs, naming what did not answer.
func TestDeadline(t *testing.T) {
	bin := testutil.Binary(t, "check_cert_expiry")
	hang := listen(t, func(c net.Conn) { time.Sleep(20 * time.Second) })
	stall := listen(t, func(c net.Conn) { c.Write([]byte("220 mx.test ESMTP\r\n")); time.Sleep(20 * time.Second) })
	r := testutil.Run(t, bin, "-H", hang, "-H", stall, "-P", "smtp", "-t", "2")
	if r.Elapsed > 3*time.Second {
		t.Errorf("took %s with -t 2", r.Elapsed)
	}
	expect(t, "deadline", r.Code, r.Stdout, 2, hang+": smtp: waiting for the SMTP greeting: no answer within", stall+": smtp: EHLO: no answer within")
}

// TestPostgres proves the SSLRequest opening against a real PostgreSQL
// from Debian, started by the test as the postgres user.
func TestPostgres(t *testing.T) {
	pgbin, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	runuser, rerr := exec.LookPath("runuser")
	if len(pgbin) == 0 || rerr != nil {
		t.Skip("postgresql is not installed (apt-get install postgresql)")
	}
	if os.Geteuid() != 0 {
		t.Skip("starting postgres as the postgres user needs root")
	}
	bindir := filepath.Dir(pgbin[len(pgbin)-1])
	bin := testutil.Binary(t, "check_cert_expiry")
	dir, err := os.MkdirTemp("", "hindsight-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca := certtest.New(t, certtest.Spec{CN: "DB CA", CA: true, NotAfter: time.Now().Add(certtest.Days(3650))})
	leaf := certtest.New(t, certtest.Spec{CN: "db.test", DNS: []string{"db.test"}, Parent: ca, NotAfter: time.Now().Add(certtest.Days(-1.5)), NotBefore: time.Now().Add(-certtest.Days(91.5))})
	write(t, filepath.Join(dir, "server.crt"), certtest.Bundle(leaf, ca))
	write(t, filepath.Join(dir, "server.key"), leaf.KeyPEM())
	os.Chmod(filepath.Join(dir, "server.key"), 0o600)
	if out, err := exec.Command("chown", "-R", "postgres:postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(runuser, "-u", "postgres", "--", filepath.Join(bindir, "initdb"), "-D", data, "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(runuser, "-u", "postgres", "--", filepath.Join(bindir, "postgres"), "-D", data, "-p", port,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir, "-c", "ssl=on",
		"-c", "ssl_cert_file="+filepath.Join(dir, "server.crt"), "-c", "ssl_key_file="+filepath.Join(dir, "server.key"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		cmd.Wait()
	})
	waitListening(t, "127.0.0.1:"+port, log.String)
	r := testutil.Run(t, bin, "-H", "127.0.0.1:"+port, "-P", "postgres", "--sni", "db.test", "--ca-file", filepath.Join(dir, "server.crt"))
	want := "CERT CRITICAL - 127.0.0.1:" + port + "#0 (db.test): expired 1.5 days ago"
	if r.Code != 2 || !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("postgres: exit %d\n%s\nwant %q\n%s", r.Code, r.Stdout, want, log.String())
	}
}

// TestHungMount: certificates on a mount that stopped answering (NFS,
// FUSE) are a finding, the other sources are still judged and the
// plugin exits on time instead of hanging in uninterruptible sleep.
func TestHungMount(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_cert_expiry")
	dir := t.TempDir()
	c := certtest.New(t, certtest.Spec{CN: "on-nfs", NotAfter: time.Now().Add(certtest.Days(100))})
	write(t, filepath.Join(dir, "backing", "cert.pem"), c.PEM())
	good := write(t, filepath.Join(dir, "local.pem"), c.PEM())
	mnt := filepath.Join(dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	fsys, err := fusetest.Mount(filepath.Join(dir, "backing"), mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	fsys.Set("all", fusetest.Hang)
	for _, args := range [][]string{{"-f", mnt + "/cert.pem"}, {"-d", mnt}, {"-f", mnt + "/*.pem"}} {
		r := testutil.Run(t, bin, append(args, "-f", good, "-t", "3")...)
		if r.Elapsed > 4*time.Second {
			t.Errorf("%v: took %s with -t 3", args, r.Elapsed)
		}
		expect(t, joinArgs(args), r.Code, r.Stdout, 3, "fuse.faultfs mount "+mnt+" hangs)", "[OK] "+good)
	}
}
