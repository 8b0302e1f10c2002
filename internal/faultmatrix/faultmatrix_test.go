package faultmatrix

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"software.sslmate.com/src/go-pkcs12"
)

// timeout is every run's -t; a run must release its caller's pipe within
// it plus slack, measured from the caller's side.
const (
	timeout = 2 * time.Second
	slack   = 500 * time.Millisecond
)

// kind is what an option expects at its path.
type kind int

const (
	file kind = iota // a file is read
	dir              // a directory is read or walked
)

// option is one path option of one plugin, with the other arguments its
// run needs to reach the read.
type option struct {
	plugin string
	flag   string
	kind   kind
	// secondary: a problem with this path is a finding of its own that
	// real findings may outrank (a state file, the kernel log), so the
	// run need not be UNKNOWN, but it must not be OK and must name it.
	secondary bool
	// valid names the faults that are right input for this option (an
	// empty directory for --write-test): only the run's shape is checked.
	valid map[string]bool
	args  func(l *lab) []string
	// prefix goes before the path in the option's value ("@" for
	// --extra-opts [SECTION][@FILE]).
	prefix string
}

// options is the table: a new path option joins it.
func options() []option {
	none := func(*lab) []string { return nil }
	// A state file that does not exist yet, even behind a dangling
	// symlink, is no history: the first save creates it.
	noStateYet := map[string]bool{"dangling-symlink": true}
	certFile := func(l *lab) []string { return []string{"-f", l.certPEM} }
	endpoint := func(l *lab) []string { return []string{"-H", l.tlsAddr} }
	httpURL := func(l *lab) []string { return []string{"-u", l.httpURL} }
	httpsURL := func(l *lab) []string { return []string{"-u", l.httpsURL} }
	noFaultfs := func(*lab) []string { return []string{"-X", "fuse.faultfs"} }
	// check_blockdev judges every filesystem by default, and other tests
	// running at the same time mount broken ones (a shut-down XFS, an
	// ext4 with errors): its rows look at / alone, so their state is the
	// option's doing.
	rootOnly := func(*lab) []string { return []string{"-X", "fuse.faultfs", "-p", "/"} }
	nagiosStatus := func(*lab) []string {
		p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "monitoring", "status.dat"))
		return []string{"--nagios-status", p}
	}
	return []option{
		{plugin: "check_load", flag: "--procfs", kind: dir, args: none},
		{plugin: "check_load", flag: "--sysfs", kind: dir, args: none},
		// The runtime reads it for every plugin, before any check runs.
		{plugin: "check_load", flag: "--extra-opts", kind: file, prefix: "@", args: none},

		{plugin: "check_route", flag: "--netns", kind: file, args: none},
		{plugin: "check_load", flag: "--state-file", kind: file, secondary: true, valid: noStateYet, args: none},
		{plugin: "check_load", flag: "--kmsg", kind: file, secondary: true, args: none},

		{plugin: "check_cert_expiry", flag: "-f", kind: file, args: none},
		{plugin: "check_cert_expiry", flag: "-d", kind: dir, args: none},
		{plugin: "check_cert_expiry", flag: "--kubeconfig", kind: file, args: none},
		{plugin: "check_cert_expiry", flag: "--kubernetes-dir", kind: dir, args: func(*lab) []string { return []string{"--kubeadm"} }},
		{plugin: "check_cert_expiry", flag: "--kubelet-dir", kind: dir, args: func(*lab) []string { return []string{"--kubeadm"} }},
		{plugin: "check_cert_expiry", flag: "--password-file", kind: file, args: func(l *lab) []string { return []string{"-f", l.certP12} }},
		{plugin: "check_cert_expiry", flag: "--ca-file", kind: file, args: endpoint},
		{plugin: "check_cert_expiry", flag: "--ca", kind: file, args: certFile},
		{plugin: "check_cert_expiry", flag: "--compare-file", kind: file, args: func(l *lab) []string { return []string{"-H", l.tlsAddr, "--ca-file", l.certPEM} }},
		{plugin: "check_cert_expiry", flag: "--client-cert", kind: file, args: func(l *lab) []string { return []string{"-H", l.tlsAddr, "--client-key", l.keyPEM} }},
		{plugin: "check_cert_expiry", flag: "--client-key", kind: file, args: func(l *lab) []string { return []string{"-H", l.tlsAddr, "--client-cert", l.certPEM} }},

		{plugin: "check_http_status", flag: "--data-file", kind: file, args: httpURL},
		{plugin: "check_http_status", flag: "--auth-file", kind: file, args: httpURL},
		{plugin: "check_http_status", flag: "--ca-file", kind: file, args: httpsURL},
		{plugin: "check_http_status", flag: "-J", kind: file, args: func(l *lab) []string { return []string{"-u", l.httpsURL, "-K", l.keyPEM} }},
		{plugin: "check_http_status", flag: "-K", kind: file, args: func(l *lab) []string { return []string{"-u", l.httpsURL, "-J", l.certPEM} }},
		// A jar that does not exist yet is empty: the first run creates it;
		// but one behind a symlink (a dangling one too) is refused, never
		// replaced nor written through.
		{plugin: "check_http_status", flag: "--cookie-jar", kind: file, args: httpURL},

		{plugin: "check_stuck_procs", flag: "--procfs", kind: dir, args: none},
		{plugin: "check_stuck_procs", flag: "--state-file", kind: file, secondary: true, valid: noStateYet, args: none},
		{plugin: "check_stuck_procs", flag: "--kmsg", kind: file, secondary: true, args: none},

		// A status.dat that does not exist is CRITICAL (Nagios removes it
		// when it stops), so --nagios-status is secondary; other rows read
		// a fixture status.dat so that their own path is what they judge.
		{plugin: "check_monitoring", flag: "--nagios-config", kind: file, args: none},
		{plugin: "check_monitoring", flag: "--nagios-status", kind: file, secondary: true, args: none},
		{plugin: "check_monitoring", flag: "--nagios-log", kind: file, secondary: true, args: nagiosStatus},
		{plugin: "check_monitoring", flag: "--state-file", kind: file, secondary: true, valid: noStateYet, args: nagiosStatus},
		{plugin: "check_monitoring", flag: "--kmsg", kind: file, secondary: true, args: nagiosStatus},
		{plugin: "check_monitoring", flag: "--procfs", kind: dir, secondary: true, args: nagiosStatus},
		{plugin: "check_monitoring", flag: "--api-password-file", kind: file, args: func(l *lab) []string { return []string{"--icinga-api", l.httpsURL} }},
		{plugin: "check_monitoring", flag: "--icinga-log", kind: file, secondary: true, args: func(l *lab) []string {
			return []string{"--icinga-api", l.httpsURL, "--api-password-file", l.certPEM, "--api-insecure"}
		}},
		{plugin: "check_monitoring", flag: "--api-ca", kind: file, args: func(l *lab) []string {
			return []string{"--icinga-api", l.httpsURL, "--api-password-file", l.certPEM}
		}},

		{plugin: "check_blockdev", flag: "--procfs", kind: dir, args: rootOnly},
		{plugin: "check_blockdev", flag: "--sysfs", kind: dir, args: rootOnly},
		{plugin: "check_blockdev", flag: "--fstab", kind: file, secondary: true, args: rootOnly},
		{plugin: "check_blockdev", flag: "--state-file", kind: file, secondary: true, valid: noStateYet, args: rootOnly},
		{plugin: "check_blockdev", flag: "--kmsg", kind: file, secondary: true, args: rootOnly},
		// A path where nothing is mounted is a finding (CRITICAL), as check_disk's.
		// Every row leaves out the lab's (and other tests') faultfs mounts,
		// which check_blockdev probes by default: the row is about its option.
		{plugin: "check_blockdev", flag: "-p", kind: dir, secondary: true, args: noFaultfs},
		{plugin: "check_blockdev", flag: "--read-test", kind: file, valid: map[string]bool{"huge-sparse": true}, args: rootOnly},
		{plugin: "check_blockdev", flag: "--write-test", kind: dir, valid: map[string]bool{"directory": true}, args: rootOnly},
	}
}

