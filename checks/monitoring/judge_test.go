package monitoring

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/kmsg"
	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// judge is pure: these cases build observations by hand.

var now = time.Unix(1701000000, 0)

func options(t *testing.T, args ...string) *Options {
	t.Helper()
	parser, check, _ := plugin.NewParser(Plugin)
	if _, err := parser.ParseArgs(args); err != nil {
		t.Fatal(err)
	}
	o := check.(*Options)
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return o
}

func svc(name string, interval float64, ago time.Duration) nagiosstatus.Object {
	return nagiosstatus.Object{Host: "web1", Service: name, Interval: interval, LastCheck: now.Add(-ago).Unix(),
		Checked: true, Active: true, Scheduled: true, Notify: true}
}

// healthy is a Nagios engine with nothing wrong: interval_length 60,
// status rewritten every 10 s.
func healthy() *nagiosObs {
	return &nagiosObs{
		Config:     nagiosstatus.Config{StatusUpdateInterval: 10, IntervalLength: 60, LogFile: "/var/log/nagios4/nagios.log"},
		ConfigPath: "/etc/nagios4/nagios.cfg",
		StatusPath: "/var/lib/nagios4/status.dat",
		Status: nagiosstatus.Status{
			Program: nagiosstatus.Program{Created: now.Add(-3 * time.Second).Unix(), Version: "4.4.6", PID: 4242,
				Start: now.Add(-24 * time.Hour).Unix(), Notifications: true, ActiveService: true, ActiveHost: true},
			Hosts:    []nagiosstatus.Object{{Host: "web1", Interval: 5, LastCheck: now.Add(-time.Minute).Unix(), Checked: true, Active: true, Scheduled: true}},
			Services: []nagiosstatus.Object{svc("HTTP", 1, 30*time.Second), svc("Disk", 5, 4*time.Minute)},
		},
		Proc: engineProc{PID: 4242, Found: true, State: 'S', Comm: "nagios4", Started: now.Add(-24 * time.Hour).Unix(), RSS: 40 << 20},
		Log:  notifLog{Path: "/var/log/nagios4/nagios.log", Log: &nagiosstatus.Log{Sent: 2, LastSent: now.Add(-time.Hour).Unix()}},
	}
}

// lockPath is Debian's lock_file.
const lockPath = "/run/nagios4/nagios4.pid"

// locked is a lock file naming p, which status.dat does not.
func locked(p engineProc) lockObs { return lockObs{Path: lockPath, PID: p.PID, Proc: &p} }

// noKmsg is the note of a kernel log closed to the user.
const noKmsg = "whether the OOM killer took the engine is not known: /dev/kmsg not readable as uid 110 (dmesg_restrict)"

// counted is an OOM count that rose by since since the last run.
func counted(since uint64) oomCount {
	return oomCount{Known: true, Total: 10 + since, Compared: true, Since: since}
}

