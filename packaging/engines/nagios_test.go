package engines

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nagiosMain is nagios.cfg as in nagios-lab.md §3: interval_length=1 and
// no spread, so every service is checked within about a second of start.
const nagiosMain = `log_file=%[1]s/nagios.log
resource_file=%[1]s/resource.cfg
object_cache_file=%[1]s/objects.cache
precached_object_file=%[1]s/objects.precache
status_file=%[1]s/status.dat
status_update_interval=1
nagios_user=nagios
nagios_group=nagios
check_external_commands=1
command_file=%[1]s/rw/nagios.cmd
query_socket=%[1]s/rw/nagios.qh
lock_file=%[1]s/nagios.pid
temp_file=%[1]s/nagios.tmp
temp_path=%[1]s/tmp
check_result_path=%[1]s/spool
event_broker_options=0
use_syslog=0
log_initial_states=1
interval_length=1
service_inter_check_delay_method=n
service_interleave_factor=1
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
check_result_reaper_frequency=1
max_check_result_reaper_time=1
retain_state_information=0
use_retained_program_state=0
use_retained_scheduling_info=0
check_for_updates=0
bare_update_check=0
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
check_service_freshness=0
check_host_freshness=0
check_for_orphaned_services=0
check_for_orphaned_hosts=0
service_check_timeout=30
service_check_timeout_state=u
host_check_timeout=10
process_performance_data=0
illegal_object_name_chars=` + "`" + `~!$%%^&*|'"<>?,()=
illegal_macro_output_chars=` + "`" + `~$&|'"<>
enable_environment_macros=0
debug_level=0
daemon_dumps_core=0
`

const nagiosObjects = `define timeperiod {
	timeperiod_name 24x7
	alias           always
	sunday    00:00-24:00
	monday    00:00-24:00
	tuesday   00:00-24:00
	wednesday 00:00-24:00
	thursday  00:00-24:00
	friday    00:00-24:00
	saturday  00:00-24:00
}
define contact {
	contact_name                  lab
	host_notifications_enabled    0
	service_notifications_enabled 0
	host_notification_period      24x7
	service_notification_period   24x7
	host_notification_options     n
	service_notification_options  n
	host_notification_commands    lab_noop
	service_notification_commands lab_noop
}
define command {
	command_name lab_noop
	command_line /bin/true
}
define host {
	host_name             localhost
	address               127.0.0.1
	check_command         lab_noop
	max_check_attempts    1
	check_interval        3600
	check_period          24x7
	contacts              lab
	notification_interval 0
	notification_period   24x7
}
`

// nagiosArg escapes a command line for a check_command argument: "$" is a
// macro, ";" a comment, "!" separates arguments.
func nagiosArg(t *testing.T, s string) string {
	if strings.Contains(s, "!") {
		t.Fatalf("a Nagios check_command argument cannot contain '!': %s", s)
	}
	return strings.NewReplacer("$", "$$", ";", `\;`).Replace(s)
}

// nagiosConf is what differs between the Nagios 4 cores the tests start.
type nagiosConf struct {
	Edits   map[string]string // nagiosMain's lines replaced; each must be there
	Plugins []string          // whose shipped command definitions are loaded (repeats are fine)
	Objects string            // objects.cfg after nagiosObjects
}

// nagiosDir makes a lab directory for a Nagios 4 core, with the
// directories nagiosMain names under it.
func nagiosDir(t *testing.T, lab *Lab, label string) string {
	t.Helper()
	dir := lab.Mkdir(t, label)
	for _, d := range []string{"rw", "spool", "tmp"} {
		lab.Mkdir(t, label, d)
	}
	return dir
}

