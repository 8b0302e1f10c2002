// Package certexpiry is check_cert_expiry: every certificate that can take
// a site or a cluster down, from TLS endpoints (STARTTLS too), files,
// directories and kubeconfigs, judged on days left, renewal overdue,
// chain, hostname, strength and signer.
package certexpiry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// Plugin is check_cert_expiry.
var Plugin = plugin.Plugin{
	Name:    "check_cert_expiry",
	Service: "CERT",
	Summary: "Checks X.509 certificates on TLS endpoints (incl. STARTTLS), in files, directories and kubeconfigs",
	Usage:   "[-H HOST[:PORT]]... [-P PROTO] [-f FILE|GLOB]... [-d DIR]... [--kubeconfig FILE]... [--kubeadm] [-w DAYS] [-c DAYS] [HOST:PORT]...",
	Group:   "Certificate options",
	Help:    help,
	New:     func() plugin.Check { return &Check{} },
}

const help = `Every certificate of every chain or bundle is judged and gets one line in
the long output, worst first, and one perfdata item (days left, labelled by
source and position, e.g. 'example.com:443#1' for the first intermediate).

What it judges, per certificate: days left (-w/-c, fractions allowed),
renewal overdue (--renewal-at), not yet valid, expired, SHA-1/MD5
signatures and RSA keys under 2048 bits (--weak-state); for endpoints the
chain (system roots or --ca-file) and the hostname (--chain-state,
--hostname-state, --ignore-hostname, --insecure); with --ca or --kubeadm
that each leaf is signed by the CA it belongs to. --insecure skips the chain
and hostname, never the dates: a handshake that succeeds with an expired
certificate is never OK.

An endpoint that cannot be checked is CRITICAL; an unusable file (not a
certificate, unreadable, a broken symlink) is UNKNOWN. In directories and
globs, files of other kinds (keys, CSRs) are skipped; named with -f they are
an error.

Examples:
  check_cert_expiry -H www.example.com
  check_cert_expiry -H www.example.com --renewal-at 0.67 --compare-file /etc/letsencrypt/live/www.example.com/cert.pem
  check_cert_expiry -H lb.example.com --all-addresses
  check_cert_expiry -H mail.example.com -P smtp -w 21 -c 7
  check_cert_expiry -H 192.0.2.10 -p 636 --sni ldap.example.com
  check_cert_expiry -f '/etc/ssl/private/**/*.pem' -d /etc/nginx/certs --min-certs 12
  check_cert_expiry -f /srv/app/keystore.p12 --password-file /etc/nagios/p12.pass
  check_cert_expiry --kubeadm --renewal-at 0.8
  check_cert_expiry --kubeconfig '/home/*/.kube/config'`

