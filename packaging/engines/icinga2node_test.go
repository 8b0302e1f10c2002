package engines

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// icingaSpec is what differs between the Icinga 2 nodes the tests start;
// the zero value of each field is what a standalone node wants.
type icingaSpec struct {
	Label string // the node's lab directory and daemon name
	Name  string // NodeName, ZoneName and the certificate's CN
	Port  int    // the API's; a free one when 0
	// CA is the node whose CA signs this node's certificate; nil: the
	// node makes its own CA.
	CA *icingaNode
	// Zones holds the Endpoint and Zone objects; "" is one zone holding
	// this node alone.
	Zones            string
	NoChecker        bool // an agent only runs what its parent sends
	AcceptCommands   bool
	APIUser, APIPass string // an ApiUser with every permission, when APIUser is set
	Host             string // a dummy Host by this name for the services to hang on, when set
	Extra            string // the test's own objects
}

// icingaNode is one icinga2 instance of a test: its own configuration,
// data, log, cache, spool and run directories in the lab, its own PKI
// files and API port.
type icingaNode struct {
	lab         *Lab
	label, name string
	dir, certs  string
	port        int
	defines     []string
	caPEM       []byte // the CA's certificate
	user, pass  string
	base        string // the configuration the spec asks for; tests add to it
}

// newIcingaNode makes a node's directory tree and certificate (with the
// CA's certificate next to it, where the ApiListener looks for both) and
// its base configuration, all readable by the nagios user icinga2 runs as.
func newIcingaNode(t *testing.T, lab *Lab, s icingaSpec) *icingaNode {
	t.Helper()
	dir := lab.Mkdir(t, s.Label)
	for _, d := range []string{"lib", "lib/certs", "log", "cache", "spool", "run"} {
		lab.Mkdir(t, s.Label, d)
	}
	if s.Port == 0 {
		s.Port = freePort(t)
	}
	n := &icingaNode{lab: lab, label: s.Label, name: s.Name, dir: dir, port: s.Port,
		user: s.APIUser, pass: s.APIPass, certs: dir + "/lib/certs/",
		defines: []string{"-DDataDir=" + dir + "/lib", "-DLogDir=" + dir + "/log", "-DCacheDir=" + dir + "/cache",
			"-DSpoolDir=" + dir + "/spool", "-DInitRunDir=" + dir + "/run"}}
	ca := s.CA
	if ca == nil {
		ca = n
		n.run(t, "pki", "new-ca")
	}
	caPEM, err := os.ReadFile(ca.dir + "/lib/ca/ca.crt")
	must(t, err)
	n.caPEM = caPEM
	key, csr, crt := n.certs+n.name+".key", n.certs+n.name+".csr", n.certs+n.name+".crt"
	ca.run(t, "pki", "new-cert", "--cn", n.name, "--key", key, "--csr", csr)
	ca.run(t, "pki", "sign-csr", "--csr", csr, "--cert", crt)
	writeFile(t, n.certs+"ca.crt", string(caPEM))
	// Signing may have written to the CA's directory too.
	must(t, exec.Command("chown", "-R", "nagios:nagios", dir, ca.dir).Run())
	n.base = n.config(s)
	return n
}

// config is the base configuration: the node, its zones, a log file and
// the API.
func (n *icingaNode) config(s icingaSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "const NodeName = %s\nconst ZoneName = %s\nconst PluginDir = %s\ninclude <itl>\ninclude <plugins>\n\n",
		icingaLiteral(n.name), icingaLiteral(n.name), icingaLiteral(n.lab.Plugins))
	if s.Zones == "" {
		s.Zones = "object Endpoint NodeName {}\nobject Zone ZoneName { endpoints = [ NodeName ] }\n"
	}
	b.WriteString(s.Zones)
	if !s.NoChecker {
		b.WriteString("object CheckerComponent \"checker\" {}\n")
	}
	fmt.Fprintf(&b, "object FileLogger \"main-log\" {\n\tseverity = \"information\"\n\tpath = %s\n}\n", icingaLiteral(n.dir+"/log/icinga2.log"))
	fmt.Fprintf(&b, `object ApiListener "api" {
	bind_host = "127.0.0.1"
	bind_port = %d
	accept_config = false
	accept_commands = %t
}
`, n.port, s.AcceptCommands)
	if s.APIUser != "" {
		fmt.Fprintf(&b, "object ApiUser %s {\n\tpassword = %s\n\tpermissions = [ \"*\" ]\n}\n", icingaLiteral(s.APIUser), icingaLiteral(s.APIPass))
	}
	if s.Host != "" {
		fmt.Fprintf(&b, "object Host %s {\n\taddress = \"127.0.0.1\"\n\tcheck_command = \"dummy\"\n\tcheck_interval = 3600s\n}\n", icingaLiteral(s.Host))
	}
	b.WriteString(s.Extra)
	return b.String()
}

// run runs an icinga2 CLI command on the node's directories.
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

// withShipped is the base configuration with the shipped CheckCommand
// file of every plugin the cases use, copied into the node's directory
// where the nagios user reads it.
func (n *icingaNode) withShipped(t *testing.T) *strings.Builder {
	t.Helper()
	var conf strings.Builder
	conf.WriteString(n.base)
	for _, plugin := range casePlugins() {
		b, err := os.ReadFile(shippedFile(t, "icinga2", plugin+".conf"))
		must(t, err)
		fmt.Fprintf(&conf, "include %s\n", icingaLiteral(n.writeFile(t, plugin+".conf", string(b))))
	}
	return &conf
}

// writeFile writes a file in the node's directory, owned by nagios.
func (n *icingaNode) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := n.dir + "/" + name
	writeFile(t, path, content)
	must(t, os.Chown(path, n.lab.UID, n.lab.GID))
	return path
}

// start writes conf as the node's icinga2.conf, validates it and starts
// the daemon.
func (n *icingaNode) start(t *testing.T, conf string) *Daemon {
	t.Helper()
	path := n.writeFile(t, "icinga2.conf", conf)
	n.run(t, "daemon", "-C", "-c", path)
	return startDaemon(t, n.lab, n.label, append([]string{"icinga2", "daemon", "-c", path}, n.defines...)...)
}

// api is a client of the node's API as its ApiUser, trusting the CA
// alone and checking the node's name.
func (n *icingaNode) api() *Icinga {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(n.caPEM)
	return &Icinga{url: fmt.Sprintf("https://127.0.0.1:%d", n.port), user: n.user, pass: n.pass,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: n.name}}}}
}
