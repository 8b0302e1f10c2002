package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/testutil"
)

// monitoringObjects are what TestMonitoringNagios adds to nagiosObjects:
// a service whose exit code is a file's content, and a contact whose
// notification command always fails.
const monitoringObjects = `define contact {
	contact_name                  ops
	host_notifications_enabled    1
	service_notifications_enabled 1
	host_notification_period      24x7
	service_notification_period   24x7
	host_notification_options     d,u,r
	service_notification_options  w,u,c,r
	host_notification_commands    notify-broken
	service_notification_commands notify-broken
}
define command {
	command_name notify-broken
	command_line /bin/false
}
define command {
	command_name lab_file
	command_line /bin/sh %[1]s/check.sh
}
define service {
	host_name             localhost
	service_description   watched
	check_command         lab_file
	max_check_attempts    1
	check_interval        5
	retry_interval        5
	check_period          24x7
	contacts              ops
	notification_interval 0
	notification_period   24x7
	notification_options  w,u,c,r
}
define service {
	host_name             localhost
	service_description   steady
	check_command         lab_noop
	max_check_attempts    1
	check_interval        5
	retry_interval        5
	check_period          24x7
	contacts              lab
	notification_interval 0
	notification_period   24x7
}
`

// TestMonitoringNagios: check_monitoring against a real Nagios 4 (issue
// 15), in the order a bad day takes: running normally, a notification
// command that fails, notifications disabled through the command file,
// the daemon stopped (SIGSTOP) until status.dat is stale, then killed
// (SIGKILL, as the OOM killer does).
func TestMonitoringNagios(t *testing.T) {
	lab := newLab(t, "nagios4")
	bin := filepath.Join(lab.Plugins, "hindsight", "check_monitoring")
	must(t, copyFile(testutil.Binary(t, "check_monitoring"), bin, 0o755))
	dir := nagiosDir(t, lab, "monitoring")
	writeFile(t, filepath.Join(dir, "check.sh"), "exit $(cat "+dir+"/exit)\n")
	writeFile(t, filepath.Join(dir, "exit"), "0\n")
	mainCfg := writeNagios(t, lab, dir, nagiosConf{
		Edits:   map[string]string{"enable_notifications=0\n": "enable_notifications=1\nlog_notifications=1\n"},
		Objects: fmt.Sprintf(monitoringObjects, dir),
	})
	startDaemon(t, lab, "nagios4-monitoring", "nagios4", mainCfg)

	statusPath := filepath.Join(dir, "status.dat")
	waitFor(t, "Nagios checking both services", 60*time.Second, func() bool {
		st := readStatus(statusPath)
		return st["watched"]["has_been_checked"] == "1" && st["steady"]["has_been_checked"] == "1"
	})
	stateFile := filepath.Join(dir, "check_monitoring.state")
	run := func(want int, wantText ...string) string {
		t.Helper()
		return expectMonitoring(t, lab.direct(t, bin, "--nagios-config", mainCfg, "--state-file", stateFile, "-t", "10"), want, wantText...)
	}

	t.Log("running normally: " + firstLine(run(0, "MONITORING OK - nagios4", "3 active checks on time")))

	// The watched service goes CRITICAL; its contact's notification
	// command exits 1, which Nagios' worker logs.
	writeFile(t, filepath.Join(dir, "exit"), "2\n")
	logPath := filepath.Join(dir, "nagios.log")
	waitFor(t, "Nagios logging the failed notification", 60*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "wproc: NOTIFY job")
	})
	t.Log("failing notification: " + firstLine(run(1, "MONITORING WARNING - 1 notification command failed: notify-broken",
		"failed notification: notify-broken exited with return code 1")))
	// The failure is news once: the next run starts where this one read.
	run(0, "none failed")

	externalCommand(t, filepath.Join(dir, "rw", "nagios.cmd"), "DISABLE_NOTIFICATIONS")
	waitFor(t, "Nagios disabling notifications", 30*time.Second, func() bool {
		b, _ := os.ReadFile(statusPath)
		return strings.Contains(string(b), "\tenable_notifications=0\n")
	})
	t.Log("notifications disabled: " + firstLine(run(2, "notifications are disabled globally")))

	pid := nagiosPID(t, statusPath)
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	run(2, "is stopped")
	// status_update_interval=1 and --stale-factor 3: stale after 8 s.
	time.Sleep(9 * time.Second)
	t.Log("stopped: " + firstLine(run(2, "is stopped", "the engine is dead or hung")))
	must(t, syscall.Kill(pid, syscall.SIGCONT))

	must(t, syscall.Kill(pid, syscall.SIGKILL))
	waitFor(t, "nagios4 gone", 10*time.Second, func() bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		return err != nil
	})
	t.Log("killed: " + firstLine(run(2, "is not running: no process "+strconv.Itoa(pid))))
}

