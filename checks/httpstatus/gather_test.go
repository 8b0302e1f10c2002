package httpstatus

import (
	"context"
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
	"github.com/hindsight-plugins/hindsight/internal/testutil"
	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
)

// The faults every path option must survive (the fault matrix).
var faults = testutil.PathFaults

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Every path option against every fault, through the binary: one
// UNKNOWN line naming the option and the path within -t + 0.5 s, nothing
// on stderr, no request made (the URL goes nowhere). A FIFO used to block
// the run before the deadline was even armed; /dev/zero was read until
// memory ran out.
func TestPathOptionFaults(t *testing.T) {
	bin := testutil.Binary(t, "check_http_status")
	pki := newPKI(t)
	now := time.Now()
	_, cert, key := pki.leaf(t, "client", []string{"nagios-client"}, now.Add(-time.Hour), now.Add(time.Hour), false, x509.ExtKeyUsageClientAuth)
	options := []struct {
		flag string
		args func(path string) []string
	}{
		{"--data-file", func(p string) []string { return []string{"--data-file", p} }},
		{"--auth-file", func(p string) []string { return []string{"--auth-file", p} }},
		{"--ca-file", func(p string) []string { return []string{"--ca-file", p} }},
		{"--client-cert", func(p string) []string { return []string{"-J", p, "-K", key} }},
		{"--client-key", func(p string) []string { return []string{"-J", cert, "-K", p} }},
	}
	for _, opt := range options {
		for _, fault := range faults {
			t.Run(opt.flag+"/"+fault.Name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "file")
				fault.Make(t, path)
				r := testutil.Run(t, bin, append([]string{"-u", "https://192.0.2.1/", "-t", "3"}, opt.args(path)...)...)
				want := "HTTP UNKNOWN - " + opt.flag + ": " + path + ": "
				if r.Code != 3 || !strings.HasPrefix(r.Stdout, want) || strings.Count(r.Stdout, "\n") != 1 || r.Stderr != "" {
					t.Errorf("exit %d, %q (stderr %q); want one line starting %q", r.Code, r.Stdout, r.Stderr, want)
				}
				if r.Elapsed > 3500*time.Millisecond {
					t.Errorf("took %s with -t 3", r.Elapsed)
				}
			})
		}
	}
}

// Path options on a mount that stopped answering: UNKNOWN naming the
// file within -t, the caller's pipe released (Elapsed is measured until
// every holder closed it).
func TestPathOptionOnHungMount(t *testing.T) {
	if why := fusetest.Available(); why != "" {
		t.Skip(why)
	}
	bin := testutil.Binary(t, "check_http_status")
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	must(t, os.Mkdir(backing, 0o755))
	must(t, os.Mkdir(mnt, 0o755))
	for _, f := range []string{"body", "auth", "ca.pem"} {
		must(t, os.WriteFile(filepath.Join(backing, f), []byte("x:y\n"), 0o600))
	}
	fsys, err := fusetest.Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	fsys.Set("all", fusetest.Hang)
	for _, a := range [][]string{{"--data-file", mnt + "/body"}, {"--auth-file", mnt + "/auth"}, {"--ca-file", mnt + "/ca.pem"}} {
		r := testutil.Run(t, bin, append([]string{"-u", "http://192.0.2.1/", "-t", "3"}, a...)...)
		want := "HTTP UNKNOWN - " + a[0] + ": " + a[1] + ": "
		if r.Code != 3 || !strings.HasPrefix(r.Stdout, want) || r.Stderr != "" || r.Elapsed > 3500*time.Millisecond {
			t.Errorf("%v: exit %d after %s, %q (stderr %q); want %q", a, r.Code, r.Elapsed, r.Stdout, r.Stderr, want)
		}
	}
}