// fault is a kind of path an option can be given.
type fault struct {
	name string
	// path returns the path for an option of kind k.
	path func(l *lab, k kind) string
	// bad: the input is wrong as such (not a file, too big, a loop): the
	// run is UNKNOWN and names the path.
	bad bool
	// hangs or fails: the run must still end on time and name the path
	// (or the mount) and not be OK.
	broken bool
	// asNagios only: a file root can read but nagios cannot.
	nagiosOnly bool
}

func faults() []fault {
	fixed := func(p string) func(*lab, kind) string { return func(*lab, kind) string { return p } }
	inMount := func(m func(l *lab) string) func(*lab, kind) string {
		return func(l *lab, k kind) string {
			if k == dir {
				return filepath.Join(m(l), "dir")
			}
			return filepath.Join(m(l), "file")
		}
	}
	return []fault{
		{name: "hung-fuse", path: inMount(func(l *lab) string { return l.hung }), broken: true},
		{name: "eio-fuse", path: inMount(func(l *lab) string { return l.eio }), broken: true},
		{name: "fifo", path: func(l *lab, _ kind) string { return l.fifo }, bad: true},
		{name: "dev-zero", path: fixed("/dev/zero"), bad: true},
		{name: "dev-urandom", path: fixed("/dev/urandom"), bad: true},
		{name: "huge-sparse", path: func(l *lab, _ kind) string { return l.huge }, bad: true},
		{name: "directory", path: func(l *lab, k kind) string { return l.emptyDir }, bad: true},
		{name: "symlink-loop", path: func(l *lab, _ kind) string { return l.loop }, bad: true},
		// One of its own per case: a state file behind it is created by the
		// first save, and would be a regular file for the next case.
		{name: "dangling-symlink", path: func(l *lab, _ kind) string { return l.newDangling() }, bad: true},
		{name: "unreadable", path: func(l *lab, k kind) string {
			if k == dir {
				return l.privateDir
			}
			return l.privateFile
		}, broken: true, nagiosOnly: true},
	}
}

