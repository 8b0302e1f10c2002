package monitoring

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// fixtureNow is 5 s after testdata/monitoring/status.dat was written.
var fixtureNow = time.Unix(1700000105, 0)

func fixture(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "monitoring", name))
	return p
}

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := plugin.Runner{Args: args, Stdout: &out, Now: func() time.Time { return fixtureNow },
		Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
	return code, out.String()
}

// The whole plugin on fixture files: status.dat, a procfs tree, a log.
func TestNagiosFiles(t *testing.T) {
	base := []string{"--procfs", fixture("proc"), "--no-state-file"}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"healthy", []string{"--nagios-status", fixture("status.dat")}, 0,
			[]string{"MONITORING OK - nagios4 4.4.6 (pid 1) running, status file 5s old, 2 active checks on time | " +
				"late_checks=0;0;0;0;2 oldest_check_age=25s;;;0 engine_rss=41943040B;;;0 engine_rss_growth=U\n"}},
		{"failed notification in the log", []string{"--nagios-status", fixture("status.dat"), "--nagios-log", fixture("nagios.log")}, 1,
			[]string{"MONITORING WARNING - 1 notification command failed: notify-service-by-email |",
				"failed notification: notify-service-by-email exited with return code 127 at 2023-11-14 22:13:30Z for localhost/HTTP to ops"}},
		{"garbage status", []string{"--nagios-status", fixture("garbage.dat")}, 3,
			[]string{"MONITORING UNKNOWN - " + fixture("garbage.dat") + ": malformed status file: line 1"}},
		{"truncated status", []string{"--nagios-status", fixture("truncated.dat")}, 3,
			[]string{"MONITORING UNKNOWN - " + fixture("truncated.dat") + ": malformed status file: cut short inside a block"}},
		{"no status file", []string{"--nagios-status", fixture("nowhere.dat")}, 2,
			[]string{"MONITORING CRITICAL - status file " + fixture("nowhere.dat") + " does not exist: the engine is not running"}},
		{"a log that is no log", []string{"--nagios-status", fixture("status.dat"), "--nagios-log", fixture("status.dat")}, 3,
			[]string{"no line of it reads as a Nagios log line"}},
		// Postmortem 000: the engine gone, the kernel log says the OOM
		// killer took it.
		{"OOM-killed", []string{"--nagios-status", fixture("status.dat"), "--procfs", fixture("dead/proc"), "--kmsg", fixture("dead/kmsg")}, 2,
			[]string{"MONITORING CRITICAL - the engine (pid 1 in " + fixture("status.dat") + ") is not running: no process 1; " +
				"killed by the OOM killer: nagios4 (pid 1) in /system.slice/nagios4.service"}},
		// Nonsense intervals in status.dat make no check late.
		{"nonsense intervals", []string{"-v", "--nagios-status", fixture("bad-interval.dat")}, 0,
			[]string{"MONITORING OK - nagios4 4.4.6 (pid 1) running, status file 5s old, 1 active checks on time |",
				"5 active checks not judged for lateness: check_interval not a number, infinite, negative or over a year\n",
				"bad interval: localhost/HTTP: check_interval=+Inf (infinite)", "bad interval: localhost/nan: check_interval=(not a number) (not a number)",
				"bad interval: localhost/huge: check_interval=1e+300 (over a year)", "bad interval: localhost/negative: check_interval=-5 (negative)",
				"bad interval: localhost/garbage: check_interval=(not a number) (not a number)"}},
		{"a config that is no config", []string{"--nagios-config", fixture("garbage.dat")}, 3,
			[]string{"malformed main configuration: line 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(t, append(append([]string{}, base...), tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// The state file carries the log position and the engine's memory: a
// failure is news once, and growth is measured against the last run.
func TestNagiosState(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nagios.cfg")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf("status_file=%s\nlog_file=%s\nstatus_update_interval=10\n",
		fixture("status.dat"), fixture("nagios.log"))), 0o644))
	args := []string{"--nagios-config", cfg, "--procfs", fixture("proc"), "--state-file", filepath.Join(dir, "state")}
	if code, out := run(t, args...); code != 1 || !strings.Contains(out, "notify-service-by-email") {
		t.Errorf("first run: exit %d, want 1:\n%s", code, out)
	}
	fixtureNow = fixtureNow.Add(time.Second)
	defer func() { fixtureNow = fixtureNow.Add(-time.Second) }()
	code, out := run(t, args...)
	if code != 0 || !strings.Contains(out, "0 notifications sent, none failed") || !strings.Contains(out, "+0.0 MiB since the last run 1s ago") {
		t.Errorf("second run: exit %d, want 0, the failure read once and growth measured:\n%s", code, out)
	}
}