// A password given or read is never printed, in whatever message it
// would land: URLs that do not parse, proxies, headers, files that are
// not USER:PASSWORD, failed requests with -vvv.
func TestSecretsNeverPrinted(t *testing.T) {
	base := startServer(t, nil)
	dir := t.TempDir()
	noColon := filepath.Join(dir, "token")
	must(t, os.WriteFile(noColon, []byte("hunter2token\n"), 0o600))
	auth := filepath.Join(dir, "auth")
	must(t, os.WriteFile(auth, []byte("nagios:hunter2pass\n"), 0o600))
	runMatrix(t, []matrixCase{
		{"invalid URL with a password", []string{"-u", "http://nagios:hunter2@[::1"}, 3, []string{`^HTTP UNKNOWN - invalid URL "http://nagios:xxxxx@\[::1"`}, []string{"hunter2"}},
		{"invalid URL, password with a slash", []string{"-u", "http://nagios:hun/ter2@host:x/"}, 3, []string{`^HTTP UNKNOWN - invalid URL`}, []string{"hun/ter2", "ter2"}},
		{"password with a space", []string{"-u", "http://nagios:hun ter2@host/"}, 3, []string{`^HTTP UNKNOWN - invalid URL`}, []string{"hun ter2", "ter2@"}},
		{"full URL with -H", []string{"-H", "x", "-u", "http://nagios:hunter2@y/"}, 3, []string{`is a full URL`}, []string{"hunter2"}},
		{"proxy with user:secret@", []string{"-u", base + "/text", "--proxy", "http://nagios:hunter2@127.0.0.1:1"}, 2, []string{`^HTTP CRITICAL`}, []string{"hunter2"}},
		{"invalid proxy with user:secret@", []string{"-u", base + "/text", "--proxy", "nagios:hunter2@::nope"}, 3, []string{`invalid --proxy`}, []string{"hunter2"}},
		{"credential header with a control character", []string{"-u", base + "/text", "-k", "Authorization: Bearer hunter2\r"}, 3, []string{`invalid -k "Authorization: xxxxx"`}, []string{"hunter2"}},
		{"credential header -vvv", []string{"-u", base + "/auth", "-k", "X-Api-Key: hunter2key", "-vvv"}, 2, []string{`401`}, []string{"hunter2key"}},
		{"auth file without a colon", []string{"-u", base + "/auth", "--auth-file", noColon}, 3, []string{`--auth-file .*token: first line must be USER:PASSWORD`}, []string{"hunter2token"}},
		{"auth file, wrong password, -vvv", []string{"-u", base + "/status/401", "--auth-file", auth, "-vvv"}, 2, []string{`401`}, []string{"hunter2pass", "bmFnaW9zOmh1bnRlcjJwYXNz"}},
		{"-a with a bad URL", []string{"-u", "ftp://x/", "-a", "nagios:hunter2"}, 3, []string{`scheme must be http or https`}, []string{"hunter2"}},
	})
}

// A failed request's time is its own, as an answered one's Timing: the
// wait for a free connection is left out.
func TestFailureTimeIsTheRequests(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *httpprobe.Error
		want time.Duration
	}{
		{"no wait", &httpprobe.Error{Phase: httpprobe.PhaseFirstByte, Elapsed: 500 * time.Millisecond}, 500 * time.Millisecond},
		{"waited, then failed", &httpprobe.Error{Phase: httpprobe.PhaseFirstByte, Elapsed: 500 * time.Millisecond, Waited: 400 * time.Millisecond}, 100 * time.Millisecond},
		{"still waiting", &httpprobe.Error{Phase: httpprobe.PhaseWait, Elapsed: 500 * time.Millisecond, Timeout: true}, 500 * time.Millisecond},
	} {
		tc.err.URL, _ = url.Parse("http://example.test/")
		tc.err.Err = context.DeadlineExceeded
		if f := failureOf(tc.err); f.Elapsed != tc.want {
			t.Errorf("%s: Elapsed %v, want %v", tc.name, f.Elapsed, tc.want)
		}
	}
}