// lab holds the fixtures every case points at.
type lab struct {
	dir                        string
	bins                       map[string]string
	hung, eio                  string
	fifo, huge, emptyDir       string
	loop                       string
	mu                         sync.Mutex
	danglings                  int
	privateFile, privateDir    string
	certPEM, keyPEM, certP12   string
	tlsAddr, httpURL, httpsURL string
	nagios                     *syscall.Credential
}

func TestFaultMatrix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping the fault matrix: it needs root (FUSE mounts, runs as the nagios user); CI runs it as root")
	}
	if why := fusetest.Available(); why != "" {
		t.Skip("skipping the fault matrix: " + why)
	}
	l := newLab(t)
	users := []struct {
		name string
		cred *syscall.Credential
	}{{"root", nil}, {"nagios", l.nagios}}
	for _, u := range users {
		for _, o := range options() {
			for _, f := range faults() {
				if f.nagiosOnly && u.cred == nil {
					continue
				}
				name := u.name + "/" + o.plugin + "/" + strings.TrimLeft(o.flag, "-") + "/" + f.name
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					runCase(t, l, o, f, u.cred)
				})
			}
		}
	}
}

var statusLine = regexp.MustCompile(`^[A-Z][A-Z_]* (OK|WARNING|CRITICAL|UNKNOWN) - `)

