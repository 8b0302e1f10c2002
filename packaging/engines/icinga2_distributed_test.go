package engines

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// icingaNode is one icinga2 instance of the distributed test: its own
// configuration, data, log, cache, spool and run directories, API port.
type icingaNode struct {
	name, dir string
	port      int
	defines   []string
}

func newIcingaNode(t *testing.T, lab *Lab, name string) *icingaNode {
	t.Helper()
	dir := lab.Mkdir(t, "icinga2-"+name)
	for _, d := range []string{"lib", "lib/certs", "log", "cache", "spool", "run"} {
		lab.Mkdir(t, "icinga2-"+name, d)
	}
	return &icingaNode{name: name, dir: dir, port: freePort(t), defines: []string{
		"-DDataDir=" + dir + "/lib", "-DLogDir=" + dir + "/log", "-DCacheDir=" + dir + "/cache",
		"-DSpoolDir=" + dir + "/spool", "-DInitRunDir=" + dir + "/run"}}
}

func (n *icingaNode) run(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "icinga2", append(args, n.defines...)...)
	cmd.Env = []string{pathEnv}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("icinga2 (%s) %s: %v\n%s", n.name, strings.Join(args, " "), err, tail(string(out), 3000))
	}
}

// TestIcinga2Distributed: a master and an agent, two icinga2 daemons on
// loopback with certificates from one `icinga2 pki` CA. The master
// schedules every case on the agent through command_endpoint, with the
// shipped CheckCommands unchanged (both load them, as plugins-contrib
// does on each node), and the results are read back from the master's
// API: the same as the plugin run directly.
func TestIcinga2Distributed(t *testing.T) {
	lab := newLab(t, "icinga2")
	refs := lab.references(t)
	master, agent := newIcingaNode(t, lab, "master"), newIcingaNode(t, lab, "agent")

	// The CA lives with the master; each node gets a certificate signed by it.
	master.run(t, "pki", "new-ca")
	caPEM, err := os.ReadFile(master.dir + "/lib/ca/ca.crt")
	must(t, err)
	for _, n := range []*icingaNode{master, agent} {
		certs := n.dir + "/lib/certs/"
		master.run(t, "pki", "new-cert", "--cn", n.name, "--key", certs+n.name+".key", "--csr", certs+n.name+".csr")
		master.run(t, "pki", "sign-csr", "--csr", certs+n.name+".csr", "--cert", certs+n.name+".crt")
		writeFile(t, certs+"ca.crt", string(caPEM))
	}

	// The zones, the same on both nodes: the agent's parent is the master,
	// which connects to it (the agent's Endpoint has host and port).
	zones := fmt.Sprintf(`object Endpoint "master" {}
object Endpoint "agent" {
	host = "127.0.0.1"
	port = %d
	log_duration = 0
}
object Zone "master" { endpoints = [ "master" ] }
object Zone "agent" {
	endpoints = [ "agent" ]
	parent = "master"
}
`, agent.port)
	common := func(n *icingaNode) *strings.Builder {
		var b strings.Builder
		fmt.Fprintf(&b, "const NodeName = %s\nconst ZoneName = %s\nconst PluginDir = %s\ninclude <itl>\ninclude <plugins>\n",
			icingaLiteral(n.name), icingaLiteral(n.name), icingaLiteral(lab.Plugins))
		b.WriteString(zones)
		fmt.Fprintf(&b, "object FileLogger \"main-log\" {\n\tseverity = \"information\"\n\tpath = %s\n}\n", icingaLiteral(n.dir+"/log/icinga2.log"))
		return &b
	}
	pass := randomHex(t)
	mconf, aconf := common(master), common(agent)
	fmt.Fprintf(mconf, `object CheckerComponent "checker" {}
object ApiListener "api" {
	bind_host = "127.0.0.1"
	bind_port = %d
	accept_config = false
	accept_commands = false
}
object ApiUser "test" {
	password = %s
	permissions = [ "*" ]
}
object Host "agent" {
	zone = "master"
	address = "127.0.0.1"
	check_command = "dummy"
	check_interval = 3600s
}
`, master.port, icingaLiteral(pass))
	// The agent runs what the master asks for; it checks nothing itself.
	fmt.Fprintf(aconf, `object ApiListener "api" {
	bind_host = "127.0.0.1"
	bind_port = %d
	accept_config = false
	accept_commands = true
}
`, agent.port)
	defs := map[string]map[string]*icingaArg{}
	for _, c := range cases {
		if defs[c.Plugin] == nil {
			shipped := shippedFile(t, "icinga2", c.Plugin+".conf")
			defs[c.Plugin] = readCheckCommand(t, shipped)
			b, err := os.ReadFile(shipped)
			must(t, err)
			for _, n := range []*icingaNode{master, agent} {
				path := filepath.Join(n.dir, c.Plugin+".conf")
				writeFile(t, path, string(b))
				conf := map[*icingaNode]*strings.Builder{master: mconf, agent: aconf}[n]
				fmt.Fprintf(conf, "include %s\n", icingaLiteral(path))
			}
		}
		fmt.Fprintf(mconf, "object Service %s {\n\thost_name = \"agent\"\n\tzone = \"master\" // the agent's parent: command_endpoint needs it\n\tcommand_endpoint = \"agent\"\n\tcheck_command = %s\n",
			icingaLiteral(c.ID()), icingaLiteral("hindsight_"+strings.TrimPrefix(c.Plugin, "check_")))
		mconf.WriteString("\tcheck_interval = 3600s\n\tretry_interval = 3600s\n\tmax_check_attempts = 1\n")
		for k, v := range icingaVars(t, c, defs[c.Plugin], lab.Args(c)) {
			fmt.Fprintf(mconf, "\tvars.%s = %s\n", k, icingaLiteral(v))
		}
		mconf.WriteString("}\n")
	}
	must(t, exec.Command("chown", "-R", "nagios:nagios", master.dir, agent.dir).Run())
	for n, conf := range map[*icingaNode]*strings.Builder{master: mconf, agent: aconf} {
		path := filepath.Join(n.dir, "icinga2.conf")
		writeFile(t, path, conf.String())
		must(t, exec.Command("chown", "nagios:nagios", path).Run())
		n.run(t, "daemon", "-C", "-c", path)
	}
	start := time.Now()
	startDaemon(t, lab, "icinga2-agent", append([]string{"icinga2", "daemon", "-c", filepath.Join(agent.dir, "icinga2.conf")}, agent.defines...)...)
	startDaemon(t, lab, "icinga2-master", append([]string{"icinga2", "daemon", "-c", filepath.Join(master.dir, "icinga2.conf")}, master.defines...)...)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	api := &Icinga{url: fmt.Sprintf("https://127.0.0.1:%d", master.port), user: "test", pass: pass,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "master"}}}}
	waitFor(t, "the master's API answering", 30*time.Second, func() bool {
		code, _ := api.do("GET", "/v1/status", nil)
		return code == 200
	})
	waitFor(t, "the master connected to the agent", 60*time.Second, func() bool {
		code, body := api.do("GET", "/v1/objects/endpoints?attrs=connected&attrs=name", nil)
		var resp struct {
			Results []struct {
				Attrs struct {
					Name      string `json:"name"`
					Connected bool   `json:"connected"`
				} `json:"attrs"`
			} `json:"results"`
		}
		if code != 200 || json.Unmarshal(body, &resp) != nil {
			return false
		}
		for _, r := range resp.Results {
			if r.Attrs.Name == "agent" {
				return r.Attrs.Connected
			}
		}
		return false
	})
	waitFor(t, "the master scheduling every service", 60*time.Second, func() bool {
		code, _ := api.do("POST", "/v1/actions/reschedule-check",
			map[string]any{"type": "Service", "filter": `host.name=="agent"`, "force": true})
		return code == 200
	})
	results := map[string]icingaResult{}
	waitFor(t, "results from the agent for every service", 90*time.Second, func() bool {
		results = api.results(t)
		for _, c := range cases {
			if r, ok := results[c.ID()]; !ok || r.ExecutionStart < float64(start.Unix()) {
				return false
			}
		}
		return true
	})
	for _, c := range cases {
		r := results[c.ID()]
		if r.CheckSource != "agent" || strings.Contains(r.Output, "Remote Icinga instance") {
			t.Errorf("%s: not run on the agent (check_source %q): %s", c.ID(), r.CheckSource, r.Output)
			continue
		}
		first, long, _ := strings.Cut(r.Output, "\n")
		compare(t, "icinga2 master/agent", c, refs[c.ID()], r.ExitStatus, Parsed{
			Output: strings.TrimSpace(first),
			Long:   long,
			Perf:   strings.Join(r.Perfdata, " "),
		})
	}
}