// Check holds the options of check_cert_expiry.
type Check struct {
	Hosts        []string `short:"H" long:"host" value-name:"HOST[:PORT]" description:"TLS endpoint to check (repeatable; also as arguments)"`
	Port         string   `short:"p" long:"port" value-name:"PORT" description:"Port for hosts given without one (default 443, or the standard port of -P)"`
	Protocol     string   `short:"P" long:"protocol" value-name:"PROTO" choice:"tls" choice:"smtp" choice:"imap" choice:"pop3" choice:"ftp" choice:"xmpp" choice:"ldap" choice:"postgres" choice:"mysql" description:"STARTTLS protocol to speak before the handshake (tls: implicit TLS, the default)"`
	SNI          string   `long:"sni" value-name:"NAME" description:"Server name to send (default: the host name; none for IP addresses)"`
	Resolve      string   `short:"I" long:"resolve" value-name:"ADDRESS" description:"Connect to this address instead of resolving the host (SNI and hostname check still use the host)"`
	AllAddresses bool     `long:"all-addresses" description:"Check every A/AAAA record of each host: one load-balancer member serving an old certificate is a finding"`
	IPv4         bool     `short:"4" long:"ipv4" description:"Use IPv4 only"`
	IPv6         bool     `short:"6" long:"ipv6" description:"Use IPv6 only"`
	XMPPDomain   string   `long:"xmpp-domain" value-name:"DOMAIN" description:"XMPP domain for the stream header (default: the host name)"`

	Files         []string `short:"f" long:"file" value-name:"FILE|GLOB" description:"Certificate file: PEM (every certificate of a bundle), DER or PKCS#12; globs with * ? [..] and ** (repeatable)"`
	Dirs          []string `short:"d" long:"dir" value-name:"DIR" description:"Directory searched recursively for *.crt *.pem *.cer *.cert *.der *.p12 *.pfx (repeatable)"`
	Kubeconfigs   []string `long:"kubeconfig" value-name:"FILE|GLOB" description:"Kubeconfig whose CA and client certificates (embedded or by path) are checked (repeatable)"`
	Kubeadm       bool     `long:"kubeadm" description:"Check a kubeadm control-plane node: pki/**, *.conf and the kubelet's certificates, each leaf against the CA it belongs to"`
	KubernetesDir string   `long:"kubernetes-dir" default:"/etc/kubernetes" value-name:"DIR" description:"Where kubeadm keeps pki/ and the kubeconfigs"`
	KubeletDir    string   `long:"kubelet-dir" default:"/var/lib/kubelet" value-name:"DIR" description:"Where the kubelet keeps pki/"`
	PasswordFile  string   `long:"password-file" value-name:"FILE" description:"File whose first line is the PKCS#12 password"`
	PasswordEnv   string   `long:"password-env" value-name:"VAR" description:"Environment variable holding the PKCS#12 password"`

	Warning        float64          `short:"w" long:"warning" default:"28" value-name:"DAYS" description:"WARNING when a certificate expires within DAYS (fractions allowed)"`
	Critical       float64          `short:"c" long:"critical" default:"14" value-name:"DAYS" description:"CRITICAL when a certificate expires within DAYS (fractions allowed)"`
	RenewalAt      float64          `long:"renewal-at" value-name:"FRACTION" description:"WARNING once this fraction of a certificate's lifetime has passed: its automated renewal is overdue (e.g. 0.67 for certbot, 0.8 for kubeadm)"`
	CAFile         string           `long:"ca-file" value-name:"FILE" description:"Trust these CA certificates instead of the system's when verifying chains (also verifies file bundles)"`
	CA             []string         `long:"ca" value-name:"FILE" description:"Every leaf must be signed by a CA in FILE (repeatable): catches leaves left behind by a CA replacement"`
	CompareFile    string           `long:"compare-file" value-name:"FILE" description:"The certificate the endpoints should serve: a newer one on disk means renewed but not reloaded"`
	MinCerts       int              `long:"min-certs" base:"10" value-name:"N" description:"WARNING when fewer than N certificates are found: a file that silently dropped out of a glob or directory"`
	Insecure       bool             `short:"k" long:"insecure" description:"Do not verify chains and hostnames of endpoints (dates, keys and signers are still judged)"`
	IgnoreHostname bool             `long:"ignore-hostname" description:"Do not check that an endpoint's certificate matches its name"`
	ChainState     plugin.StateFlag `long:"chain-state" value-name:"STATE" description:"State for a chain that does not verify or a self-signed endpoint certificate (default CRITICAL)"`
	HostnameState  plugin.StateFlag `long:"hostname-state" value-name:"STATE" description:"State for a hostname mismatch (default CRITICAL)"`
	WeakState      plugin.StateFlag `long:"weak-state" value-name:"STATE" description:"State for SHA-1/MD5 signatures and RSA keys under 2048 bits (default CRITICAL)"`
	SignerState    plugin.StateFlag `long:"signer-state" value-name:"STATE" description:"State for a leaf not signed by its CA (--ca, --kubeadm) (default CRITICAL)"`

	args []string
	// lookup resolves a name to all its addresses (--all-addresses);
	// tests replace it to give a name several loopback addresses.
	lookup func(ctx context.Context, host, network string) ([]string, error)
}

// TakeArgs accepts endpoints as HOST[:PORT] arguments, refusing at once
// what cannot be one (the default port does not matter for that).
func (c *Check) TakeArgs(args []string) error {
	for _, a := range args {
		if _, _, err := splitHostPort(a, "443"); err != nil {
			return fmt.Errorf("invalid argument %q: %w", a, err)
		}
	}
	c.args = append(c.args, args...)
	return nil
}