// writeNagios writes nagios.cfg, objects.cfg and resource.cfg in dir and
// has nagios4 -v check them; it returns nagios.cfg's path.
func writeNagios(t *testing.T, lab *Lab, dir string, c nagiosConf) string {
	t.Helper()
	main := fmt.Sprintf(nagiosMain, dir)
	for old, repl := range c.Edits {
		if !strings.Contains(main, old) {
			t.Fatalf("nagiosMain has no %q to replace", old)
		}
		main = strings.Replace(main, old, repl, 1)
	}
	var cfg strings.Builder
	cfg.WriteString(main)
	fmt.Fprintf(&cfg, "cfg_file=%s/objects.cfg\n", dir)
	shipped := map[string]bool{}
	for _, plugin := range c.Plugins {
		if !shipped[plugin] {
			// The shipped file, as a user includes it.
			fmt.Fprintf(&cfg, "cfg_file=%s\n", shippedFile(t, "nagios", plugin+".cfg"))
			shipped[plugin] = true
		}
	}
	mainCfg := filepath.Join(dir, "nagios.cfg")
	writeFile(t, mainCfg, cfg.String())
	writeFile(t, filepath.Join(dir, "objects.cfg"), nagiosObjects+c.Objects)
	writeFile(t, filepath.Join(dir, "resource.cfg"), "$USER1$="+lab.Plugins+"\n")
	if out, err := exec.Command("nagios4", "-v", mainCfg).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v: %v\n%s", err, out)
	}
	return mainCfg
}

// nagiosService is a service of the lab's host running plugin through its
// shipped command definition every interval seconds; extra holds more
// directives.
func nagiosService(t *testing.T, name, plugin string, args []string, interval int, extra string) string {
	return fmt.Sprintf(`define service {
	host_name             localhost
	service_description   %s
	check_command         hindsight_%s!%s
	max_check_attempts    1
	check_interval        %d
	retry_interval        %d
	check_period          24x7
	contacts              lab
	notification_interval 0
	notification_period   24x7
%s}
`, name, strings.TrimPrefix(plugin, "check_"), nagiosArg(t, shellJoin(args)), interval, interval, extra)
}

// TestNagios: every case as a service of a real Nagios 4 using the
// shipped command definitions (packaging/nagios), compared field by field
// with what Nagios recorded in status.dat.
func TestNagios(t *testing.T) {
	lab := newLab(t, "nagios4")
	refs := lab.references(t)
	dir := nagiosDir(t, lab, "nagios")
	var objects strings.Builder
	for _, c := range cases {
		objects.WriteString(nagiosService(t, c.ID(), c.Plugin, lab.Args(c), 3600, ""))
	}
	mainCfg := writeNagios(t, lab, dir, nagiosConf{Plugins: casePlugins(), Objects: objects.String()})
	start := time.Now()
	startDaemon(t, lab, "nagios4", "nagios4", mainCfg)

	statusPath := filepath.Join(dir, "status.dat")
	var status map[string]map[string]string
	forced := false
	waitFor(t, "Nagios checking every service", 60*time.Second, func() bool {
		status = readStatus(statusPath)
		unchecked := 0
		for _, c := range cases {
			if s := status[c.ID()]; s == nil || s["has_been_checked"] != "1" {
				unchecked++
			}
		}
		if unchecked > 0 && !forced && time.Since(start) > 5*time.Second {
			forceChecks(t, filepath.Join(dir, "rw", "nagios.cmd"))
			forced = true
		}
		return unchecked == 0
	})
	for _, c := range cases {
		s := status[c.ID()]
		state, _ := strconv.Atoi(s["current_state"])
		compare(t, "nagios", c, refs[c.ID()], state, Parsed{
			Output: s["plugin_output"],
			Long:   unescapeNagios(s["long_plugin_output"]),
			Perf:   s["performance_data"],
		})
	}
}

// forceChecks asks Nagios to check every case now, through its command
// FIFO opened without blocking (a FIFO without reader would block).
func forceChecks(t *testing.T, fifo string) {
	f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Logf("cannot force checks: %v", err)
		return
	}
	defer f.Close()
	now := time.Now().Unix()
	for _, c := range cases {
		fmt.Fprintf(f, "[%d] SCHEDULE_FORCED_SVC_CHECK;localhost;%s;%d\n", now, c.ID(), now)
	}
}

// readStatus returns the servicestatus blocks of status.dat by service
// description. Values keep their own whitespace: only the leading tab
// goes.
func readStatus(path string) map[string]map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "servicestatus {":
			cur = map[string]string{}
		case line == "\t}" || line == "}":
			if cur != nil {
				out[cur["service_description"]] = cur
			}
			cur = nil
		case cur != nil:
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "\t"), "=")
			cur[k] = v
		}
	}
	return out
}

// unescapeNagios undoes status.dat's escaping of long output.
func unescapeNagios(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shippedFile is the absolute path of a generated file in packaging/.
func shippedFile(t *testing.T, dir, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", dir, name))
	must(t, err)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%v: run make generate", err)
	}
	return p
}