// expectMonitoring reports a check_monitoring run that did not exit want
// or whose output lacks one of wantText; it returns the output.
func expectMonitoring(t *testing.T, d Direct, want int, wantText ...string) string {
	t.Helper()
	if d.Code != want {
		t.Errorf("check_monitoring exited %d, want %d:\n%s", d.Code, want, d.Stdout)
	}
	for _, w := range wantText {
		if !strings.Contains(d.Stdout, w) {
			t.Errorf("check_monitoring output lacks %q:\n%s", w, d.Stdout)
		}
	}
	return d.Stdout
}

// externalCommand writes one command to Nagios' command FIFO, without
// blocking when nothing reads it.
func externalCommand(t *testing.T, fifo, command string) {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	must(t, err)
	defer f.Close()
	_, err = fmt.Fprintf(f, "[%d] %s\n", time.Now().Unix(), command)
	must(t, err)
}

// nagiosPID is the daemon's pid from status.dat.
func nagiosPID(t *testing.T, statusPath string) int {
	t.Helper()
	b, err := os.ReadFile(statusPath)
	must(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "nagios_pid="); ok {
			pid, err := strconv.Atoi(v)
			must(t, err)
			return pid
		}
	}
	t.Fatalf("%s: no nagios_pid", statusPath)
	return 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestMonitoringIcinga2: check_monitoring against a real Icinga 2
// through its API: OK; the API down is CRITICAL naming the URL; a
// service left to an agent that never connects (its checks never run)
// is CRITICAL naming it.
func TestMonitoringIcinga2(t *testing.T) {
	lab := newLab(t, "icinga2")
	bin := filepath.Join(lab.Plugins, "hindsight", "check_monitoring")
	must(t, copyFile(testutil.Binary(t, "check_monitoring"), bin, 0o755))
	pass := randomHex(t)
	node := newIcingaNode(t, lab, icingaSpec{Label: "icinga2-monitoring", Name: "localhost",
		APIUser: "monitor", APIPass: pass, Host: "localhost", Extra: `object Service "steady" {
	host_name = "localhost"
	check_command = "dummy"
	check_interval = 2s
	retry_interval = 2s
}
`})
	logPath := node.dir + "/log/icinga2.log"
	passFile := node.writeFile(t, "api.pass", pass+"\n")
	must(t, os.Chmod(passFile, 0o600))
	deadPort := freePort(t)
	// An agent that never connects, and a service only it would check.
	agent := fmt.Sprintf(`object Endpoint "agent1" {
	host = "127.0.0.1"
	port = %d
}
object Zone "agent1" {
	endpoints = [ "agent1" ]
	parent = ZoneName
}
object NotificationComponent "notification" {}
object User "ops" { enable_notifications = true }
object NotificationCommand "broken" { command = [ "/bin/false" ] }
object Service "failing" {
	host_name = "localhost"
	check_command = "dummy"
	vars.dummy_state = 2
	check_interval = 2s
	retry_interval = 2s
	max_check_attempts = 1
}
object Notification "page" {
	host_name = "localhost"
	service_name = "failing"
	command = "broken"
	users = [ "ops" ]
	interval = 0s
}
object Service "orphan" {
	host_name = "localhost"
	check_command = "dummy"
	check_interval = 2s
	retry_interval = 2s
	zone = "agent1"
}
`, deadPort)
	start := func(conf string) *Daemon {
		t.Helper()
		d := node.start(t, conf)
		api := node.api()
		api.waitUp(t, "the Icinga 2 API answering", 60*time.Second)
		waitFor(t, "Icinga 2 checking the steady service", 30*time.Second, func() bool {
			return api.results(t)["steady"].ExecutionStart > 0
		})
		return d
	}
	apiURL := fmt.Sprintf("https://localhost:%d", node.port)
	run := func(want int, wantText ...string) string {
		t.Helper()
		d := lab.direct(t, bin, "--icinga-api", apiURL, "--api-user", "monitor", "--api-password-file", passFile,
			"--api-ca", node.certs+"ca.crt", "--icinga-log", logPath, "--no-state-file", "-t", "10")
		expectMonitoring(t, d, want, wantText...)
		if strings.Contains(d.Stdout, pass) {
			t.Errorf("the output shows the API password:\n%s", d.Stdout)
		}
		return d.Stdout
	}

	daemon := start(node.base)
	t.Log("running: " + firstLine(run(0, "MONITORING OK - icinga2", "answers at "+apiURL, "none failed")))
	daemon.stop(t)
	t.Log("API down: " + firstLine(run(2, "MONITORING CRITICAL - Icinga 2 API "+apiURL)))

	start(node.base + agent)
	// check_interval 2s, --stale-factor 3, 5 s of slack: late after 11 s.
	time.Sleep(12 * time.Second)
	waitFor(t, "Icinga 2 logging the failed notification command", 30*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "Notification command for object 'localhost!failing'")
	})
	t.Log("agent gone, notification failing: " + firstLine(run(2, "localhost!orphan never checked", "endpoint not connected: agent1 (1 zone cut off: agent1)",
		"1 notification command failed: broken", "failed notification: broken exited with return code 1")))
}