// Validate checks the options before anything is opened.
func (c *Check) Validate() error {
	switch {
	case bad(c.Warning) || c.Warning < 0:
		return fmt.Errorf("invalid -w %v: DAYS must be a number of 0 or more", c.Warning)
	case bad(c.Critical) || c.Critical < 0:
		return fmt.Errorf("invalid -c %v: DAYS must be a number of 0 or more", c.Critical)
	case c.Critical > c.Warning:
		return fmt.Errorf("-c %v is above -w %v: the critical threshold must be the nearer one", c.Critical, c.Warning)
	case bad(c.RenewalAt) || c.RenewalAt < 0 || c.RenewalAt >= 1:
		return fmt.Errorf("invalid --renewal-at %v: a fraction of the lifetime above 0 and below 1, e.g. 0.67", c.RenewalAt)
	case c.IPv4 && c.IPv6:
		return errors.New("-4 and -6 exclude each other")
	case c.MinCerts < 0:
		return fmt.Errorf("invalid --min-certs %d", c.MinCerts)
	case c.Resolve != "" && net.ParseIP(strings.Trim(c.Resolve, "[]")) == nil:
		return fmt.Errorf("invalid --resolve %q: an IP address", c.Resolve)
	case c.Resolve != "" && c.AllAddresses:
		return errors.New("--resolve and --all-addresses exclude each other")
	case c.Port != "" && !validPort(c.Port):
		return fmt.Errorf("invalid -p %q: a port number 1-65535", c.Port)
	}
	if _, err := c.endpoints(); err != nil {
		return err
	}
	if len(c.Hosts)+len(c.args)+len(c.Files)+len(c.Dirs)+len(c.Kubeconfigs) == 0 && !c.Kubeadm {
		return errors.New("nothing to check: give -H HOST, -f FILE, -d DIR, --kubeconfig FILE or --kubeadm")
	}
	if c.CompareFile != "" && len(c.Hosts)+len(c.args) == 0 {
		return errors.New("--compare-file needs an endpoint (-H) to compare with")
	}
	return nil
}

func bad(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }

// Run gathers every source concurrently under the deadline, then judges.
func (c *Check) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	now := env.Now()
	cfg, err := c.config()
	if err != nil {
		return plugin.Result{}, err
	}
	g := newGatherer(ctx, env, cfg)
	eps, _ := c.endpoints()
	for _, ep := range eps {
		g.endpoint(ep)
	}
	for _, f := range c.Files {
		g.pattern(f, true)
	}
	for _, d := range c.Dirs {
		g.dir(d)
	}
	for _, k := range c.Kubeconfigs {
		g.kubeconfigs(k, nil)
	}
	if c.Kubeadm {
		g.kubeadm(c.KubernetesDir, c.KubeletDir)
	}
	sources := g.wait()
	return c.judge(sources, cfg, now), nil
}

// config is what the options resolve to before gathering: loaded CA
// files, the password, the states.
type config struct {
	check                                         *Check
	lookup                                        func(ctx context.Context, host, network string) ([]string, error)
	roots                                         *x509.CertPool // nil: the system's
	rootsGiven                                    bool
	signers                                       []*x509.Certificate
	signerName                                    string
	compare                                       *x509.Certificate
	compareErr                                    error
	password                                      string
	network                                       string
	policy                                        certs.Policy
	chainState, hostState, weakState, signerState plugin.State
}

