package engines

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestIcinga2Distributed: a master and an agent, two icinga2 daemons on
// loopback with certificates from one `icinga2 pki` CA. The master
// schedules every case on the agent through command_endpoint, with the
// shipped CheckCommands unchanged (both load them, as plugins-contrib
// does on each node), and the results are read back from the master's
// API: the same as the plugin run directly.
func TestIcinga2Distributed(t *testing.T) {
	lab := newLab(t, "icinga2")
	refs := lab.references(t)
	// The zones, the same on both nodes: the agent's parent is the master,
	// which connects to it (the agent's Endpoint has host and port).
	agentPort := freePort(t)
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
`, agentPort)
	// The CA lives with the master; each node gets a certificate signed by
	// it. The host the services hang on is the master's own.
	master := newIcingaNode(t, lab, icingaSpec{Label: "icinga2-master", Name: "master", Zones: zones,
		APIUser: "test", APIPass: randomHex(t), Extra: `object Host "agent" {
	zone = "master"
	address = "127.0.0.1"
	check_command = "dummy"
	check_interval = 3600s
}
`})
	// The agent runs what the master asks for; it checks nothing itself.
	agent := newIcingaNode(t, lab, icingaSpec{Label: "icinga2-agent", Name: "agent", Port: agentPort, CA: master,
		Zones: zones, NoChecker: true, AcceptCommands: true})
	// Both load the shipped CheckCommands, as plugins-contrib does on each node.
	mconf, aconf := master.withShipped(t), agent.withShipped(t)
	caseServices(t, lab, mconf, "\thost_name = \"agent\"\n\tzone = \"master\" // the agent's parent: command_endpoint needs it\n\tcommand_endpoint = \"agent\"\n")
	start := time.Now()
	agent.start(t, aconf.String())
	master.start(t, mconf.String())

	api := master.api()
	api.waitUp(t, "the master's API answering", 30*time.Second)
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
	results := api.checkCases(t, "agent", start, 90*time.Second)
	for _, c := range cases {
		r := results[c.ID()]
		if r.CheckSource != "agent" || strings.Contains(r.Output, "Remote Icinga instance") {
			t.Errorf("%s: not run on the agent (check_source %q): %s", c.ID(), r.CheckSource, r.Output)
			continue
		}
		compare(t, "icinga2 master/agent", c, refs[c.ID()], r.ExitStatus, r.parsed())
	}
}
