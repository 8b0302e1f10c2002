package engines

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// icingaArg is one entry of a shipped CheckCommand's arguments.
type icingaArg struct {
	Var    string // custom variable, without the $
	Switch bool   // set_if: the option takes no value
	Repeat bool   // repeat_key: the variable is an array
}

var (
	argKey   = regexp.MustCompile(`^\t\t"([^"]+)" = \{$`)
	argValue = regexp.MustCompile(`^\t\t\t(value|set_if) = "\$([a-z0-9_]+)\$"$`)
)

// readCheckCommand reads the arguments of a shipped CheckCommand: this is
// how the test drives Icinga through exactly the variables we document.
func readCheckCommand(t *testing.T, path string) map[string]*icingaArg {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	args := map[string]*icingaArg{}
	var cur *icingaArg
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if m := argKey.FindStringSubmatch(line); m != nil {
			cur = &icingaArg{}
			args[m[1]] = cur
		} else if m := argValue.FindStringSubmatch(line); m != nil && cur != nil {
			cur.Var, cur.Switch = m[2], m[1] == "set_if"
		} else if cur != nil && strings.TrimSpace(line) == "repeat_key = true" {
			cur.Repeat = true
		}
	}
	if len(args) == 0 {
		t.Fatalf("%s: no arguments found", path)
	}
	return args
}

// icingaVars turns a case's command line into the CheckCommand's custom
// variables: long options only (see cases), positional arguments into the
// "(arguments)" array.
func icingaVars(t *testing.T, c Case, def map[string]*icingaArg, args []string) map[string]any {
	t.Helper()
	vars := map[string]any{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			pos := def["(arguments)"]
			if pos == nil {
				t.Fatalf("%s: positional argument %q but the CheckCommand takes none", c.ID(), a)
			}
			list, _ := vars[pos.Var].([]string)
			vars[pos.Var] = append(list, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		d := def[name]
		if d == nil {
			t.Fatalf("%s: %s is not an argument of the shipped CheckCommand (cases must use long options)", c.ID(), name)
		}
		switch {
		case d.Switch:
			vars[d.Var] = true
			continue
		case !hasValue:
			if i+1 >= len(args) {
				t.Fatalf("%s: %s needs a value", c.ID(), name)
			}
			i++
			value = args[i]
		}
		if d.Repeat {
			list, _ := vars[d.Var].([]string)
			vars[d.Var] = append(list, value)
		} else {
			vars[d.Var] = value
		}
	}
	return vars
}

// icingaLiteral renders a value in the Icinga 2 DSL; "$" is written "$$"
// so that values are not taken for macros.
func icingaLiteral(v any) string {
	switch v := v.(type) {
	case bool:
		return fmt.Sprint(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = icingaLiteral(s)
		}
		return "[ " + strings.Join(q, ", ") + " ]"
	case string:
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "$", "$$")
		return `"` + r.Replace(v) + `"`
	}
	panic(fmt.Sprintf("icingaLiteral(%T)", v))
}

// Icinga is a running icinga2 daemon and a client for its REST API.
type Icinga struct {
	url, user, pass string
	client          *http.Client
}

