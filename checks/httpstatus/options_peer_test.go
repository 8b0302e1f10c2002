package httpstatus

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cookieServer logs in on /login (a cookie, then a redirect to /private)
// and lets /private in only with that cookie.
func cookieServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3ss10n-v4lue", Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/private", http.StatusFound)
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sid"); err != nil || c.Value != "s3ss10n-v4lue" {
			http.Error(w, "log in first", http.StatusForbidden)
			return
		}
		io.WriteString(w, "welcome back\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ErrorLog: nilLogger()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// --cookie-jar: the cookie set on a redirect's first hop is sent on the
// next, kept in the file in curl's format, and sent by the next run.
func TestCookieJar(t *testing.T) {
	base := cookieServer(t)
	jar := filepath.Join(t.TempDir(), "cookies.txt")
	runMatrix(t, []matrixCase{
		{"no jar: refused", []string{"-u", base + "/private"}, 2, []string{`403 Forbidden - client error - server says 'log in first'`}, nil},
		{"login, cookie sent on the redirect", []string{"-u", base + "/login", "-f", "follow", "--cookie-jar", jar, "-s", "welcome"}, 0, nil, nil},
		{"next run sends the stored cookie", []string{"-u", base + "/private", "--cookie-jar", jar, "-s", "welcome", "-vvv"}, 0, nil, []string{"s3ss10n-v4lue"}},
		{"a cookie set is never printed", []string{"-u", base + "/login", "--cookie-jar", jar, "-vvv"}, 0, []string{`Set-Cookie: sid=`}, []string{"s3ss10n-v4lue"}},
	})
	data, err := os.ReadFile(jar)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\ts3ss10n-v4lue\n") {
		t.Errorf("jar:\n%s", data)
	}
	if fi, _ := os.Stat(jar); fi.Mode().Perm() != 0o600 {
		t.Errorf("jar mode %v, want 0600: cookies are credentials", fi.Mode().Perm())
	}
	nowhere := filepath.Join(t.TempDir(), "missing-dir", "cookies.txt")
	runMatrix(t, []matrixCase{
		{"jar that cannot be written", []string{"-u", base + "/login", "--cookie-jar", nowhere}, 3,
			[]string{`^HTTP UNKNOWN - --cookie-jar not written: ` + strings.ReplaceAll(nowhere, ".", `\.`) + `: no such file or directory`, `\[OK\] .*302 Found`}, nil},
		{"an answer's problem outranks the jar's", []string{"-u", base + "/private", "--cookie-jar", nowhere}, 2,
			[]string{`^HTTP CRITICAL - .*403 Forbidden`, `\[UNKNOWN\] --cookie-jar not written`}, nil},
		{"jar that is a directory", []string{"-u", base + "/private", "--cookie-jar", t.TempDir()}, 3, []string{`^HTTP UNKNOWN - --cookie-jar: .*not a regular file|a directory`}, nil},
	})
	testJarNotReplaced(t, base, jar)
}

// A file that is not a cookie jar (/etc/passwd given by mistake) is
// UNKNOWN and left alone; a symlink is refused, neither replaced by a
// file nor written through.
func testJarNotReplaced(t *testing.T, base, jar string) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	const content = "root:x:0:0:root:/root:/bin/bash\n"
	os.WriteFile(passwd, []byte(content), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(jar, link)
	jarData, _ := os.ReadFile(jar)
	runMatrix(t, []matrixCase{
		{"not a cookie file", []string{"-u", base + "/login", "--cookie-jar", passwd}, 3,
			[]string{`^HTTP UNKNOWN - --cookie-jar ` + regexp.QuoteMeta(passwd) + `: not a cookie file, not overwritten`}, nil},
		{"a symlinked jar", []string{"-u", base + "/login", "--cookie-jar", link}, 3,
			[]string{`^HTTP UNKNOWN - --cookie-jar not written: ` + regexp.QuoteMeta(link) + `: is a symbolic link, not a regular file: not replaced`}, nil},
	})
	if b, _ := os.ReadFile(passwd); string(b) != content {
		t.Errorf("the foreign file was changed to %q", b)
	}
	if fi, err := os.Lstat(passwd); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the foreign file's mode changed: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
	if b, _ := os.ReadFile(jar); string(b) != string(jarData) {
		t.Errorf("written through the symlink:\n%s", b)
	}
}

// --noproxy: listed hosts go direct, others through the proxy.
func TestNoProxyList(t *testing.T) {
	base := startServer(t, nil)
	dead := "http://127.0.0.1:1" // a proxy nobody listens on
	runMatrix(t, []matrixCase{
		{"through a dead proxy", []string{"-u", base + "/text", "--proxy", dead}, 2, nil, nil},
		{"--noproxy '*'", []string{"-u", base + "/text", "--proxy", dead, "--noproxy", "*"}, 0, nil, nil},
		{"--noproxy address", []string{"-u", base + "/text", "--proxy", dead, "--noproxy", "127.0.0.1"}, 0, nil, nil},
		{"--noproxy CIDR", []string{"-u", base + "/text", "--proxy", dead, "--noproxy", "10.0.0.0/8,127.0.0.0/8"}, 0, nil, nil},
		{"--noproxy other host", []string{"-u", base + "/text", "--proxy", dead, "--noproxy", "example.org"}, 2, nil, nil},
	})
}

// The peers' body and header options against a real server.
func TestPeerOptionsLoopback(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", time.Now().Add(-3*24*time.Hour).UTC().Format(http.TimeFormat))
		w.Header().Set("X-Mirror", "eu-west synced")
		io.WriteString(w, "Mirror status\nall mirrors synced\nlast run: ok\n")
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"down","checks":{"db":"connection refused"}}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ErrorLog: nilLogger()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	page := "http://" + ln.Addr().String() + "/page"
	broken := "http://" + ln.Addr().String() + "/broken"
	runMatrix(t, []matrixCase{
		{"-d", []string{"-u", page, "-d", "x-mirror: eu-west"}, 0, nil, nil},
		{"-d missing", []string{"-u", page, "-d", "X-Cache"}, 2, []string{`header 'X-Cache' not found`}, nil},
		{"-m inside", []string{"-u", page, "-m", "10:100"}, 0, []string{`size=\d+B;10:100;;0`}, nil},
		{"-m too small", []string{"-u", page, "-m", "1000"}, 1, []string{`page size \d+ bytes outside -m 1000`}, nil},
		{"-M 4d", []string{"-u", page, "-M", "4d"}, 0, nil, nil},
		{"-M 2d", []string{"-u", page, "-M", "2d"}, 2, []string{`last modified 3d(\dh)? ago \(-M 2d\)`}, nil},
		{"-r at a line", []string{"-u", page, "-r", "^all mirrors synced$"}, 0, nil, nil},
		{"-l", []string{"-u", page, "-l", "-r", "status.all"}, 0, nil, nil},
		{"--state-regex", []string{"-u", page, "-r", "^lagging", "--state-regex", "warning"}, 1, []string{`pattern '\^lagging' not found`}, nil},
		{"--jq-message", []string{"-u", broken, "--jq-message", ".checks.db"}, 2, []string{`503 Service Unavailable - server error - server says 'connection refused'`}, nil},
	})
}
