package httpstatus

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rabbitBin is Debian's rabbitmq-server, run directly (the /usr/sbin
// wrapper switches to the rabbitmq user and its system directories).
const rabbitBin = "/usr/lib/rabbitmq/bin/"

// rabbit is a RabbitMQ node of the test's own: node name, ports, epmd,
// cookie, database and logs all under a temporary directory, on
// loopback, no systemd.
type rabbit struct {
	dir, user, pass string
	api             string // http://127.0.0.1:PORT of the management plugin
	env             []string
	epmdPort        int
}

func startRabbit(t *testing.T) *rabbit {
	t.Helper()
	if _, err := os.Stat(rabbitBin + "rabbitmq-server"); err != nil {
		t.Skip("skipping the RabbitMQ test: rabbitmq-server is not installed (apt-get install rabbitmq-server; CI installs it from .ci/apt-httpstatus.txt)")
	}
	dir := t.TempDir()
	r := &rabbit{dir: dir, user: "hindsight", pass: "rabbit-s3cret-" + strconv.Itoa(os.Getpid())}
	amqp, mgmt, dist := freePort(t), freePort(t), freePort(t)
	r.epmdPort = freePort(t)
	r.api = fmt.Sprintf("http://127.0.0.1:%d", mgmt)
	for _, d := range []string{"home", "mnesia", "log"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o700))
	}
	cookie := filepath.Join(dir, "home", ".erlang.cookie")
	must(t, os.WriteFile(cookie, []byte("HINDSIGHTTEST"+strconv.Itoa(os.Getpid())), 0o400))
	conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %d\ndefault_user = %s\ndefault_pass = %s\n", amqp, mgmt, r.user, r.pass)
	must(t, os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte(conf), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[rabbitmq_management].\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "rabbitmq-env.conf"), nil, 0o600))
	r.env = append(os.Environ(),
		"HOME="+filepath.Join(dir, "home"),
		"RABBITMQ_NODENAME=hindsight-"+strconv.Itoa(os.Getpid())+"@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqp),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(dist),
		"ERL_EPMD_PORT="+strconv.Itoa(r.epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "pid"),
	)
	out, err := os.Create(filepath.Join(dir, "server.out"))
	must(t, err)
	cmd := exec.Command(rabbitBin + "rabbitmq-server")
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = r.env, out, out, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	t.Cleanup(func() {
		r.ctl(t, 30*time.Second, "shutdown")
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what shutdown left of our group
		cmd.Wait()
		out.Close()
		// epmd daemonised out of our group: stop the one on our port.
		if epmd, err := exec.LookPath("epmd"); err == nil {
			k := exec.Command(epmd, "-port", strconv.Itoa(r.epmdPort), "-kill")
			k.Env = r.env
			k.Run()
		}
	})
	// Start-up takes 10 to 40 seconds on a loaded machine.
	deadline := time.Now().Add(120 * time.Second)
	for {
		if code, _ := r.get("/api/health/checks/alarms"); code == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "server.out"))
			t.Fatalf("RabbitMQ did not answer on %s within 120s:\n%s", r.api, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (r *rabbit) get(path string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, r.api+path, nil)
	req.SetBasicAuth(r.user, r.pass)
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// ctl runs rabbitmqctl against the node.
func (r *rabbit) ctl(t *testing.T, budget time.Duration, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, rabbitBin+"rabbitmqctl", args...)
	cmd.Env = r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Postmortem 002: a broker in trouble. Against a real RabbitMQ, the
// health checks are OK while it is well; with a memory alarm, CRITICAL
// with the broker's own reason on the first line, the password never
// shown.
func TestRabbitMQHealth(t *testing.T) {
	r := startRabbit(t)
	authFile := filepath.Join(t.TempDir(), "rabbit.auth")
	must(t, os.WriteFile(authFile, []byte(r.user+":"+r.pass+"\n"), 0o600))
	alarms := []string{"-u", r.api + "/api/health/checks/alarms", "--auth-file", authFile, "--jq", `.status == "ok"`}
	runMatrix(t, []matrixCase{
		{"alarms, none yet", alarms, 0, []string{`^HTTP OK - .*/api/health/checks/alarms 200 OK`}, []string{r.pass}},
		{"local alarms", []string{"-u", r.api + "/api/health/checks/local-alarms", "--auth-file", authFile, "--jq", `.status == "ok"`}, 0, nil, nil},
		{"aliveness", []string{"-u", r.api + "/api/aliveness-test/%2F", "--auth-file", authFile, "--jq", `.status == "ok"`}, 0, nil, nil},
		{"wrong password", []string{"-u", r.api + "/api/health/checks/alarms", "-a", r.user + ":wrong-pass-1"}, 2, []string{`401 Unauthorized`}, []string{"wrong-pass-1"}},
	})

	r.ctl(t, 60*time.Second, "set_vm_memory_high_watermark", "absolute", "1")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := r.get("/api/health/checks/alarms"); code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no memory alarm 30s after set_vm_memory_high_watermark absolute 1")
		}
		time.Sleep(250 * time.Millisecond)
	}
	runMatrix(t, []matrixCase{
		{"alarms, memory alarm: the reason on the first line", alarms, 2,
			[]string{`^HTTP CRITICAL - .*/api/health/checks/alarms 503 Service Unavailable - server error - --jq '.status == "ok"' gave false, not true - server says 'There are alarms in effect in the cluster' - `}, []string{r.pass}},
		{"--jq-message names the alarm", append(alarms, "--jq-message", `.reason + ": " + ([.alarms[] | .resource + " on " + .node] | join(", "))`), 2,
			[]string{`^HTTP CRITICAL - .* server says 'There are alarms in effect in the cluster: memory on hindsight-\d+@localhost'`}, []string{r.pass}},
		{"local alarms", []string{"-u", r.api + "/api/health/checks/local-alarms", "--auth-file", authFile, "--jq", `.status == "ok"`}, 2,
			[]string{`server says 'There are alarms in effect on the node'`}, nil},
	})
}