// TestIcinga2: every case as a service of a real icinga2 daemon loading
// the shipped CheckCommands (packaging/icinga2), checks forced through the
// REST API and the results read back from it.
func TestIcinga2(t *testing.T) {
	lab := newLab(t, "icinga2")
	refs := lab.references(t)
	L := lab.Mkdir(t, "icinga2")
	for _, d := range []string{"lib", "lib/certs", "log", "cache", "spool", "run"} {
		lab.Mkdir(t, "icinga2", d)
	}
	defines := []string{"-DDataDir=" + L + "/lib", "-DLogDir=" + L + "/log", "-DCacheDir=" + L + "/cache",
		"-DSpoolDir=" + L + "/spool", "-DInitRunDir=" + L + "/run"}
	icinga := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "icinga2", append(args, defines...)...)
		cmd.Env = []string{pathEnv}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("icinga2 %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 3000))
		}
	}
	certs := L + "/lib/certs"
	icinga("pki", "new-ca")
	icinga("pki", "new-cert", "--cn", "localhost", "--key", certs+"/localhost.key", "--csr", certs+"/localhost.csr")
	icinga("pki", "sign-csr", "--csr", certs+"/localhost.csr", "--cert", certs+"/localhost.crt")
	caPEM, err := os.ReadFile(L + "/lib/ca/ca.crt")
	must(t, err)
	writeFile(t, certs+"/ca.crt", string(caPEM))
	must(t, exec.Command("chown", "-R", "nagios:nagios", L).Run())

	port := freePort(t)
	pass := randomHex(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, `const NodeName = "localhost"
const ZoneName = "localhost"
const PluginDir = %s
include <itl>
include <plugins>

object Endpoint NodeName {}
object Zone ZoneName { endpoints = [ NodeName ] }
object CheckerComponent "checker" {}
object FileLogger "main-log" {
	severity = "information"
	path = %s
}
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
object Host "localhost" {
	address = "127.0.0.1"
	check_command = "dummy"
	check_interval = 3600s
}
`, icingaLiteral(lab.Plugins), icingaLiteral(L+"/log/icinga2.log"), port, icingaLiteral(pass))
	defs := map[string]map[string]*icingaArg{}
	for _, c := range cases {
		if defs[c.Plugin] == nil {
			// The shipped file, copied where the nagios user reads it.
			shipped := shippedFile(t, "icinga2", c.Plugin+".conf")
			defs[c.Plugin] = readCheckCommand(t, shipped)
			b, err := os.ReadFile(shipped)
			must(t, err)
			writeFile(t, filepath.Join(L, c.Plugin+".conf"), string(b))
			fmt.Fprintf(&conf, "include %s\n", icingaLiteral(filepath.Join(L, c.Plugin+".conf")))
		}
		fmt.Fprintf(&conf, "object Service %s {\n\thost_name = \"localhost\"\n\tcheck_command = %s\n",
			icingaLiteral(c.ID()), icingaLiteral("hindsight_"+strings.TrimPrefix(c.Plugin, "check_")))
		conf.WriteString("\tcheck_interval = 3600s\n\tretry_interval = 3600s\n\tmax_check_attempts = 1\n")
		for k, v := range icingaVars(t, c, defs[c.Plugin], lab.Args(c)) {
			fmt.Fprintf(&conf, "\tvars.%s = %s\n", k, icingaLiteral(v))
		}
		conf.WriteString("}\n")
	}
	confPath := filepath.Join(L, "icinga2.conf")
	writeFile(t, confPath, conf.String())

	icinga("daemon", "-C", "-c", confPath)
	start := time.Now()
	startDaemon(t, lab, "icinga2", append([]string{"icinga2", "daemon", "-c", confPath}, defines...)...)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	api := &Icinga{url: fmt.Sprintf("https://127.0.0.1:%d", port), user: "test", pass: pass,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}}
	waitFor(t, "the Icinga 2 API answering", 30*time.Second, func() bool {
		code, _ := api.do("GET", "/v1/status", nil)
		return code == 200
	})
	waitFor(t, "Icinga 2 checking every service", 60*time.Second, func() bool {
		code, _ := api.do("POST", "/v1/actions/reschedule-check",
			map[string]any{"type": "Service", "filter": `host.name=="localhost"`, "force": true})
		return code == 200
	})
	results := map[string]icingaResult{}
	waitFor(t, "Icinga 2 results for every service", 60*time.Second, func() bool {
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
		first, long, _ := strings.Cut(r.Output, "\n")
		compare(t, "icinga2", c, refs[c.ID()], r.ExitStatus, Parsed{
			Output: strings.TrimSpace(first), // Icinga keeps the space before "|"
			Long:   long,
			Perf:   strings.Join(r.Perfdata, " "),
		})
	}
}

type icingaResult struct {
	ExitStatus     int      `json:"exit_status"`
	Output         string   `json:"output"`
	Perfdata       []string `json:"performance_data"`
	ExecutionStart float64  `json:"execution_start"`
	CheckSource    string   `json:"check_source"` // the endpoint that ran the check
}

func (api *Icinga) results(t *testing.T) map[string]icingaResult {
	code, body := api.do("GET", "/v1/objects/services?attrs=name&attrs=last_check_result", nil)
	if code != 200 {
		return nil
	}
	var resp struct {
		Results []struct {
			Attrs struct {
				Name   string        `json:"name"`
				Result *icingaResult `json:"last_check_result"`
			} `json:"attrs"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("Icinga 2 API: %v: %.300s", err, body)
	}
	out := map[string]icingaResult{}
	for _, r := range resp.Results {
		if r.Attrs.Result != nil {
			out[r.Attrs.Name] = *r.Attrs.Result
		}
	}
	return out
}

// do calls the API; errors count as "not yet" for the caller's wait.
func (api *Icinga) do(method, path string, body any) (int, []byte) {
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, api.url+path, in)
	if err != nil {
		return 0, nil
	}
	req.SetBasicAuth(api.user, api.pass)
	req.Header.Set("Accept", "application/json")
	resp, err := api.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	must(t, err)
	return hex.EncodeToString(b)
}
