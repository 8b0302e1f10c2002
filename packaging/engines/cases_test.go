package engines

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cases are what every engine runs: each plugin needs at least one OK and
// one non-OK case. ADDING A PLUGIN IS ADDING ITS ENTRIES HERE (plus
// `make generate` for its shipped definitions, which the Nagios and
// Icinga 2 tests load).
//
// Args are the plugin's arguments. Use long option names (--warning, not
// -w): the Icinga 2 test maps them onto the shipped CheckCommand's custom
// variables. In an argument, {testdata} is a copy of the repository's
// testdata/ that the nagios user can read (only the top directories the
// cases name are copied), {lab} is the lab directory, and {NAME} is
// lab.Vars["NAME"] as set by Setup (which may start servers on loopback and
// must register their cleanup with t.Cleanup). Output that is not the same
// from one run to the next (timings) needs Volatile: digits are then not
// compared.
var cases = []Case{
	// A certificate made by the test, valid for a year; and postmortem
	// 004's apiserver certificate from the kubeadm fixture, long expired.
	// Days left are perfdata with two decimals: they move every 14 minutes,
	// so between the direct run and the engine's: Volatile.
	{Plugin: "check_cert_expiry", Name: "ok", State: 0, Volatile: true, Setup: freshCert,
		Args: []string{"--file", "{cert}"}},
	{Plugin: "check_cert_expiry", Name: "expired", State: 2, Volatile: true,
		Args: []string{"--file", "{testdata}/certexpiry/kubeadm/expired/etc/kubernetes/pki/apiserver.crt"}},
	// A loopback server started by the test: /ok answers 200 with a JSON
	// health body, /forbidden 403 for everything (postmortem 001).
	{Plugin: "check_http_status", Name: "ok", State: 0, Volatile: true, Setup: httpServer,
		Args: []string{"--url", "{http}/ok", "--string", "healthy"}},
	{Plugin: "check_http_status", Name: "forbidden", State: 2, Volatile: true, Setup: httpServer,
		Args: []string{"--url", "{http}/forbidden", "--expect", "200"}},
	{Plugin: "check_load", Name: "ok", State: 0,
		Args: []string{"--procfs", "{testdata}/load/idle-2cpu/proc", "--sysfs", "{testdata}/load/idle-2cpu/sys"}},
	{Plugin: "check_load", Name: "warning", State: 1,
		Args: []string{"--warning", "0.25", "--critical", "5,4,3", "--procfs", "{testdata}/load/idle-2cpu/proc", "--sysfs", "{testdata}/load/idle-2cpu/sys"}},
	{Plugin: "check_load", Name: "critical_quota", State: 2,
		Args: []string{"--verbose", "--procfs", "{testdata}/load/container-v2-quota/proc", "--sysfs", "{testdata}/load/container-v2-quota/sys"}},
	{Plugin: "check_load", Name: "bad_option", State: 3,
		Args: []string{"--warning", "five", "--procfs", "{testdata}/load/idle-2cpu/proc"}},
	// Devices named explicitly, so no mount of this machine is probed; the
	// state file is /dev/null so every run compares with nothing, as the first.
	{Plugin: "check_blockdev", Name: "ok", State: 0,
		Args: []string{"--device", "sda", "--device", "vda", "--procfs", "{testdata}/blockdev/healthy/proc", "--sysfs", "{testdata}/blockdev/healthy/sys",
			"--fstab", "{testdata}/blockdev/healthy/fstab", "--kmsg", "/dev/null", "--state-file", "/dev/null"}},
	{Plugin: "check_blockdev", Name: "offline_disk", State: 2,
		Args: []string{"--device", "sda", "--device", "sdb", "--procfs", "{testdata}/blockdev/faulty/proc", "--sysfs", "{testdata}/blockdev/faulty/sys",
			"--fstab", "{testdata}/blockdev/healthy/fstab", "--kmsg", "/dev/null", "--state-file", "/dev/null"}},
	// This machine's routes, read the same on any machine: both families
	// ignored, or a table no one uses (100) required for IPv4.
	{Plugin: "check_route", Name: "ok", State: 0,
		Args: []string{"--ipv4", "ignore", "--ipv6", "ignore"}},
	{Plugin: "check_route", Name: "no_default", State: 2,
		Args: []string{"--ipv4", "required", "--ipv6", "ignore", "--table", "100"}},
	{Plugin: "check_route", Name: "bad_option", State: 3,
		Args: []string{"--gateway", "192.0.2"}},
	// Fixture process tables; no state file, so every run is a first run.
	// Process ages are measured against the real clock: Volatile.
	{Plugin: "check_stuck_procs", Name: "ok", State: 0, Volatile: true,
		Args: []string{"--procfs", "{testdata}/stuckprocs/healthy/proc", "--no-state-file", "--kmsg", "/dev/null"}},
	{Plugin: "check_stuck_procs", Name: "stuck_in_d", State: 2, Volatile: true,
		Args: []string{"--procfs", "{testdata}/stuckprocs/busy/proc", "--no-state-file", "--kmsg", "/dev/null", "--zombie-warning", "2"}},
	{Plugin: "check_stuck_procs", Name: "bad_option", State: 3,
		Args: []string{"--state", "Q", "--procfs", "{testdata}/stuckprocs/healthy/proc"}},
	// A fixture status.dat of 2023 and its engine's process: alive, but
	// the file and every check long stale. Ages move with the clock: Volatile.
	{Plugin: "check_monitoring", Name: "stale", State: 2, Volatile: true,
		Args: []string{"--nagios-status", "{testdata}/monitoring/status.dat", "--procfs", "{testdata}/monitoring/proc", "--no-state-file"}},
	{Plugin: "check_monitoring", Name: "bad_option", State: 3,
		Args: []string{"--stale-factor", "0", "--nagios-status", "{testdata}/monitoring/status.dat"}},
}

// httpServer serves the check_http_status cases on a loopback port.
func httpServer(t *testing.T, lab *Lab) {
	if lab.Vars["http"] != "" {
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"healthy"}`)
			return
		}
		http.Error(w, "Forbidden", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	lab.Vars["http"] = srv.URL
}

// freshCert writes a self-signed certificate valid for a year into the lab.
func freshCert(t *testing.T, lab *Lab) {
	if lab.Vars["cert"] != "" {
		return
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "engines.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(lab.Dir, "fresh.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.Vars["cert"] = path
}