func (c *Check) config() (*config, error) {
	cfg := &config{
		check:       c,
		network:     "tcp",
		policy:      certs.Policy{WarnDays: c.Warning, CritDays: c.Critical, RenewalAt: c.RenewalAt},
		chainState:  stateOr(c.ChainState, plugin.CRITICAL),
		hostState:   stateOr(c.HostnameState, plugin.CRITICAL),
		weakState:   stateOr(c.WeakState, plugin.CRITICAL),
		signerState: stateOr(c.SignerState, plugin.CRITICAL),
	}
	cfg.lookup = c.lookup
	if cfg.lookup == nil {
		cfg.lookup = func(ctx context.Context, host, network string) ([]string, error) {
			return tlsprobe.LookupAll(ctx, net.DefaultResolver, host, network)
		}
	}
	switch {
	case c.IPv4:
		cfg.network = "tcp4"
	case c.IPv6:
		cfg.network = "tcp6"
	}
	var err error
	if cfg.password, err = c.password(); err != nil {
		return nil, err
	}
	if c.CAFile != "" {
		cas, err := loadCAFile(c.CAFile, "--ca-file")
		if err != nil {
			return nil, err
		}
		cfg.roots, cfg.rootsGiven = x509.NewCertPool(), true
		for _, ca := range cas {
			cfg.roots.AddCert(ca)
		}
	}
	for _, f := range c.CA {
		cas, err := loadCAFile(f, "--ca")
		if err != nil {
			return nil, err
		}
		cfg.signers = append(cfg.signers, cas...)
	}
	cfg.signerName = strings.Join(c.CA, ", ")
	if c.CompareFile != "" {
		// A missing compare file is a finding on each endpoint, not a
		// reason to skip checking them.
		data, err := os.ReadFile(c.CompareFile)
		if err == nil {
			var cs []*x509.Certificate
			cs, _, err = certs.Parse(data, cfg.password)
			if err == nil {
				cfg.compare = cs[0]
			}
		}
		if err != nil {
			cfg.compareErr = fmt.Errorf("--compare-file %s: %w", c.CompareFile, unwrapPath(err))
		}
	}
	return cfg, nil
}

func stateOr(f plugin.StateFlag, def plugin.State) plugin.State {
	if f.Set {
		return f.State
	}
	return def
}

func (c *Check) password() (string, error) {
	switch {
	case c.PasswordFile != "":
		data, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		return strings.TrimRight(line, "\r"), nil
	case c.PasswordEnv != "":
		v, ok := os.LookupEnv(c.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("--password-env: variable %s is not set", c.PasswordEnv)
		}
		return v, nil
	}
	return "", nil
}

func loadCAFile(path, opt string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opt, err)
	}
	cas, _, err := certs.Parse(data, "")
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", opt, path, err)
	}
	return cas, nil
}

// unwrapPath drops the "open PATH:" of a PathError when PATH is already
// named in the message.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// endpoint is one host and port to probe, as given.
type endpoint struct {
	host, port string
}

func (c *Check) endpoints() ([]endpoint, error) {
	def := c.Port
	if def == "" {
		def = "443"
		if p, ok := tlsprobe.Protocols[c.Protocol]; ok {
			def = p
		}
	}
	var out []endpoint
	for i, s := range append(append([]string(nil), c.Hosts...), c.args...) {
		host, port, err := splitHostPort(s, def)
		if err != nil && i < len(c.Hosts) {
			return nil, fmt.Errorf("invalid -H %q: %w", s, err)
		} else if err != nil {
			return nil, fmt.Errorf("invalid argument %q: %w", s, err)
		}
		out = append(out, endpoint{host, port})
	}
	return out, nil
}

// splitHostPort accepts "host", "host:port", "[v6]", "[v6]:port" and a
// bare v6 address. Brackets must balance and hold an IPv6 address: "[::1"
// is a typo, not [::1]:443.
func splitHostPort(s, def string) (string, string, error) {
	if s == "" {
		return "", "", errors.New("empty host")
	}
	if ip := net.ParseIP(s); ip != nil {
		return s, def, nil
	}
	host, port := s, def
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
	case strings.ContainsAny(s, ":[]"):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", "", errors.New("use HOST, HOST:PORT or [IPv6]:PORT")
		}
		if !validPort(p) {
			return "", "", fmt.Errorf("port %q is not a number 1-65535", p)
		}
		host, port = h, p
	}
	if strings.HasPrefix(s, "[") {
		if ip := net.ParseIP(host); ip == nil || !strings.Contains(host, ":") {
			return "", "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	}
	if host == "" {
		return "", "", errors.New("empty host")
	}
	if strings.ContainsAny(host, " /\\[]") || strings.ContainsFunc(host, unicode.IsControl) {
		return "", "", fmt.Errorf("%q is not a host name", host)
	}
	return host, port, nil
}

func validPort(p string) bool {
	n := 0
	for _, r := range p {
		if r < '0' || r > '9' || n > 65535 {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return p != "" && n >= 1 && n <= 65535
}

// sortSources orders sources by name so output is stable run to run.
func sortSources(s []*source) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].name < s[j].name })
}

// fmtDays prints days for perfdata thresholds.
func fmtDays(d float64) string { return strings.TrimSuffix(fmt.Sprintf("%.2f", d), ".00") }
