package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func init() {
	register(Entry{
		Plugin: "check_monitoring",
		// Debian's nagios4 files when there are some: on a machine
		// without a running Nagios the first rows say so (CRITICAL).
		Demo: [][]string{
			{"-v", "--no-state-file"},
			{"--nagios-config", "/etc/nagios4/nagios.cfg", "--no-state-file"},
		},
		Bench: []Row{
			{
				// check_nagios reads the status file's age and counts the
				// engine's processes; ours reads every block besides.
				Name:     "check_monitoring vs check_nagios (100 services)",
				Ours:     []string{"{bin}/check_monitoring", "--nagios-status", "{status100}", "--no-state-file"},
				Peer:     []string{"/usr/lib/nagios/plugins/check_nagios", "-F", "{status100}", "-e", "5", "-C", "hindsight-dev"},
				Setup:    statusFixture("status100", 100),
				MaxRatio: 1,
			},
			{
				Name:    "check_monitoring on a status.dat of 10,000 services",
				Ours:    []string{"{bin}/check_monitoring", "--nagios-status", "{status10k}", "--no-state-file"},
				Setup:   statusFixture("status10k", 10000),
				MaxWall: 100 * time.Millisecond,
				MaxRSS:  32 << 10,
			},
		},
	})
}

// statusFixture writes a Nagios 4.4 status.dat of n services on n/10
// hosts, every block as long as Nagios writes it, all checked on time.
// Its engine is this process, which lives as long as the rows.
func statusFixture(name string, n int) func(l *Lab) error {
	return func(l *Lab) error {
		path := filepath.Join(l.Dir, name+".dat")
		l.Vars[name] = path
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		now := time.Now().Unix()
		fmt.Fprintf(w, "########################################\n#          NAGIOS STATUS FILE\n########################################\n\n")
		fmt.Fprintf(w, "info {\n\tcreated=%d\n\tversion=4.4.6\n\tlast_update_check=0\n\tupdate_available=0\n\t}\n\n", now)
		fmt.Fprintf(w, "programstatus {\n\tmodified_host_attributes=0\n\tmodified_service_attributes=0\n\tnagios_pid=%d\n\tdaemon_mode=1\n"+
			"\tprogram_start=%d\n\tlast_log_rotation=0\n\tenable_notifications=1\n\tactive_service_checks_enabled=1\n"+
			"\tpassive_service_checks_enabled=1\n\tactive_host_checks_enabled=1\n\tpassive_host_checks_enabled=1\n\tenable_event_handlers=1\n"+
			"\tobsess_over_services=0\n\tobsess_over_hosts=0\n\tcheck_service_freshness=1\n\tcheck_host_freshness=0\n\tenable_flap_detection=1\n"+
			"\tprocess_performance_data=0\n\tglobal_host_event_handler=\n\tglobal_service_event_handler=\n\tnext_comment_id=1\n\t}\n\n", os.Getpid(), now)
		for h := 0; h < (n+9)/10; h++ {
			writeObject(w, "hoststatus", "host"+strconv.Itoa(h), "", now)
		}
		for i := 0; i < n; i++ {
			writeObject(w, "servicestatus", "host"+strconv.Itoa(i/10), "service "+strconv.Itoa(i), now)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}

// writeObject writes one block with the fields Nagios 4.4 writes.
func writeObject(w *bufio.Writer, kind, host, service string, now int64) {
	fmt.Fprintf(w, "%s {\n\thost_name=%s\n", kind, host)
	if service != "" {
		fmt.Fprintf(w, "\tservice_description=%s\n", service)
	}
	fmt.Fprintf(w, "\tmodified_attributes=0\n\tcheck_command=check_dummy!0!all is well\n\tcheck_period=24x7\n\tnotification_period=24x7\n"+
		"\tcheck_interval=5.000000\n\tretry_interval=1.000000\n\tevent_handler=\n\thas_been_checked=1\n\tshould_be_scheduled=1\n"+
		"\tcheck_execution_time=0.004\n\tcheck_latency=0.012\n\tcheck_type=0\n\tcurrent_state=0\n\tlast_hard_state=0\n\tlast_event_id=0\n"+
		"\tcurrent_event_id=0\n\tcurrent_problem_id=0\n\tlast_problem_id=0\n\tcurrent_attempt=1\n\tmax_attempts=3\n\tstate_type=1\n"+
		"\tlast_state_change=%[1]d\n\tlast_hard_state_change=%[1]d\n\tlast_time_ok=%[1]d\n\tlast_time_warning=0\n\tlast_time_unknown=0\n"+
		"\tlast_time_critical=0\n\tplugin_output=OK - all is well, this line is as long as a real plugin's first line\n"+
		"\tlong_plugin_output=\n\tperformance_data=time=0.004s;1.000;2.000;0.000 size=1234B;;;0\n\tlast_check=%[1]d\n\tnext_check=%[2]d\n"+
		"\tcheck_options=0\n\tcurrent_notification_number=0\n\tcurrent_notification_id=0\n\tlast_notification=0\n\tnext_notification=0\n"+
		"\tno_more_notifications=0\n\tnotifications_enabled=1\n\tactive_checks_enabled=1\n\tpassive_checks_enabled=1\n"+
		"\tevent_handler_enabled=1\n\tproblem_has_been_acknowledged=0\n\tacknowledgement_type=0\n\tflap_detection_enabled=1\n"+
		"\tprocess_performance_data=1\n\tobsess=0\n\tlast_update=%[1]d\n\tis_flapping=0\n\tpercent_state_change=0.00\n"+
		"\tscheduled_downtime_depth=0\n\t}\n\n", now-60, now+240)
}
