package engines

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
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
	node := newIcingaNode(t, lab, icingaSpec{Label: "icinga2", Name: "localhost",
		APIUser: "test", APIPass: randomHex(t), Host: "localhost"})
	conf := node.withShipped(t)
	caseServices(t, lab, conf, "\thost_name = \"localhost\"\n")

	start := time.Now()
	node.start(t, conf.String())
	api := node.api()
	api.waitUp(t, "the Icinga 2 API answering", 30*time.Second)
	results := api.checkCases(t, "localhost", start, 60*time.Second)
	for _, c := range cases {
		compare(t, "icinga2", c, refs[c.ID()], results[c.ID()].ExitStatus, results[c.ID()].parsed())
	}
}

// caseServices writes every case as a Service checked through its
// shipped CheckCommand, only when forced; attrs places it (host_name and
// the like).
func caseServices(t *testing.T, lab *Lab, conf *strings.Builder, attrs string) {
	t.Helper()
	defs := map[string]map[string]*icingaArg{}
	for _, plugin := range casePlugins() {
		defs[plugin] = readCheckCommand(t, shippedFile(t, "icinga2", plugin+".conf"))
	}
	for _, c := range cases {
		fmt.Fprintf(conf, "object Service %s {\n%s\tcheck_command = %s\n",
			icingaLiteral(c.ID()), attrs, icingaLiteral("hindsight_"+strings.TrimPrefix(c.Plugin, "check_")))
		conf.WriteString("\tcheck_interval = 3600s\n\tretry_interval = 3600s\n\tmax_check_attempts = 1\n")
		for k, v := range icingaVars(t, c, defs[c.Plugin], lab.Args(c)) {
			fmt.Fprintf(conf, "\tvars.%s = %s\n", k, icingaLiteral(v))
		}
		conf.WriteString("}\n")
	}
}

// waitUp waits until the API answers.
func (api *Icinga) waitUp(t *testing.T, what string, timeout time.Duration) {
	t.Helper()
	waitFor(t, what, timeout, func() bool {
		code, _ := api.do("GET", "/v1/status", nil)
		return code == 200
	})
}

// checkCases forces a check of every service of host and returns the
// results once every case has one from a check started since start.
func (api *Icinga) checkCases(t *testing.T, host string, start time.Time, timeout time.Duration) map[string]icingaResult {
	t.Helper()
	waitFor(t, "Icinga 2 scheduling every service of "+host, 60*time.Second, func() bool {
		code, _ := api.do("POST", "/v1/actions/reschedule-check",
			map[string]any{"type": "Service", "filter": "host.name==" + strconv.Quote(host), "force": true})
		return code == 200
	})
	results := map[string]icingaResult{}
	waitFor(t, "Icinga 2 results for every service of "+host, timeout, func() bool {
		results = api.results(t)
		for _, c := range cases {
			if r, ok := results[c.ID()]; !ok || r.ExecutionStart < float64(start.Unix()) {
				return false
			}
		}
		return true
	})
	return results
}

type icingaResult struct {
	ExitStatus     int      `json:"exit_status"`
	Output         string   `json:"output"`
	Perfdata       []string `json:"performance_data"`
	ExecutionStart float64  `json:"execution_start"`
	CheckSource    string   `json:"check_source"` // the endpoint that ran the check
}

// parsed is the result as compare takes it.
func (r icingaResult) parsed() Parsed {
	first, long, _ := strings.Cut(r.Output, "\n")
	return Parsed{
		Output: strings.TrimSpace(first), // Icinga keeps the space before "|"
		Long:   long,
		Perf:   strings.Join(r.Perfdata, " "),
	}
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