// The log between runs, from fixtures copied in turn to the one path
// --nagios-log names: each failure is news once, also when logged in the
// second the last run's read ended on, and a rotated log is said to be.
func TestNagiosLogRuns(t *testing.T) {
	tests := []struct {
		name string
		logs []string   // testdata/monitoring/log/*, one a run
		want [][]string // in each run's output
		not  [][]string // not in it
	}{
		{"appended in the same second", []string{"first.log", "same-second.log", "same-second.log"},
			[][]string{{"MONITORING WARNING - 1 notification command failed: notify-A |"},
				{"MONITORING WARNING - 1 notification command failed: notify-B |"},
				{"0 notifications sent, none failed"}},
			[][]string{nil, {"notify-A"}, {"notify-"}}},
		{"rotated", []string{"first.log", "rotated.log"},
			[][]string{{"notify-A"}, {"MONITORING WARNING - 1 notification command failed: notify-B |",
				"log/nagios.log was rotated since the last run: what the engine logged from 2023-11-14 22:15:00Z to 2023-11-14 22:15:02Z is in the rotated file, not read"}},
			[][]string{nil, {"notify-A"}}},
		{"not rotated", []string{"first.log", "same-second.log"}, [][]string{{"notify-A"}, {"notify-B"}}, [][]string{nil, {"rotated"}}},
		// A last second with no line counted is kept as such: a failure
		// logged later in it is news.
		{"nothing counted in the last second", []string{"quiet.log", "first.log"}, [][]string{{"0 notifications sent"}, {"notify-A"}}, [][]string{nil, {"rotated"}}},
		// A log empty at the first run has no line to resume from.
		{"empty at first", []string{"empty.log", "first.log"}, [][]string{{"0 notifications sent"}, {"notify-A"}}, [][]string{nil, {"rotated"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "log", "nagios.log")
			must(t, os.Mkdir(filepath.Dir(log), 0o755))
			args := []string{"--nagios-status", fixture("status.dat"), "--nagios-log", log, "--procfs", fixture("proc"), "--state-file", filepath.Join(dir, "state")}
			for i, name := range tc.logs {
				data, err := os.ReadFile(fixture("log/" + name))
				must(t, err)
				must(t, os.WriteFile(log, data, 0o644))
				_, out := run(t, args...)
				for _, w := range tc.want[i] {
					if !strings.Contains(out, w) {
						t.Errorf("run %d (%s): output lacks %q:\n%s", i+1, name, w, out)
					}
				}
				for _, w := range tc.not[i] {
					if strings.Contains(out, w) {
						t.Errorf("run %d (%s): output has %q:\n%s", i+1, name, w, out)
					}
				}
			}
		})
	}
}