// runCase runs one plugin with one option set to one fault and checks the
// promise: exit 0-3, one status line, nothing on stderr, the pipe
// released on time, and a clear answer naming the path.
func runCase(t *testing.T, l *lab, o option, f fault, cred *syscall.Credential) {
	path := f.path(l, o.kind)
	args := append([]string{"-t", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)}, o.args(l)...)
	args = append(args, o.flag, o.prefix+path)
	cmd := exec.Command(l.bins[o.plugin], args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A run that hangs past any reason is killed, and a run whose pipe is
	// held by a process in D is given up on, so the suite always ends.
	outc := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(stdout) // returns when every holder of the pipe is gone
		outc <- b
	}()
	var out []byte
	select {
	case out = <-outc:
	case <-time.After(timeout + 10*time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Errorf("%s %s %s: the caller's pipe is still held after %v (a process of ours in D?)", o.plugin, o.flag, path, timeout+10*time.Second)
		return
	}
	released := time.Since(start)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	err = nil
	select {
	case err = <-waited:
	case <-time.After(5 * time.Second):
		t.Errorf("%s %s %s: the plugin released its pipe but has not exited after 5s", o.plugin, o.flag, path)
		return
	}
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run: %v", err)
	}
	cmdline := filepath.Base(l.bins[o.plugin]) + " " + strings.Join(args, " ")
	fail := func(format string, a ...any) {
		t.Errorf("%s\n  "+format+"\n  exit %d after %v, stdout:\n%s", append([]any{cmdline}, append(a, code, released.Round(time.Millisecond), indent(out))...)...)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	switch {
	case code < 0 || code > 3:
		fail("exit code outside 0-3")
	case len(out) == 0 || !statusLine.MatchString(lines[0]):
		fail("the first line is not a status line")
	case stderr.Len() > 0:
		fail("stderr is not empty: %q", stderr.String())
	case released > timeout+slack:
		fail("the caller's pipe was released after %v, deadline %v + %v", released, timeout, slack)
	}
	for _, line := range lines[1:] {
		if statusLine.MatchString(line) {
			fail("a second status line: %q", line)
		}
	}
	if o.valid[f.name] {
		return
	}
	named := bytes.Contains(out, []byte(path)) || (f.broken && (bytes.Contains(out, []byte(l.hung)) || bytes.Contains(out, []byte(l.eio))))
	switch {
	case f.bad && !o.secondary && code != 3:
		fail("bad input must be UNKNOWN (3)")
	case (f.bad || f.broken) && code == 0:
		fail("a bad or broken %s must not be OK", o.flag)
	case (f.bad || f.broken) && !named:
		fail("the output does not name %s", path)
	}
}

func indent(b []byte) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "\n    ")
}

// newDangling makes a new symlink to nowhere.
func (l *lab) newDangling() string {
	l.mu.Lock()
	l.danglings++
	n := l.danglings
	l.mu.Unlock()
	p := filepath.Join(l.dir, "dangling-"+strconv.Itoa(n))
	os.Symlink(filepath.Join(l.dir, "nowhere-"+strconv.Itoa(n)), p)
	return p
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{dir: t.TempDir(), bins: map[string]string{}}
	os.Chmod(l.dir, 0o755)
	os.Chmod(filepath.Dir(l.dir), 0o755) // the nagios user must reach it
	l.nagios = nagiosCred(t)
	for _, o := range options() {
		if l.bins[o.plugin] == "" {
			l.bins[o.plugin] = testutil.Binary(t, o.plugin)
		}
	}
	at := func(name string) string { return filepath.Join(l.dir, name) }

	l.fifo = at("fifo")
	must(t, syscall.Mkfifo(l.fifo, 0o666))
	os.Chmod(l.fifo, 0o666)
	l.huge = at("huge")
	f, err := os.Create(l.huge)
	must(t, err)
	must(t, f.Truncate(1<<30)) // sparse: costs no disk
	f.Close()
	os.Chmod(l.huge, 0o644)
	l.emptyDir = at("empty")
	must(t, os.Mkdir(l.emptyDir, 0o755))
	l.loop = at("loop")
	must(t, os.Symlink(l.loop, l.loop))
	l.privateDir = at("private")
	must(t, os.Mkdir(l.privateDir, 0o700))
	l.privateFile = filepath.Join(l.privateDir, "file")
	must(t, os.WriteFile(l.privateFile, []byte("secret\n"), 0o600))

	c := certtest.New(t, certtest.Spec{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotAfter: time.Now().Add(certtest.Days(200))})
	l.certPEM, l.keyPEM = at("cert.pem"), at("key.pem")
	must(t, os.WriteFile(l.certPEM, c.PEM(), 0o644))
	must(t, os.WriteFile(l.keyPEM, c.KeyPEM(), 0o644))
	l.certP12 = at("cert.p12")
	p12, err := pkcs12.Modern.Encode(c.Key, c.Cert, nil, "pass")
	must(t, err)
	must(t, os.WriteFile(l.certP12, p12, 0o644))
	l.tlsAddr = certtest.ServeTLS(t, c.TLS())
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(plain.Close)
	l.httpURL = plain.URL + "/"
	secure := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{c.TLS()}}
	secure.StartTLS()
	t.Cleanup(secure.Close)
	l.httpsURL = secure.URL + "/"

	l.hung = mountFault(t, l, "hung", fusetest.Hang)
	l.eio = mountFault(t, l, "eio", fusetest.EIO)
	return l
}

