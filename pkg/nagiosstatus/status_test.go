package nagiosstatus

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// sample is a status.dat as Nagios 4.4 writes it, cut to a few fields
// per block plus ones the parser skips.
const sample = `########################################
#          NAGIOS STATUS FILE
########################################
info {
	created=1700000100
	version=4.4.6
	last_update_check=0
}

programstatus {
	modified_host_attributes=0
	nagios_pid=4242
	program_start=1700000000
	enable_notifications=1
	active_service_checks_enabled=1
	active_host_checks_enabled=0
	global_host_event_handler=
	}

hoststatus {
	host_name=localhost
	check_interval=5.000000
	has_been_checked=1
	should_be_scheduled=1
	last_check=1700000090
	active_checks_enabled=1
	current_state=0
	state_type=1
	plugin_output=PING OK - a=b {not a block}
	}

servicestatus {
	host_name=localhost
	service_description=Disk / root
	check_interval=1.000000
	has_been_checked=1
	should_be_scheduled=1
	last_check=1700000050
	active_checks_enabled=1
	current_state=2
	state_type=1
	last_hard_state_change=1700000010
	last_notification=0
	notifications_enabled=1
	problem_has_been_acknowledged=0
	scheduled_downtime_depth=0
	long_plugin_output=line one\nline two
	}

contactstatus {
	contact_name=lab
	}
`

func TestParse(t *testing.T) {
	st, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	wantProg := Program{Created: 1700000100, Version: "4.4.6", PID: 4242, Start: 1700000000, Notifications: true, ActiveService: true}
	if st.Program != wantProg {
		t.Errorf("program:\n got %+v\nwant %+v", st.Program, wantProg)
	}
	wantHosts := []Object{{Host: "localhost", Interval: 5, LastCheck: 1700000090, Checked: true, Active: true, Scheduled: true, Hard: true}}
	if !reflect.DeepEqual(st.Hosts, wantHosts) {
		t.Errorf("hosts:\n got %+v\nwant %+v", st.Hosts, wantHosts)
	}
	wantSvc := []Object{{Host: "localhost", Service: "Disk / root", Interval: 1, LastCheck: 1700000050, Checked: true, Active: true,
		Scheduled: true, State: 2, Hard: true, LastHardChange: 1700000010, Notify: true}}
	if !reflect.DeepEqual(st.Services, wantSvc) {
		t.Errorf("services:\n got %+v\nwant %+v", st.Services, wantSvc)
	}
	if !st.Services[0].Problem() || st.Hosts[0].Problem() {
		t.Errorf("Problem: service %v (want true), host %v (want false)", st.Services[0].Problem(), st.Hosts[0].Problem())
	}
	if got := st.Services[0].Name(); got != "localhost/Disk / root" {
		t.Errorf("Name = %q", got)
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "no info and programstatus"},
		{"garbage", "\x00\x01binary garbage\n", "line 1"},
		{"html", "<html><body>502</body></html>\n", "line 1"},
		{"truncated", sample[:strings.Index(sample, "\tcurrent_state=2")], "cut short"},
		{"truncated mid-line", sample[:strings.Index(sample, "servicestatus {")+40], "line 34"},
		{"no programstatus", "info {\n\tcreated=1\n\t}\n", "no info and programstatus"},
		{"bad line in block", "info {\n\tcreated 1\n\t}\n", "line 2"},
		{"object cache", "define host {\n\thost_name\tx\n\t}\n", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.data))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       Config
		bad        bool
	}{
		{"debian", "# comment\nlog_file=/var/log/nagios4/nagios.log\nstatus_file=/var/lib/nagios4/status.dat\n" +
			"status_update_interval=10\ninterval_length=60\nlock_file=/run/nagios4/nagios4.pid\nenable_notifications=1\n" +
			"command_file=/var/lib/nagios4/rw/nagios.cmd\ncfg_dir=/etc/nagios4/conf.d\n",
			Config{StatusFile: "/var/lib/nagios4/status.dat", LockFile: "/run/nagios4/nagios4.pid", LogFile: "/var/log/nagios4/nagios.log",
				CommandFile: "/var/lib/nagios4/rw/nagios.cmd", StatusUpdateInterval: 10, IntervalLength: 60, Notifications: true}, false},
		{"defaults", "; only a comment\n", Config{StatusUpdateInterval: 60, IntervalLength: 60, Notifications: true}, false},
		{"bad numbers keep defaults", "status_update_interval=0\ninterval_length=x\nenable_notifications=0\n",
			Config{StatusUpdateInterval: 60, IntervalLength: 60}, false},
		{"garbage", "\x7fELF\x02\x01", Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.data))
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseLog(t *testing.T) {
	log := `[1700000000] Nagios 4.4.6 starting... (PID=4242)
[1700000010] SERVICE NOTIFICATION: ops;web1;HTTP;CRITICAL;notify-by-email;HTTP CRITICAL - 503
[1700000010] wproc: NOTIFY job 7 from worker Core Worker 4250 is a non-check helper but exited with return code 1
[1700000010] wproc:   host=web1; service=HTTP; contact=ops
[1700000020] HOST NOTIFICATION: ops;db1;DOWN;notify-host-by-sms;PING CRITICAL
[1700000021] wproc: NOTIFY job 8 from worker Core Worker 4250 timed out after 30.00s
[1700000021] wproc:   host=db1; service=(none); contact=ops
[1700000030] SERVICE NOTIFICATION: ops;web2;HTTP;OK;notify-by-email;HTTP OK
not a log line
[1700000040] wproc: NOTIFY job 9 from worker Core Worker 4250 died by signal 9 after 0.01 seconds
[1700000040] wproc:   host=nowhere; service=x; contact=nobody
`
	tests := []struct {
		name  string
		since int64
		want  Log
	}{
		{"all", 0, Log{Sent: 3, LastSent: 1700000030, Newest: 1700000040, Failures: []Failure{
			{Time: 1700000010, Command: "notify-by-email", Contact: "ops", Host: "web1", Service: "HTTP", Reason: "exited with return code 1"},
			{Time: 1700000021, Command: "notify-host-by-sms", Contact: "ops", Host: "db1", Reason: "timed out after 30.00s"},
			{Time: 1700000040, Contact: "nobody", Host: "nowhere", Service: "x", Reason: "died by signal 9 after 0.01 seconds"},
		}}},
		// A failure after since is named by a notification before it.
		{"since", 1700000020, Log{Sent: 1, LastSent: 1700000030, Newest: 1700000040, Failures: []Failure{
			{Time: 1700000021, Command: "notify-host-by-sms", Contact: "ops", Host: "db1", Reason: "timed out after 30.00s"},
			{Time: 1700000040, Contact: "nobody", Host: "nowhere", Service: "x", Reason: "died by signal 9 after 0.01 seconds"},
		}}},
		{"nothing new", 1700000040, Log{Newest: 1700000040}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseLog([]byte(log), tc.since)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// FuzzParse: no input makes a parser panic, and what Parse accepts has
// its engine's blocks.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("info {\n}\nprogramstatus {\n}\n"))
	f.Add([]byte("[1] SERVICE NOTIFICATION: a;b;c;d;e;f\n[2] wproc: NOTIFY job 1 x\n[2] wproc:   host=a\n"))
	f.Add([]byte("status_file=/x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Parse(bytes.NewReader(data)); err == nil && !strings.Contains(string(data), "programstatus") {
			t.Errorf("accepted a status file without programstatus: %q", data)
		}
		ParseConfig(data)
		ParseLog(data, 0)
	})
}