// A state file's log cursor, in the shape an older build wrote (no
// hashes: "after that second") and in this build's: the first run after
// an upgrade counts nothing again.
func TestNagiosLogStateShapes(t *testing.T) {
	tests := []struct {
		state, log string // testdata/monitoring/state/*, log/*
		want, not  string
	}{
		{"before-hashes.json", "first.log", "0 notifications sent, none failed", "notify-"},
		{"before-hashes.json", "same-second.log", "0 notifications sent, none failed", "notify-"}, // as the older build read it
		{"hashed.json", "first.log", "0 notifications sent, none failed", "notify-"},
		{"hashed.json", "same-second.log", "MONITORING WARNING - 1 notification command failed: notify-B |", "notify-A"},
		{"hashed-none-counted.json", "first.log", "MONITORING WARNING - 1 notification command failed: notify-A |", "rotated"},
	}
	for _, tc := range tests {
		t.Run(tc.state+"+"+tc.log, func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			data, err := os.ReadFile(fixture("state/" + tc.state))
			must(t, err)
			must(t, os.WriteFile(state, data, 0o600))
			log, err := os.ReadFile(fixture("log/" + tc.log))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, "nagios.log"), log, 0o644))
			_, out := run(t, "--nagios-status", fixture("status.dat"), "--nagios-log", filepath.Join(dir, "nagios.log"),
				"--procfs", fixture("proc"), "--state-file", state)
			if !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) {
				t.Errorf("output lacks %q or has %q:\n%s", tc.want, tc.not, out)
			}
		})
	}
}