func TestJudgeNagios(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		change func(n *nagiosObs)
		prev   *saved
		state  plugin.State
		want   []string
	}{
		{"healthy", nil, nil, nil, plugin.OK,
			[]string{"MONITORING OK - nagios4 4.4.6 (pid 4242) running, status file 3s old, 3 active checks on time, 2 notifications sent, none failed",
				"late_checks=0;0;0;0;3", "notifications_sent=2", "engine_rss=41943040B"}},
		{"killed", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOM = []kmsg.Victim{{PID: 4242, Comm: "nagios4", Memcg: "/system.slice/nagios4.service"}}
		}, nil, plugin.CRITICAL,
			[]string{"the engine (pid 4242 in /var/lib/nagios4/status.dat) is not running: no process 4242; killed by the OOM killer: nagios4 (pid 4242) in /system.slice/nagios4.service"}},
		{"pid reused", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: `pid 4242 is now "bash", started after the engine`}
		}, nil, plugin.CRITICAL,
			[]string{`is not running: pid 4242 is now "bash"`}},
		{"stopped", nil, func(n *nagiosObs) { n.Proc.State = 'T' }, nil, plugin.CRITICAL, []string{"nagios4 (pid 4242) is stopped"}},
		{"stale status", nil, func(n *nagiosObs) { n.Status.Program.Created = now.Add(-36 * time.Second).Unix() }, nil, plugin.CRITICAL,
			[]string{"status file 36s old (/var/lib/nagios4/status.dat, rewritten every 10s): the engine is dead or hung"}},
		{"status within 3x + 5s", nil, func(n *nagiosObs) { n.Status.Program.Created = now.Add(-35 * time.Second).Unix() }, nil, plugin.OK, nil},
		{"status missing", nil, func(n *nagiosObs) { n.StatusMissing, n.Status = true, nagiosstatus.Status{} }, nil, plugin.CRITICAL,
			[]string{"status file /var/lib/nagios4/status.dat does not exist"}},
		{"status missing after an OOM kill", nil, func(n *nagiosObs) {
			n.StatusMissing, n.Status, n.Proc = true, nagiosstatus.Status{}, engineProc{}
			n.Restarted = &saved{PID: 4000}
			n.OOM = []kmsg.Victim{{PID: 4000, Comm: "nagios4"}}
		}, nil, plugin.CRITICAL, []string{"does not exist: the engine is not running (it removes the file when it stops); pid 4000 of the last run was killed by the OOM killer: nagios4 (pid 4000)"}},
		{"notifications disabled", nil, func(n *nagiosObs) { n.Status.Program.Notifications = false }, nil, plugin.CRITICAL,
			[]string{"notifications are disabled globally"}},
		{"active checks disabled", nil, func(n *nagiosObs) { n.Status.Program.ActiveService = false }, nil, plugin.CRITICAL,
			[]string{"active service checks are disabled globally"}},
		{"one late of three is critical", nil, func(n *nagiosObs) { n.Status.Services[0].LastCheck = now.Add(-10 * time.Minute).Unix() }, nil, plugin.CRITICAL,
			[]string{"1 of 3 active checks (33.3%) late by over 3x their interval, oldest web1/HTTP last checked 10m ago", "late: web1/HTTP"}},
		{"late under the critical share warns", []string{"--stale-critical", "50"}, func(n *nagiosObs) { n.Status.Services[0].LastCheck = now.Add(-10 * time.Minute).Unix() }, nil, plugin.WARNING,
			[]string{"MONITORING WARNING - 1 of 3 active checks"}},
		{"never checked since start", nil, func(n *nagiosObs) { n.Status.Services[1].Checked, n.Status.Services[1].LastCheck = false, 0 }, nil, plugin.CRITICAL,
			[]string{"web1/Disk never checked in 1d since start"}},
		{"just started: not late yet", nil, func(n *nagiosObs) {
			n.Status.Program.Start = now.Add(-time.Minute).Unix()
			n.Status.Services[1].Checked, n.Status.Services[1].LastCheck = false, 0
		}, nil, plugin.OK, nil},
		{"passive checks are not judged", nil, func(n *nagiosObs) { n.Status.Services[0].Active, n.Status.Services[0].LastCheck = false, 0 }, nil, plugin.OK,
			[]string{"2 active checks on time"}},
		{"failed notification command", nil, func(n *nagiosObs) {
			n.Log.Log.Failures = []nagiosstatus.Failure{{Time: now.Add(-time.Minute).Unix(), Command: "notify-by-email", Contact: "ops", Host: "web1", Service: "HTTP", Reason: "exited with return code 1"}}
		}, nil, plugin.WARNING,
			[]string{"MONITORING WARNING - 1 notification command failed: notify-by-email", "failed notification: notify-by-email exited with return code 1 at 2023-11-26 11:59:00Z for web1/HTTP to ops",
				"notifications_failed=1;0;;0"}},
		{"failures over --notify-fail-critical", []string{"--notify-fail-critical", "1"}, func(n *nagiosObs) {
			f := nagiosstatus.Failure{Command: "notify-by-sms", Reason: "timed out after 30.00s"}
			n.Log.Log.Failures = []nagiosstatus.Failure{f, f}
		}, nil, plugin.CRITICAL, []string{"2 notification commands failed: notify-by-sms x2"}},
		{"log unreadable", nil, func(n *nagiosObs) {
			n.Log.Log, n.Log.Err = nil, errors.New("/var/log/nagios4/nagios.log: permission denied for uid 110")
		}, nil, plugin.UNKNOWN,
			[]string{"failed notifications not checked: /var/log/nagios4/nagios.log: permission denied"}},
		{"problem never notified", nil, func(n *nagiosObs) {
			s := &n.Status.Services[0]
			s.State, s.Hard, s.LastHardChange = 2, true, now.Add(-2*time.Hour).Unix()
		}, nil, plugin.WARNING, []string{"1 problem older than 1h with no notification sent, oldest web1/HTTP for 2h"}},
		{"problem notified", nil, func(n *nagiosObs) {
			s := &n.Status.Services[0]
			s.State, s.Hard, s.LastHardChange, s.LastNotification = 2, true, now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour+time.Second).Unix()
		}, nil, plugin.OK, nil},
		{"acknowledged problem", nil, func(n *nagiosObs) {
			s := &n.Status.Services[0]
			s.State, s.Hard, s.LastHardChange, s.Acked = 2, true, now.Add(-2*time.Hour).Unix(), true
		}, nil, plugin.OK, nil},
		{"memory growth", []string{"--rss-growth-warning", "10"}, nil,
			&saved{PID: 4242, Started: now.Add(-24 * time.Hour).Unix(), RSS: 20 << 20, At: now.Add(-time.Hour).Unix()}, plugin.WARNING,
			[]string{"engine memory 40.0 MiB (+20.0 MiB since the last run 1h ago, +20.0 MiB/h)", "engine_rss_growth=20971520B"}},
		{"memory threshold in MiB", []string{"--rss-critical", "30"}, nil, nil, plugin.CRITICAL,
			[]string{"engine_rss=41943040B;;31457280;0"}},
		{"restarted after an OOM kill", nil, func(n *nagiosObs) {
			n.Restarted = &saved{PID: 4000}
			n.OOM = []kmsg.Victim{{PID: 4000, Comm: "nagios4"}}
		}, &saved{PID: 4000, Started: 1, RSS: 1 << 30, At: now.Add(-5 * time.Minute).Unix()}, plugin.WARNING,
			[]string{"nagios4 restarted since the last run (was pid 4000): killed by the OOM killer: nagios4 (pid 4000)"}},
		// The kernel's OOM count: a rise since the last run says the OOM
		// killer likely took a dead or restarted engine when the kernel
		// log cannot name it (the nagios user, dmesg_restrict).
		{"killed, OOM count rose, log closed", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOMCount, n.OOMNote = counted(2), noKmsg
		}, nil, plugin.CRITICAL,
			[]string{"is not running: no process 4242; it was likely killed by the OOM killer: the kernel counted 2 OOM kills since the last run (its log, which names the process, is not readable)",
				"whether the OOM killer took the engine is not known"}},
		{"killed, OOM count unchanged", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOMCount, n.OOMNote = counted(0), noKmsg
		}, nil, plugin.CRITICAL, []string{"is not running: no process 4242\n"}},
		{"killed, OOM count rose, not compared", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOMCount, n.OOMNote = oomCount{Known: true, Total: 9}, noKmsg
		}, nil, plugin.CRITICAL, []string{"is not running: no process 4242\n"}},
		{"killed, OOM count rose, log read names others", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOMCount = counted(1)
		}, nil, plugin.CRITICAL, []string{"is not running: no process 4242\n"}},
		{"killed, log names the engine", nil, func(n *nagiosObs) {
			n.Proc = engineProc{PID: 4242, Gone: "no process 4242"}
			n.OOMCount = counted(1)
			n.OOM = []kmsg.Victim{{PID: 4242, Comm: "nagios4"}}
		}, nil, plugin.CRITICAL, []string{"no process 4242; killed by the OOM killer: nagios4 (pid 4242)\n"}},
		{"zombie, OOM count rose, --kmsg unreadable", nil, func(n *nagiosObs) {
			n.Proc.State = 'Z'
			n.OOMCount, n.OOMBad = counted(1), "/x: no such file (--kmsg)"
		}, nil, plugin.CRITICAL, []string{"nagios4 (pid 4242) is dead (a zombie): it was likely killed by the OOM killer: the kernel counted 1 OOM kill since the last run"}},
		{"restarted, OOM count rose, log closed", nil, func(n *nagiosObs) {
			n.Restarted = &saved{PID: 4000}
			n.OOMCount, n.OOMNote = counted(1), noKmsg
		}, nil, plugin.WARNING,
			[]string{"MONITORING WARNING - nagios4 restarted since the last run (was pid 4000): it was likely killed by the OOM killer: the kernel counted 1 OOM kill"}},
		{"restarted, OOM count unchanged", nil, func(n *nagiosObs) {
			n.Restarted = &saved{PID: 4000}
			n.OOMCount, n.OOMNote = counted(0), noKmsg
		}, nil, plugin.OK, nil},
		{"status missing, OOM count rose, log closed", nil, func(n *nagiosObs) {
			n.StatusMissing, n.Status, n.Proc = true, nagiosstatus.Status{}, engineProc{}
			n.Restarted = &saved{PID: 4000}
			n.OOMCount, n.OOMNote = counted(3), noKmsg
		}, nil, plugin.CRITICAL, []string{"(it removes the file when it stops); pid 4000 of the last run was likely killed by the OOM killer: the kernel counted 3 OOM kills since the last run"}},
		// The lock file names the engine that started last: when
		// status.dat does not name it, the output says which process.
		{"lock file agrees", nil, func(n *nagiosObs) { n.Lock = lockObs{Path: lockPath, PID: 4242} }, nil, plugin.OK, nil},
		{"stale, lock file names a stopped engine", nil, func(n *nagiosObs) {
			n.Status.Program.Created = now.Add(-time.Hour).Unix()
			n.Lock = locked(engineProc{PID: 5000, Found: true, State: 'T', Comm: "nagios4"})
		}, nil, plugin.CRITICAL, []string{"[CRITICAL] the lock file /run/nagios4/nagios4.pid names pid 5000, not status.dat's 4242: nagios4 (pid 5000) is stopped (SIGSTOP or a debugger): it checks nothing"}},
		{"stale, lock file names a running engine", nil, func(n *nagiosObs) {
			n.Status.Program.Created = now.Add(-time.Hour).Unix()
			n.Lock = locked(engineProc{PID: 5000, Found: true, State: 'S', Comm: "nagios4"})
		}, nil, plugin.CRITICAL, []string{"names pid 5000, not status.dat's 4242: nagios4 (pid 5000) runs but does not write /var/lib/nagios4/status.dat"}},
		{"status missing, lock file names a zombie", nil, func(n *nagiosObs) {
			n.StatusMissing, n.Status, n.Proc = true, nagiosstatus.Status{}, engineProc{}
			n.Lock = locked(engineProc{PID: 5000, Found: true, State: 'Z', Comm: "nagios4"})
		}, nil, plugin.CRITICAL, []string{"[CRITICAL] the lock file /run/nagios4/nagios4.pid names pid 5000: nagios4 (pid 5000) is dead (a zombie)"}},
		{"fresh, lock file names a second engine", nil, func(n *nagiosObs) {
			n.Lock = locked(engineProc{PID: 5000, Found: true, State: 'S', Comm: "nagios4"})
		}, nil, plugin.WARNING, []string{"MONITORING WARNING - the lock file /run/nagios4/nagios4.pid names pid 5000, not status.dat's 4242: nagios4 (pid 5000) runs too (a second engine on the same files?)"}},
		{"fresh, lock file left behind", nil, func(n *nagiosObs) {
			n.Lock = locked(engineProc{PID: 5000, Gone: "no process 5000"})
		}, nil, plugin.OK, []string{"names pid 5000, not status.dat's 4242: no process 5000 (a lock file left behind)"}},
		// Nonsense intervals make no check late: they are counted, and
		// named with -v; the others are judged as ever.
		{"bad intervals", nil, func(n *nagiosObs) {
			for _, v := range []float64{math.Inf(1), math.NaN(), 1e300, -5, 60 * 24 * 367} {
				n.Status.Services = append(n.Status.Services, svc("odd", v, 10*time.Minute))
			}
		}, nil, plugin.OK, []string{"3 active checks on time", "5 active checks not judged for lateness: check_interval not a number, infinite, negative or over a year (-v names them)"}},
		{"bad intervals, -v", []string{"-v"}, func(n *nagiosObs) {
			n.Status.Services = append(n.Status.Services, svc("inf", math.Inf(1), 0), svc("nan", math.NaN(), 0), svc("neg", -5, 0))
		}, nil, plugin.OK, []string{"3 active checks not judged", "bad interval: web1/inf: check_interval=+Inf (infinite)",
			"bad interval: web1/nan: check_interval=(not a number) (not a number)", "bad interval: web1/neg: check_interval=-5 (negative)"}},
		{"bad interval beside a late check", nil, func(n *nagiosObs) {
			n.Status.Services = append(n.Status.Services, svc("inf", math.Inf(1), 0), svc("late", 1, time.Hour))
		}, nil, plugin.CRITICAL, []string{"1 of 4 active checks (25.0%) late by over 3x their interval, oldest web1/late", "1 active check not judged"}},
		// A year is an interval; a huge --stale-factor overflows nothing.
		{"a yearly check", nil, func(n *nagiosObs) {
			n.Status.Services = append(n.Status.Services, svc("yearly", 60*24*365, 24*time.Hour))
		}, nil, plugin.OK, []string{"4 active checks on time"}},
		{"huge stale factor", []string{"--stale-factor", "1e300"}, func(n *nagiosObs) {
			n.Status.Services = append(n.Status.Services, svc("late", 1, time.Hour))
		}, nil, plugin.OK, []string{"4 active checks on time", "status file 3s old"}},
		{"lock file not read", []string{"-v"}, func(n *nagiosObs) {
			n.Lock = lockObs{Path: lockPath, Note: "lock file not read: /run/nagios4/nagios4.pid: malformed lock file: \"x\" is no pid"}
		}, nil, plugin.OK, []string{"lock file not read"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, tc.args...)
			n := healthy()
			if tc.change != nil {
				tc.change(n)
			}
			verbose := 0
			if slices.Contains(tc.args, "-v") {
				verbose = 1
			}
			res := judge(o, observations{Now: now, Prev: tc.prev, Nagios: n, Verbose: verbose})
			out := plugin.Render(Plugin.Service, res, 0)
			if res.State() != tc.state {
				t.Errorf("state %v, want %v:\n%s", res.State(), tc.state, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Icinga 2's intervals are judged as Nagios': nonsense is not late.
func TestJudgeIcingaIntervals(t *testing.T) {
	check := func(name string, interval float64, ago time.Duration) icingaCheckable {
		return icingaCheckable{Name: name, Interval: interval, Last: float64(now.Add(-ago).Unix()), Active: true}
	}
	ic := &icingaObs{URL: "https://127.0.0.1:5665", App: icingaApp{PID: 77, ProgramStart: float64(now.Add(-time.Hour).Unix()),
		Notifications: true, HostChecks: true, ServiceChecks: true},
		Hosts: []icingaCheckable{check("web1", 60, 30*time.Second)},
		Services: []icingaCheckable{check("web1!huge", 1e300, time.Hour), check("web1!negative", -60, time.Hour),
			check("web1!late", 60, time.Hour), {Name: "web1!future", Interval: 60, Last: 1e300, Active: true}}}
	res := judge(options(t), observations{Now: now, Icinga: ic, Verbose: 1})
	out := plugin.Render(Plugin.Service, res, 0)
	for _, w := range []string{"MONITORING CRITICAL - 1 of 3 active checks (33.3%) late by over 3x their interval, oldest web1!late",
		"2 active checks not judged for lateness", "bad interval: web1!huge: check_interval=1e+300 (over a year)",
		"bad interval: web1!negative: check_interval=-60 (negative)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"--stale-factor", "0"}, "invalid --stale-factor 0: must be 1 or more"},
		{[]string{"--stale-factor", "1e-300"}, "invalid --stale-factor 1e-300: must be 1 or more"},
		{[]string{"--stale-factor", "0.99"}, "invalid --stale-factor 0.99: must be 1 or more"},
		{[]string{"--stale-factor", "-3"}, "must be 1 or more"},
		{[]string{"--api-password-file", "/x", "--api-password-env", "X"}, "give one"},
		{[]string{"--icinga-api", "ftp://x"}, "must be https://"},
		{[]string{"--icinga-api", "https://root:pw@127.0.0.1:5665"}, "no credentials in the URL"},
		{[]string{"--api-insecure", "--api-ca", "/x"}, "give one"},
		{[]string{"--api-user", "a:b"}, `invalid --api-user "a:b": basic authentication cannot carry a ":"`},
		{[]string{"--icinga-api", "https://127.0.0.1:99999"}, `invalid --icinga-api "https://127.0.0.1:99999": port "99999" is not 1-65535`},
		{[]string{"--icinga-api", "https://127.0.0.1:0"}, `port "0" is not 1-65535`},
		{[]string{"--icinga-api", "https://127.0.0.1:"}, `port "" is not 1-65535`},
		{[]string{"--icinga-api", "https://127.0.0.1:1/?x=1"}, `invalid --icinga-api "https://127.0.0.1:1/?x=1": no query`},
		{[]string{"--icinga-api", "https://127.0.0.1:1/?"}, "no query"},
		{[]string{"--icinga-api", "https://127.0.0.1:1/#frag"}, `invalid --icinga-api "https://127.0.0.1:1/#frag": no fragment`},
		{[]string{"--icinga-api", "https://127.0.0.1:1/#"}, "no fragment"},
		{[]string{"--icinga-api", "https://:5665"}, "no host"},
		{[]string{"--icinga-api", "https:127.0.0.1"}, "want https://HOST:PORT"},
		{[]string{"--icinga-api", "127.0.0.1:5665"}, "want https://HOST:PORT"},
		// Credentials in a value that is no URL are masked, never echoed.
		{[]string{"--icinga-api", "u:secretpw@127.0.0.1:5665"}, `invalid --icinga-api "***@127.0.0.1:5665": want https://HOST:PORT`},
		{[]string{"--icinga-api", "https:u:secretpw@127.0.0.1:5665"}, `invalid --icinga-api "***@127.0.0.1:5665": want https://HOST:PORT`},
		{[]string{"--icinga-api", "https:/u:secretpw@127.0.0.1:5665"}, `invalid --icinga-api "***@127.0.0.1:5665": want https://HOST:PORT`},
		{[]string{"--icinga-api", "//u:secretpw@127.0.0.1:5665"}, `invalid --icinga-api "//***@127.0.0.1:5665": must be https://`},
		{[]string{"--icinga-api", "https://u:secretpw@127.0.0.1:5665/%zz"}, `invalid --icinga-api "https://***@127.0.0.1:5665/%zz": want https://HOST:PORT`},
		{[]string{"--icinga-api", "ftp://u:se/cret#pw@127.0.0.1"}, `invalid --icinga-api "ftp://***@127.0.0.1": `},
		{[]string{"--icinga-api", "https://u:secretpw@127.0.0.1:5665"}, "no credentials in the URL"},
	} {
		parser, check, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		err := check.(*Options).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.args, err, tc.want)
		} else if strings.Contains(err.Error(), "secretpw") || strings.Contains(err.Error(), "cret") {
			t.Errorf("%q: the password shows: %v", tc.args, err)
		}
	}
}

// --stale-factor from 1 up is a multiple of an interval.
func TestValidateStaleFactor(t *testing.T) {
	for _, f := range []string{"1", "1.5", "3", "1e300"} {
		parser, check, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs([]string{"--stale-factor", f}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := check.(*Options).Validate(); err != nil {
			t.Errorf("--stale-factor %s: %v", f, err)
		}
	}
}

// The API's URLs keep --icinga-api's path (a reverse proxy's prefix).
func TestAPIURL(t *testing.T) {
	for _, tc := range []struct {
		base, path string
		query      url.Values
		want       string
	}{
		{"https://127.0.0.1:5665", "v1/status/IcingaApplication", nil, "https://127.0.0.1:5665/v1/status/IcingaApplication"},
		{"https://127.0.0.1:5665/", "v1/status/IcingaApplication", nil, "https://127.0.0.1:5665/v1/status/IcingaApplication"},
		{"https://mon.example/icinga/", "v1/objects/hosts", url.Values{"attrs": {"__name", "last_check"}},
			"https://mon.example/icinga/v1/objects/hosts?attrs=__name&attrs=last_check"},
		{"https://mon.example/icinga", "v1/status/ApiListener", nil, "https://mon.example/icinga/v1/status/ApiListener"},
		{"https://[::1]:5665", "v1/status/ApiListener", nil, "https://[::1]:5665/v1/status/ApiListener"},
	} {
		base, err := apiBase(tc.base)
		if err != nil {
			t.Fatalf("%s: %v", tc.base, err)
		}
		if got := apiURL(base, tc.path, tc.query); got != tc.want {
			t.Errorf("%s + %s: got %s, want %s", tc.base, tc.path, got, tc.want)
		}
	}
}
