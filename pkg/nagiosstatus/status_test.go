package nagiosstatus

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"strconv"
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
	st, err := Parse(strings.NewReader(sample), int64(len(sample)))
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

// check_interval is taken as written, a value that is no number as NaN:
// the caller judges what is an interval.
func TestParseInterval(t *testing.T) {
	head := "info {\n\tcreated=1\n\t}\nprogramstatus {\n\tnagios_pid=1\n\t}\nservicestatus {\n\thost_name=h\n\tcheck_interval="
	for _, tc := range []struct {
		value string
		want  float64
	}{
		{"5.000000", 5}, {"0", 0}, {"inf", math.Inf(1)}, {"-Inf", math.Inf(-1)}, {"1e300", 1e300}, {"-5", -5},
		{"1e400", math.Inf(1)}, {"nan", math.NaN()}, {"abc", math.NaN()}, {"", math.NaN()},
	} {
		st, err := Parse(strings.NewReader(head+tc.value+"\n\t}\n"), 0)
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		got := st.Services[0].Interval
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("check_interval=%s: got %v, want %v", tc.value, got, tc.want)
		}
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
			_, err := Parse(strings.NewReader(tc.data), 0)
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
	at40 := Cursor{Time: 1700000040, Seen: hashes("[1700000040] wproc: NOTIFY job 9 from worker Core Worker 4250 died by signal 9 after 0.01 seconds\n" +
		"[1700000040] wproc:   host=nowhere; service=x; contact=nobody")}
	tests := []struct {
		name  string
		since Cursor
		want  Log
	}{
		{"all", Cursor{}, Log{Sent: 3, LastSent: 1700000030, First: 1700000000, Next: at40, Failures: []Failure{
			{Time: 1700000010, Command: "notify-by-email", Contact: "ops", Host: "web1", Service: "HTTP", Reason: "exited with return code 1"},
			{Time: 1700000021, Command: "notify-host-by-sms", Contact: "ops", Host: "db1", Reason: "timed out after 30.00s"},
			{Time: 1700000040, Contact: "nobody", Host: "nowhere", Service: "x", Reason: "died by signal 9 after 0.01 seconds"},
		}}},
		// A failure after since is named by a notification before it.
		{"since", Cursor{Time: 1700000020, Seen: hashes("[1700000020] HOST NOTIFICATION: ops;db1;DOWN;notify-host-by-sms;PING CRITICAL")},
			Log{Sent: 1, LastSent: 1700000030, First: 1700000000, Next: at40, Failures: []Failure{
				{Time: 1700000021, Command: "notify-host-by-sms", Contact: "ops", Host: "db1", Reason: "timed out after 30.00s"},
				{Time: 1700000040, Contact: "nobody", Host: "nowhere", Service: "x", Reason: "died by signal 9 after 0.01 seconds"},
			}}},
		// A line of since's second that the last read did not count is
		// news: it was logged after that read.
		{"since's second, not seen", Cursor{Time: 1700000020}, Log{Sent: 2, LastSent: 1700000030, First: 1700000000, Next: at40, Failures: []Failure{
			{Time: 1700000021, Command: "notify-host-by-sms", Contact: "ops", Host: "db1", Reason: "timed out after 30.00s"},
			{Time: 1700000040, Contact: "nobody", Host: "nowhere", Service: "x", Reason: "died by signal 9 after 0.01 seconds"},
		}}},
		{"nothing new", at40, Log{First: 1700000000, Next: at40}},
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

// hashes is what a Cursor keeps of lines.
func hashes(lines ...string) []uint64 {
	var out []uint64
	for _, l := range lines {
		h := fnv.New64a()
		h.Write([]byte(l))
		out = append(out, h.Sum64())
	}
	return out
}

// sameSecond is a notification that failed, all in one second: the
// tester's case of a second one logged in the second the first read
// ended on.
func sameSecond(command, job string) string {
	return "[1700000050] SERVICE NOTIFICATION: ops;web1;HTTP;CRITICAL;" + command + ";x\n" +
		"[1700000050] wproc: NOTIFY job " + job + " from worker Core Worker 1 is a non-check helper but exited with return code 1\n" +
		"[1700000050] wproc:   host=web1; service=HTTP; contact=ops\n"
}

// Reads one after the other of a growing (or rotated) log: each line is
// counted once, whichever second the reads end on.
func TestParseLogReads(t *testing.T) {
	// The tester's case: the same lines but the command, job 1 both.
	a, b := sameSecond("notify-A", "1"), sameSecond("notify-B", "1")
	c := sameSecond("notify-C", "2")
	tests := []struct {
		name  string
		reads []string   // the log at each read
		want  [][]string // the failed commands each read counts
		sent  []int
	}{
		{"appended in the same second", []string{a, a + b, a + b}, [][]string{{"notify-A"}, {"notify-B"}, nil}, []int{1, 1, 0}},
		{"the same lines again in the same second", []string{a, a + a, a + a + a}, [][]string{{"notify-A"}, {"notify-A"}, {"notify-A"}}, []int{1, 1, 1}},
		// The first read ends between the failure and its object line.
		{"object line later", []string{strings.TrimSuffix(a, "[1700000050] wproc:   host=web1; service=HTTP; contact=ops\n"), a},
			[][]string{nil, {"notify-A"}}, []int{1, 0}},
		// A line still being written is read whole by the next read.
		{"line half written", []string{a[:len(a)-10], a}, [][]string{nil, {"notify-A"}}, []int{1, 0}},
		{"notification half written", []string{a[:30], a}, [][]string{nil, {"notify-A"}}, []int{0, 1}},
		// The new file's lines of the same second are news: another job.
		{"rotated in the same second", []string{a, "[1700000050] LOG ROTATION: HOURLY\n" + c}, [][]string{{"notify-A"}, {"notify-C"}}, []int{1, 1}},
		{"later second", []string{a, a + strings.ReplaceAll(b, "1700000050", "1700000051")}, [][]string{{"notify-A"}, {"notify-B"}}, []int{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var since Cursor
			for i, data := range tc.reads {
				l := ParseLog([]byte(data), since)
				var got []string
				for _, f := range l.Failures {
					got = append(got, f.Command)
				}
				if !reflect.DeepEqual(got, tc.want[i]) || l.Sent != tc.sent[i] {
					t.Errorf("read %d: failed %q, %d sent; want %q, %d", i+1, got, l.Sent, tc.want[i], tc.sent[i])
				}
				since = l.Next
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
		if _, err := Parse(bytes.NewReader(data), int64(len(data))); err == nil && !strings.Contains(string(data), "programstatus") {
			t.Errorf("accepted a status file without programstatus: %q", data)
		}
		ParseConfig(data)
		ParseLog(data, Cursor{})
	})
}

// bigStatus is a status.dat of n services on n/10 hosts, every block as
// long as Nagios 4.4 writes it (as the bench row's fixture).
func bigStatus(n int) []byte {
	var b bytes.Buffer
	b.WriteString("info {\n\tcreated=1700000100\n\tversion=4.4.6\n\t}\n\nprogramstatus {\n\tnagios_pid=4242\n\tprogram_start=1700000000\n\tenable_notifications=1\n\t}\n\n")
	block := func(kind, host, service string) {
		fmt.Fprintf(&b, "%s {\n\thost_name=%s\n", kind, host)
		if service != "" {
			fmt.Fprintf(&b, "\tservice_description=%s\n", service)
		}
		b.WriteString("\tmodified_attributes=0\n\tcheck_command=check_dummy!0!all is well\n\tcheck_period=24x7\n\tnotification_period=24x7\n" +
			"\tcheck_interval=5.000000\n\tretry_interval=1.000000\n\tevent_handler=\n\thas_been_checked=1\n\tshould_be_scheduled=1\n" +
			"\tcheck_execution_time=0.004\n\tcheck_latency=0.012\n\tcheck_type=0\n\tcurrent_state=0\n\tlast_hard_state=0\n\tlast_event_id=0\n" +
			"\tcurrent_event_id=0\n\tcurrent_problem_id=0\n\tlast_problem_id=0\n\tcurrent_attempt=1\n\tmax_attempts=3\n\tstate_type=1\n" +
			"\tlast_state_change=1700000040\n\tlast_hard_state_change=1700000040\n\tlast_time_ok=1700000040\n\tlast_time_warning=0\n\tlast_time_unknown=0\n" +
			"\tlast_time_critical=0\n\tplugin_output=OK - all is well, this line is as long as a real plugin's first line\n" +
			"\tlong_plugin_output=\n\tperformance_data=time=0.004s;1.000;2.000;0.000 size=1234B;;;0\n\tlast_check=1700000040\n\tnext_check=1700000340\n" +
			"\tcheck_options=0\n\tcurrent_notification_number=0\n\tcurrent_notification_id=0\n\tlast_notification=0\n\tnext_notification=0\n" +
			"\tno_more_notifications=0\n\tnotifications_enabled=1\n\tactive_checks_enabled=1\n\tpassive_checks_enabled=1\n" +
			"\tevent_handler_enabled=1\n\tproblem_has_been_acknowledged=0\n\tacknowledgement_type=0\n\tflap_detection_enabled=1\n" +
			"\tprocess_performance_data=1\n\tobsess=0\n\tlast_update=1700000100\n\tis_flapping=0\n\tpercent_state_change=0.00\n" +
			"\tscheduled_downtime_depth=0\n\t}\n\n")
	}
	for h := 0; h < (n+9)/10; h++ {
		block("hoststatus", "host"+strconv.Itoa(h), "")
	}
	for i := 0; i < n; i++ {
		block("servicestatus", "host"+strconv.Itoa(i/10), "service "+strconv.Itoa(i))
	}
	return b.Bytes()
}

// BenchmarkParse10k is the parse of the 10,000-service bench row.
func BenchmarkParse10k(b *testing.B) {
	data := bigStatus(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil || len(st.Services) != 10000 {
			b.Fatal(len(st.Services), err)
		}
	}
}

// nagios_pid is a pid or nothing: an absurd one is kept as text (BadPID)
// for the message, never cut or wrapped into another number.
func TestParsePID(t *testing.T) {
	for _, tc := range []struct {
		value string
		pid   int
		bad   string
	}{
		{"4242", 4242, ""},
		{"2147483647", 2147483647, ""},
		{"2147483648", 0, `"2147483648"`},
		{"99999999999999999999999", 0, `"99999999999999999999999"`},
		{"-5", 0, `"-5"`},
		{"0", 0, `"0"`},
		{"1e300", 0, `"1e300"`},
		{"", 0, `""`},
		{"12abc", 0, `"12abc"`},
	} {
		st, err := Parse(strings.NewReader("info {\n\tcreated=1\n\t}\nprogramstatus {\n\tnagios_pid="+tc.value+"\n\t}\n"), 0)
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		if p := st.Program; p.PID != tc.pid || p.BadPID != tc.bad {
			t.Errorf("nagios_pid=%s: got %d, %q; want %d, %q", tc.value, p.PID, p.BadPID, tc.pid, tc.bad)
		}
	}
	// No nagios_pid at all is no pid, and nothing bad.
	st, err := Parse(strings.NewReader("info {\n\tcreated=1\n\t}\nprogramstatus {\n\tprogram_start=1\n\t}\n"), 0)
	if err != nil || st.Program.PID != 0 || st.Program.BadPID != "" {
		t.Errorf("no nagios_pid: %+v, %v", st.Program, err)
	}
}

func TestParseLock(t *testing.T) {
	for _, tc := range []struct {
		data string
		pid  int
	}{
		{"4242\n", 4242},
		{" 17 \r\n", 17},
		{"", 0},
		{"0\n", 0},
		{"-3\n", 0},
		{"4242\n4243\n", 0},
		{"nagios\n", 0},
		{"2147483647\n", 2147483647},
		{"2147483648\n", 0},
		{"99999999999999999999999\n", 0},
	} {
		pid, err := ParseLock([]byte(tc.data))
		if pid != tc.pid || (err == nil) != (tc.pid > 0) {
			t.Errorf("%q: %d, %v; want %d", tc.data, pid, err, tc.pid)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v is not ErrMalformed", tc.data, err)
		}
	}
}

// A size hint is a hint: a wrong one, tiny or absurd, parses the same.
func TestParseSizeHint(t *testing.T) {
	want, err := Parse(strings.NewReader(sample), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{-1, 1, 1 << 40, 1 << 62} {
		got, err := Parse(strings.NewReader(sample), size)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("size %d: %+v, %v", size, got, err)
		}
	}
}