// The Icinga 2 API, served by a fake: OK, refused, down; the password
// never shows.
func TestIcingaAPI(t *testing.T) {
	const pw = "pw-s3cret-42"
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/status/IcingaApplication", func(w http.ResponseWriter, r *http.Request) {
		if _, p, ok := r.BasicAuth(); !ok || p != pw {
			http.Error(w, `{"error":401}`, http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"results":[{"status":{"icingaapplication":{"app":{"node_name":"master","version":"r2.13.6-1","pid":77,`+
			`"program_start":1699990000,"enable_notifications":true,"enable_host_checks":true,"enable_service_checks":true}}}}]}`)
	})
	mux.HandleFunc("/v1/objects/hosts", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[{"attrs":{"__name":"web1","check_interval":60,"last_check":1700000090.5,"enable_active_checks":true}}]}`)
	})
	mux.HandleFunc("/v1/objects/services", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[{"attrs":{"__name":"web1!http","check_interval":60,"last_check":1699999000,"enable_active_checks":true,`+
			`"state":2,"state_type":1,"last_hard_state_change":1699990000,"acknowledgement":0,"downtime_depth":0,"enable_notifications":true}},`+
			`{"attrs":{"__name":"web1!disk","check_interval":300,"last_check":1700000000,"enable_active_checks":true}}]}`)
	})
	mux.HandleFunc("/v1/objects/notifications", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[{"attrs":{"host_name":"web1","service_name":"http","last_notification":1699980000}}]}`)
	})
	mux.HandleFunc("/v1/status/ApiListener", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[{"status":{"api":{"not_conn_endpoints":["agent7"],"zones":{"master":{"connected":true,"endpoints":["master"]},`+
			`"agents":{"connected":false,"endpoints":["agent7"]},"global-templates":{"connected":false,"endpoints":[]}}}}}]}`)
	})
	// The same API behind a reverse proxy's prefix.
	mux.Handle("/icinga/", http.StripPrefix("/icinga", mux))
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	t.Setenv("HS_TEST_PW", pw)
	if code, out := run(t, "--icinga-api", srv.URL+"/icinga/", "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", fixture("proc")); code != 2 ||
		!strings.Contains(out, "answers at "+srv.URL+"/icinga") || !strings.Contains(out, "endpoint not connected: agent7") {
		t.Errorf("behind a prefix: exit %d, want 2 as without:\n%s", code, out)
	}
	code, out := run(t, "--icinga-api", srv.URL, "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", fixture("proc"))
	for _, w := range []string{"MONITORING CRITICAL - 2 CRITICAL, 1 WARNING: 1 endpoint not connected: agent7 (1 zone cut off: agents) / 1 of 3 active checks (33.3%) late by over 3x their interval, oldest web1!http last checked 18m25s ago",
		"[WARNING] 1 problem older than 1h with no notification sent, oldest web1!http for 2h48m",
		"icinga2 r2.13.6-1 (pid 77) answers at " + srv.URL} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	t.Setenv("HS_TEST_PW", "wrong-"+pw)
	if code, out := run(t, "--icinga-api", srv.URL, "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", fixture("proc")); code != 3 || !strings.Contains(out, "401 Unauthorized") || strings.Contains(out, pw) {
		t.Errorf("wrong password: exit %d, want 3 saying 401 without the password:\n%s", code, out)
	}
	if code, out := run(t, "--icinga-api", srv.URL, "--api-password-env", "HS_TEST_PW", "--no-state-file"); code != 3 || !strings.Contains(out, "not trusted") {
		t.Errorf("self-signed without --api-ca: exit %d, want 3:\n%s", code, out)
	}
	url := srv.URL
	srv.Close()
	if code, out := run(t, "--icinga-api", url, "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", fixture("proc")); code != 2 || !strings.Contains(out, "Icinga 2 API "+url) {
		t.Errorf("API down: exit %d, want 2 naming %s:\n%s", code, url, out)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The kernel's OOM count (vmstat under --procfs) is kept between runs:
// when it rose and the engine is gone, a readable kernel log names the
// victim; one that cannot be read still lets the count say "likely".
func TestNagiosOOMCount(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	base := []string{"--nagios-status", fixture("status.dat")}
	if code, out := run(t, append(base, "--procfs", fixture("proc"), "--state-file", first)...); code != 0 {
		t.Fatalf("first run: exit %d, want 0:\n%s", code, out)
	}
	tests := []struct {
		name string
		proc string
		kmsg string
		want string
	}{
		{"log names the engine", "dead/proc", fixture("dead/kmsg"), "is not running: no process 1; killed by the OOM killer: nagios4 (pid 1) in /system.slice/nagios4.service"},
		{"log unreadable", "dead/proc", fixture("proc"), "is not running: no process 1; it was likely killed by the OOM killer: the kernel counted 1 OOM kill since the last run"},
		// Another boot id: the count is this boot's, not since the last run.
		{"rebooted", "rebooted/proc", fixture("proc"), "is not running: no process 1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(first)
			must(t, err)
			state := filepath.Join(t.TempDir(), "state")
			must(t, os.WriteFile(state, data, 0o600))
			_, out := run(t, append(base, "--procfs", fixture(tc.proc), "--kmsg", tc.kmsg, "--state-file", state)...)
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
			// The next run compares with this one: no new kill.
			if _, out := run(t, append(base, "--procfs", fixture(tc.proc), "--kmsg", tc.kmsg, "--state-file", state)...); strings.Contains(out, "likely") {
				t.Errorf("third run: the kill is news once:\n%s", out)
			}
		})
	}
}

// The lock file (lock_file in the configuration) names pid 2, stopped,
// while status.dat names pid 1: the output names pid 2, whether
// status.dat is fresh or stale.
func TestNagiosLockFile(t *testing.T) {
	dir := t.TempDir()
	config := func(lock string) string {
		cfg := filepath.Join(dir, filepath.Base(lock)+".cfg")
		must(t, os.WriteFile(cfg, []byte(fmt.Sprintf("status_file=%s\nlock_file=%s\nstatus_update_interval=10\n", fixture("status.dat"), lock)), 0o644))
		return cfg
	}
	tests := []struct {
		name  string
		lock  string
		later time.Duration
		code  int
		want  string
	}{
		{"fresh", fixture("lock/nagios4.pid"), 0, 2, "MONITORING CRITICAL - the lock file " + fixture("lock/nagios4.pid") + " names pid 2, not status.dat's 1: nagios4 (pid 2) is stopped (SIGSTOP or a debugger)"},
		{"stale", fixture("lock/nagios4.pid"), time.Hour, 2, "[CRITICAL] the lock file " + fixture("lock/nagios4.pid") + " names pid 2, not status.dat's 1: nagios4 (pid 2) is stopped"},
		{"no lock file", fixture("lock/nowhere.pid"), 0, 0, "lock file not read: " + fixture("lock/nowhere.pid") + ": no such file"},
		{"garbage", fixture("lock/garbage.pid"), 0, 0, `lock file not read: ` + fixture("lock/garbage.pid") + `: malformed lock file: "garbage" is no pid`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fixtureNow = fixtureNow.Add(tc.later)
			defer func() { fixtureNow = fixtureNow.Add(-tc.later) }()
			code, out := run(t, "-v", "--nagios-config", config(tc.lock), "--procfs", fixture("lock/proc"), "--no-state-file")
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// A bad --icinga-api is UNKNOWN naming the option, before any dial.
func TestIcingaAPIBadURL(t *testing.T) {
	t.Setenv("HS_TEST_PW", "x")
	for _, api := range []string{"https://127.0.0.1:99999", "https://127.0.0.1:0", "https://127.0.0.1:1/?x=1", "https://127.0.0.1:1/#frag"} {
		code, out := run(t, "--icinga-api", api, "--api-password-env", "HS_TEST_PW", "--no-state-file")
		if want := "MONITORING UNKNOWN - invalid --icinga-api " + strconv.Quote(api) + ": "; code != 3 || !strings.HasPrefix(out, want) {
			t.Errorf("%s: exit %d, want 3 and %q:\n%s", api, code, want, out)
		}
	}
	// Through the whole run too (the runtime's sanitiser included), no
	// form of a password in a malformed value shows.
	for _, api := range []string{"u:secretpw@127.0.0.1:5665", "https:u:secretpw@127.0.0.1:5665", "https:/u:secretpw@127.0.0.1:5665",
		"//u:secretpw@127.0.0.1:5665", "https://u:secretpw@127.0.0.1:5665/%zz", "https://u:secretpw@127.0.0.1:5665"} {
		code, out := run(t, "--icinga-api", api, "--api-password-env", "HS_TEST_PW", "--no-state-file")
		if code != 3 || !strings.HasPrefix(out, "MONITORING UNKNOWN - invalid --icinga-api") || strings.Contains(out, "secretpw") {
			t.Errorf("%s: exit %d, want 3, the option named and no password:\n%s", api, code, out)
		}
	}
}

// An answer of the wrong shape is worded in JSON's terms, where it is
// wrong and how, never in Go's (struct fields, float64).
func TestIcingaAPIBadAnswer(t *testing.T) {
	const app = `{"results":[{"status":{"icingaapplication":{"app":{"version":"r2.13.6-1","pid":%s,"enable_notifications":%s}}}}]}`
	for _, tc := range []struct{ name, body, want string }{
		{"pid a string", fmt.Sprintf(app, `"abc"`, "true"), "unexpected answer: status.icingaapplication.app.pid is a string, not a number"},
		{"pid an object", fmt.Sprintf(app, `{}`, "true"), "unexpected answer: status.icingaapplication.app.pid is an object, not a number"},
		{"pid out of range", fmt.Sprintf(app, `1e400`, "true"), "unexpected answer: status.icingaapplication.app.pid is 1e400, out of range"},
		{"flag a string", fmt.Sprintf(app, `1`, `"yes"`), "unexpected answer: status.icingaapplication.app.enable_notifications is a string, not true or false"},
		{"results an object", `{"results":{}}`, "unexpected answer: results is an object, not an array"},
		{"an array", `[]`, "unexpected answer: the answer is an array, not an object"},
		{"cut short", `{"results":[`, "not JSON (at byte 12)"},
		{"HTML", `<html>`, "not JSON (at byte 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) }))
			defer srv.Close()
			t.Setenv("HS_TEST_PW", "x")
			code, out := run(t, "--icinga-api", srv.URL, "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", fixture("proc"))
			want := "MONITORING UNKNOWN - Icinga 2 API " + srv.URL + "/v1/status/IcingaApplication: " + tc.want
			if code != 3 || !strings.Contains(out, want) || strings.Contains(out, "Go struct") || strings.Contains(out, "float64") || strings.Contains(out, "json:") {
				t.Errorf("exit %d, want 3 and %q:\n%s", code, want, out)
			}
		})
	}
}

// A nagios_pid that is no pid is named as such, taken as no pid (the
// engine not running), and the memory's perfdata stays.
func TestNagiosBadPID(t *testing.T) {
	data, err := os.ReadFile(fixture("status.dat"))
	must(t, err)
	for _, tc := range []struct{ line, want string }{
		{"nagios_pid=-5", `gives no valid pid ("-5")`},
		{"nagios_pid=0", `gives no valid pid ("0")`},
		{"nagios_pid=99999999999999999999999", `gives no valid pid ("99999999999999999999999")`},
		{"nagios_pid=2147483648", `gives no valid pid ("2147483648")`},
		{"nagios_pid=1e300", `gives no valid pid ("1e300")`},
		{"nagios_pid_gone=1", "gives no pid"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			status := filepath.Join(t.TempDir(), "status.dat")
			must(t, os.WriteFile(status, []byte(strings.Replace(string(data), "nagios_pid=1\n", tc.line+"\n", 1)), 0o644))
			code, out := run(t, "--nagios-status", status, "--procfs", fixture("proc"), "--no-state-file")
			want := "MONITORING CRITICAL - the engine is not running: the status file " + status + " " + tc.want
			if code != 2 || !strings.Contains(out, want) || !strings.Contains(out, "engine_rss=U") || strings.Contains(out, "no process") {
				t.Errorf("exit %d, want 2, %q and engine_rss=U:\n%s", code, want, out)
			}
		})
	}
}

// With the API on loopback, the process at the pid it gives is measured
// only when it is Icinga 2's: a tunnel to another host gives a pid that
// here is another program's (pid 1, init).
func TestIcingaAPIProcess(t *testing.T) {
	tests := []struct {
		name   string
		pid    string // JSON
		procfs string
		want   []string
		not    []string
	}{
		{"icinga2 here", "77", fixture("icinga/proc"), []string{"[OK] engine memory 80.0 MiB", "engine_rss=83886080B;;;0"}, []string{"not on this host"}},
		{"another program at the pid", "1", fixture("icinga/proc"),
			[]string{`the engine's process is not on this host (the API reached through a tunnel?): the API's pid 1 is "systemd" here, not icinga2; its memory is not known`,
				"engine_rss=U engine_rss_growth=U"},
			[]string{"engine memory", "12582912"}},
		{"no process at the pid", "78", fixture("icinga/proc"), []string{"the API's pid 78 is not a process here (no process 78)", "engine_rss=U"}, []string{"engine memory"}},
		// A pid that is no pid is said to be, never converted, and the
		// memory's perfdata stays.
		{"absurd pid", "1e300", fixture("icinga/proc"), []string{"answers at", "; the API gives no valid pid (1e+300)",
			"the engine's memory is not known: the API gives no valid pid (1e+300)", "engine_rss=U engine_rss_growth=U"}, []string{"(pid -", "9223372036854775808"}},
		{"pid too big", "2147483648", fixture("icinga/proc"), []string{"the API gives no valid pid (2147483648)", "engine_rss=U"}, []string{"(pid "}},
		{"negative pid", "-1", fixture("icinga/proc"), []string{"the API gives no valid pid (-1)", "engine_rss=U"}, []string{"(pid "}},
		{"pid 0", "0", fixture("icinga/proc"), []string{"the API gives no valid pid (0)", "engine_rss=U"}, []string{"(pid "}},
		{"fractional pid", "77.5", fixture("icinga/proc"), []string{"the API gives no valid pid (77.5)", "engine_rss=U"}, []string{"engine memory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("/v1/status/IcingaApplication", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"results":[{"status":{"icingaapplication":{"app":{"version":"r2.13.6-1","pid":%s,`+
					`"program_start":1699990000,"enable_notifications":true,"enable_host_checks":true,"enable_service_checks":true}}}}]}`, tc.pid)
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"results":[]}`) })
			srv := httptest.NewTLSServer(mux)
			defer srv.Close()
			t.Setenv("HS_TEST_PW", "x")
			code, out := run(t, "--icinga-api", srv.URL, "--api-password-env", "HS_TEST_PW", "--api-insecure", "--no-state-file", "--procfs", tc.procfs)
			if code != 0 {
				t.Errorf("exit %d, want 0:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}