// mountFault mounts a fault-injecting FUSE filesystem holding "file" and
// "dir/", then makes every operation give fault.
func mountFault(t *testing.T, l *lab, name string, fault fusetest.Fault) string {
	t.Helper()
	backing := filepath.Join(l.dir, name+"-backing")
	must(t, os.MkdirAll(filepath.Join(backing, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(backing, "file"), []byte("x\n"), 0o644))
	mnt := filepath.Join(l.dir, name)
	must(t, os.Mkdir(mnt, 0o755))
	ffs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ffs.Close() })
	for _, op := range []string{fusetest.OpStatfs, fusetest.OpGetattr, fusetest.OpLookup, fusetest.OpReaddir, fusetest.OpOpen, fusetest.OpRead, fusetest.OpWrite, fusetest.OpFsync} {
		ffs.Set(op, fault)
	}
	return mnt
}

// nagiosCred is the nagios user, which Debian's nagios4 and NRPE
// packages create; CI installs them.
func nagiosCred(t *testing.T) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("nagios")
	if err != nil {
		t.Skip("skipping the fault matrix: no nagios user (CI installs nagios4, which creates it): " + err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// secret is the password every URL below carries; no line may show it.
const secret = "s3cretPW9"

// No message echoes the userinfo of a URL, valid or not, as root or as
// nagios: invalid URLs, proxy URLs, and URLs that fail to connect.
func TestNoSecretEchoed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: runs as root and as the nagios user; CI runs it as root")
	}
	nagios := nagiosCred(t)
	bin := testutil.Binary(t, "check_http_status")
	for _, args := range [][]string{
		{"-u", "http://user:" + secret + "@[::1"},
		{"-u", "http://user:" + secret + "@bad host/"},
		{"-u", "ftp://user:" + secret + "@127.0.0.1/"},
		{"-u", "http://user:" + secret + "@127.0.0.1:1/"},
		{"-u", "http://127.0.0.1:1/", "--proxy", "http://user:" + secret + "@[::1"},
		{"-u", "http://127.0.0.1:1/", "--proxy", "http://user:" + secret + "@127.0.0.1:1"},
		{"-u", "http://127.0.0.1:1/", "--proxy", "socks5://user:" + secret + "@127.0.0.1:1"},
		{"-u", "http://127.0.0.1:1/", "-a", "user:" + secret, "-vvv"},
		{"-H", "user:" + secret + "@host.example"},
		{"-H", "user:" + secret + "@[::1"},
		{"-u", "/x", "-I", "user:" + secret + "@127.0.0.1"},
		{"-u", "http://x/", "--resolve", "user:" + secret + "@x:80:127.0.0.1"},
		{"-u", "http://127.0.0.1:1/", "--proxy", "http://user:" + secret + "@proxy.invalid:3128"},
		{"-u", "http://127.0.0.1:1/", "-k", "Authorization: Bearer " + secret + "\r\nX: y"},
		// query parameters named like secrets, in the status line and labels
		{"-u", "http://127.0.0.1:1/json?token=" + secret + "&api_key=" + secret},
		{"-u", "http://127.0.0.1:1/a?X-Amz-Signature=" + secret, "-u", "http://127.0.0.1:1/b?Access_Token=" + secret + "&x=1"},
		{"-u", "http://[::1/?password=" + secret},
	} {
		for _, cred := range []*syscall.Credential{nil, nagios} {
			cmd := exec.Command(bin, append([]string{"-t", "2", "-vvv"}, args...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			out, _ := cmd.CombinedOutput()
			if bytes.Contains(out, []byte(secret)) || !statusLine.Match(out) {
				t.Errorf("check_http_status %s (uid %v):\n%s", strings.Join(args, " "), cred, indent(out))
			}
		}
	}
	cert := testutil.Binary(t, "check_cert_expiry")
	const kubeconfigs = "../../testdata/certexpiry/secret-kubeconfigs" // token hunter2...
	for _, args := range [][]string{
		{"-H", "127.0.0.1:1", "--proxy", "http://user:" + secret + "@[::1"},
		{"-H", "127.0.0.1:1", "--proxy", "http://user:" + secret + "@127.0.0.1:1"},
		{"-H", "127.0.0.1:1", "--proxy", "socks5://user:" + secret + "@127.0.0.1:1"},
		{"-H", "127.0.0.1:1", "--proxy", "http://user:" + secret + "@127.0.0.1:1/x?y"},
		// a bearer token pasted where a list, a mapping or a certificate belongs
		{"--kubeconfig", kubeconfigs + "/*.conf"},
		{"--kubeadm", "--kubernetes-dir", kubeconfigs + "/etc/kubernetes"},
	} {
		cmd := exec.Command(cert, append([]string{"-t", "2", "-vvv"}, args...)...)
		out, _ := cmd.CombinedOutput()
		if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte("hunter2")) || !statusLine.Match(out) {
			t.Errorf("check_cert_expiry %s:\n%s", strings.Join(args, " "), indent(out))
		}
	}
}

// TestForeignFileKept: a file given by mistake where a plugin writes
// (a state file, a cookie jar) is never replaced: the run is not OK, names
// the path, and the file keeps its content, mode and type.
func TestForeignFileKept(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	status, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "monitoring", "status.dat"))
	const content = "root:x:0:0:root:/root:/bin/bash\nimportant\n"
	for _, tt := range []struct {
		plugin, flag string
		args         []string
	}{
		{"check_load", "--state-file", nil},
		{"check_stuck_procs", "--state-file", nil},
		{"check_blockdev", "--state-file", []string{"-X", "fuse.faultfs", "-p", "/"}},
		{"check_monitoring", "--state-file", []string{"--nagios-status", status}},
		{"check_http_status", "--cookie-jar", []string{"-u", srv.URL + "/"}},
	} {
		path := filepath.Join(t.TempDir(), "important")
		os.WriteFile(path, []byte(content), 0o644)
		args := append(append([]string{"-t", "5"}, tt.args...), tt.flag, path)
		out, err := exec.Command(testutil.Binary(t, tt.plugin), args...).Output()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		}
		if code == 0 || !bytes.Contains(out, []byte(path+": not a")) || !bytes.Contains(out, []byte("not overwritten")) {
			t.Errorf("%s %s: exit %d, want not OK naming %s:\n%s", tt.plugin, strings.Join(args, " "), code, path, indent(out))
		}
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %s changed: %v %v", tt.plugin, path, fi, err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s: %s was overwritten with %q", tt.plugin, path, b)
		}
	}
}
