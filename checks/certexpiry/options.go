package certexpiry

// go-flags takes one choice tag per allowed value, its documented form
// (`choice:"cat" choice:"dog"`); SA5008 knows only reflect.StructTag.Get,
// which sees the first.
//lint:file-ignore SA5008 repeated choice tags are go-flags' syntax

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strings"
	"unicode"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// Options are the flags of check_cert_expiry.
type Options struct {
	Hosts        []string `short:"H" long:"host" value-name:"HOST[:PORT]" description:"TLS endpoint to check (repeatable; also as arguments)" unquote:"false"`
	Port         string   `short:"p" long:"port" value-name:"PORT" description:"Port for hosts given without one (default 443, or the standard port of -P)" unquote:"false"`
	Protocol     string   `short:"P" long:"protocol" value-name:"PROTO" choice:"tls" choice:"smtp" choice:"imap" choice:"pop3" choice:"ftp" choice:"xmpp" choice:"ldap" choice:"postgres" choice:"mysql" description:"STARTTLS protocol to speak before the handshake (tls: implicit TLS, the default)" unquote:"false"`
	SNI          string   `long:"sni" value-name:"NAME" description:"Server name to send (default: the host name; none for IP addresses)" unquote:"false"`
	Resolve      string   `short:"I" long:"resolve" value-name:"ADDRESS" description:"Connect to this address instead of resolving the host (SNI and hostname check still use the host)" unquote:"false"`
	AllAddresses bool     `long:"all-addresses" description:"Check every A/AAAA record of each host: one load-balancer member serving an old certificate is a finding"`
	IPv4         bool     `short:"4" long:"ipv4" description:"Use IPv4 only"`
	IPv6         bool     `short:"6" long:"ipv6" description:"Use IPv6 only"`
	XMPPDomain   string   `long:"xmpp-domain" value-name:"DOMAIN" description:"XMPP domain for the stream header (default: the host name)" unquote:"false"`

	netOptions // revocation, TLS versions, proxy, client certificate: options_network.go

	Files         []string `short:"f" long:"file" value-name:"FILE|GLOB" description:"Certificate file: PEM (every certificate and CRL of a bundle), DER, PKCS#12, JKS or JCEKS; globs with * ? [..] and ** (repeatable)" unquote:"false"`
	Dirs          []string `short:"d" long:"dir" value-name:"DIR" description:"Directory searched recursively for *.crt *.pem *.cer *.cert *.der *.p12 *.pfx *.pkcs12 *.jks *.jceks *.keystore *.truststore *.crl (repeatable)" unquote:"false"`
	Kubeconfigs   []string `long:"kubeconfig" value-name:"FILE|GLOB" description:"Kubeconfig whose CA and client certificates (embedded or by path) are checked (repeatable)" unquote:"false"`
	Kubeadm       bool     `long:"kubeadm" description:"Check a kubeadm control-plane node: pki/**, *.conf and the kubelet's certificates, each leaf against the CA it belongs to"`
	KubernetesDir string   `long:"kubernetes-dir" default:"/etc/kubernetes" value-name:"DIR" description:"Where kubeadm keeps pki/ and the kubeconfigs" unquote:"false"`
	KubeletDir    string   `long:"kubelet-dir" default:"/var/lib/kubelet" value-name:"DIR" description:"Where the kubelet keeps pki/" unquote:"false"`
	PasswordFile  string   `long:"password-file" value-name:"FILE" description:"File whose first line is the PKCS#12 or Java keystore password" unquote:"false"`
	PasswordEnv   string   `long:"password-env" value-name:"VAR" description:"Environment variable holding the PKCS#12 or Java keystore password" unquote:"false"`
	MaxEntries    int      `long:"max-entries" default:"100000" base:"10" value-name:"N" description:"Stop listing a directory (-d) or a glob after N files and directories, with an UNKNOWN saying so: a runaway tree costs bounded time and memory" unquote:"false"`

	Warning        threshold.Number  `short:"w" long:"warning" default:"28" value-name:"DAYS" description:"WARNING when fewer than DAYS days are left before a certificate expires or a CRL's next update (fractions allowed)" unquote:"false"`
	Critical       threshold.Number  `short:"c" long:"critical" default:"14" value-name:"DAYS" description:"CRITICAL when fewer than DAYS days are left (fractions allowed)" unquote:"false"`
	RenewalAt      *threshold.Number `long:"renewal-at" value-name:"FRACTION" description:"WARNING once this fraction of a certificate's lifetime has passed: its automated renewal is overdue (e.g. 0.67 for certbot, 0.8 for kubeadm)" unquote:"false"`
	CAFile         string            `long:"ca-file" value-name:"FILE" description:"Trust these CA certificates instead of the system's when verifying chains (also verifies file bundles)" unquote:"false"`
	CA             []string          `long:"ca" value-name:"FILE" description:"Every leaf must be signed by a CA in FILE (repeatable): catches leaves left behind by a CA replacement" unquote:"false"`
	CompareFile    string            `long:"compare-file" value-name:"FILE" description:"The certificate the endpoints should serve: a newer one on disk means renewed but not reloaded" unquote:"false"`
	MinCerts       *int              `long:"min-certs" base:"10" value-name:"N" description:"WARNING when fewer than N certificates are found: a file that silently dropped out of a glob or directory" unquote:"false"`
	Insecure       bool              `short:"k" long:"insecure" description:"Do not verify chains and hostnames of endpoints (dates, keys and signers are still judged)"`
	IgnoreHostname bool              `long:"ignore-hostname" description:"Do not check that an endpoint's certificate matches its name"`
	ChainState     plugin.StateFlag  `long:"chain-state" value-name:"STATE" description:"State for a chain that does not verify, a self-signed endpoint certificate or a served one not allowed for server authentication (default CRITICAL)" unquote:"false"`
	HostnameState  plugin.StateFlag  `long:"hostname-state" value-name:"STATE" description:"State for a hostname mismatch (default CRITICAL)" unquote:"false"`
	WeakState      plugin.StateFlag  `long:"weak-state" value-name:"STATE" description:"State for SHA-1/MD5 signatures and RSA keys under 2048 bits (default CRITICAL)" unquote:"false"`
	SignerState    plugin.StateFlag  `long:"signer-state" value-name:"STATE" description:"State for a leaf not signed by its CA (--ca, --kubeadm) (default CRITICAL)" unquote:"false"`

	RequirePurpose  []string          `long:"require-purpose" value-name:"PURPOSE" description:"Every leaf must allow PURPOSE in its extended key usage: serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning (repeatable)" unquote:"false"`
	MaximumValidity *threshold.Number `long:"maximum-validity" value-name:"DAYS" description:"Leaves must not be valid longer than DAYS in all (397 for public HTTPS)" unquote:"false"`
	Issuer          string            `long:"issuer" value-name:"REGEX" description:"Every leaf's issuer (its name or whole DN) must match REGEX" unquote:"false"`
	Fingerprint     []string          `long:"fingerprint" value-name:"SHA256" description:"Every leaf must have one of these SHA-256 fingerprints (hex, colons allowed; repeatable)" unquote:"false"`
	Serial          []string          `long:"serial" value-name:"HEX" description:"Every leaf must have one of these serial numbers (hex, colons allowed; repeatable)" unquote:"false"`
	PolicyState     plugin.StateFlag  `long:"policy-state" value-name:"STATE" description:"State for a leaf that breaks --require-purpose, --maximum-validity, --issuer, --fingerprint or --serial (default CRITICAL)" unquote:"false"`

	args         []string // endpoints given as arguments (TakeArgs)
	issuerRE     *regexp.Regexp
	fingerprints []string // normalised --fingerprint
	serials      []string // normalised --serial
}

// TakeArgs accepts endpoints as HOST[:PORT] arguments, refusing at once
// what cannot be one (the default port does not matter for that).
func (c *Options) TakeArgs(args []string) error {
	for _, a := range args {
		if _, _, err := splitHostPort(a, "443"); err != nil {
			return fmt.Errorf("invalid argument %q: %w", a, err)
		}
	}
	c.args = append(c.args, args...)
	return nil
}

// Validate checks the options before anything is opened.
func (c *Options) Validate() error {
	switch {
	case bad(float64(c.Warning)) || c.Warning < 0:
		return fmt.Errorf("invalid -w %v: DAYS must be a number of 0 or more", c.Warning)
	case bad(float64(c.Critical)) || c.Critical < 0:
		return fmt.Errorf("invalid -c %v: DAYS must be a number of 0 or more", c.Critical)
	case c.Critical > c.Warning:
		return fmt.Errorf("-c %v is above -w %v: the critical threshold must be the nearer one", c.Critical, c.Warning)
	case c.RenewalAt != nil && (bad(float64(*c.RenewalAt)) || *c.RenewalAt <= 0 || *c.RenewalAt >= 1):
		return fmt.Errorf("invalid --renewal-at %v: a fraction of the lifetime above 0 and below 1, e.g. 0.67", *c.RenewalAt)
	case c.IPv4 && c.IPv6:
		return errors.New("-4 and -6 exclude each other")
	case c.MinCerts != nil && *c.MinCerts < 1:
		return fmt.Errorf("invalid --min-certs %d: N must be 1 or more", *c.MinCerts)
	case c.MaxEntries < 1:
		return fmt.Errorf("invalid --max-entries %d: at least 1", c.MaxEntries)
	case c.Resolve != "" && net.ParseIP(strings.Trim(c.Resolve, "[]")) == nil:
		return fmt.Errorf("invalid --resolve %q: an IP address", c.Resolve)
	case c.Resolve != "" && c.AllAddresses:
		return errors.New("--resolve and --all-addresses exclude each other")
	case c.Port != "" && !validPort(c.Port):
		return fmt.Errorf("invalid -p %q: a port number 1-65535", c.Port)
	case c.PasswordFile != "" && c.PasswordEnv != "":
		return errors.New("--password-file and --password-env exclude each other")
	case c.MaximumValidity != nil && (bad(float64(*c.MaximumValidity)) || *c.MaximumValidity <= 0):
		return fmt.Errorf("invalid --maximum-validity %v: DAYS must be a number above 0", *c.MaximumValidity)
	}
	if err := c.validatePolicy(); err != nil {
		return err
	}
	if _, err := c.endpoints(); err != nil {
		return err
	}
	if err := c.validateNet(); err != nil {
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

// endpoint is one host and port to probe, as given.
type endpoint struct {
	host, port string
}

func (c *Options) endpoints() ([]endpoint, error) {
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

// collapseEndpoints drops endpoints given more than once (-H twice, or as
// -H and as an argument, "Host" and "host", "h" and "h:443"): probing the
// same server twice says nothing new and doubled its perfdata labels.
// The notes say what was collapsed, for -v.
func collapseEndpoints(eps []endpoint) ([]endpoint, []string) {
	count := map[endpoint]int{}
	var out []endpoint
	for _, ep := range eps {
		k := ep.key()
		if count[k] == 0 {
			out = append(out, ep)
		}
		count[k]++
	}
	var notes []string
	for _, ep := range out {
		if n := count[ep.key()]; n > 1 {
			notes = append(notes, fmt.Sprintf("endpoint %s given %d times: checked once", net.JoinHostPort(ep.host, ep.port), n))
		}
	}
	return out, notes
}

// key is the endpoint as compared for duplicates: host names in lower
// case, IP addresses in their one written form.
func (e endpoint) key() endpoint {
	if ip := net.ParseIP(e.host); ip != nil {
		return endpoint{ip.String(), e.port}
	}
	return endpoint{strings.ToLower(strings.TrimSuffix(e.host, ".")), e.port}
}

// collapseFiles drops a -f or --kubeconfig (flag) given more than once,
// word for word (files reached twice by different paths are dropped
// after reading, by their resolved path; a kubeconfig read twice was
// checked twice, its labels suffixed #0#2).
func collapseFiles(flag string, files []string) ([]string, []string) {
	count := map[string]int{}
	var out []string
	for _, f := range files {
		if count[f] == 0 {
			out = append(out, f)
		}
		count[f]++
	}
	var notes []string
	for _, f := range out {
		if count[f] > 1 {
			notes = append(notes, fmt.Sprintf("%s %s given %d times: read once", flag, f, count[f]))
		}
	}
	return out, notes
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

// validatePolicy checks the purpose and policy options and keeps them in
// the form judge compares.
func (c *Options) validatePolicy() error {
	for _, p := range c.RequirePurpose {
		if _, ok := certs.Purpose(p); !ok {
			return fmt.Errorf("invalid --require-purpose %q: one of %s", p, certs.PurposeNames())
		}
	}
	if c.Issuer != "" {
		re, err := regexp.Compile(c.Issuer)
		if err != nil {
			return fmt.Errorf("invalid --issuer %q: %w", c.Issuer, err)
		}
		c.issuerRE = re
	}
	c.fingerprints, c.serials = nil, nil
	for _, f := range c.Fingerprint {
		h := normHex(f)
		if len(h) != 64 || !isHex(h) {
			return fmt.Errorf("invalid --fingerprint %q: a SHA-256 fingerprint is 64 hex digits (colons allowed)", f)
		}
		c.fingerprints = append(c.fingerprints, h)
	}
	for _, s := range c.Serial {
		n := normHex(s)
		h := strings.TrimLeft(n, "0")
		if h == "" {
			h = "0"
		}
		if n == "" || !isHex(h) {
			return fmt.Errorf("invalid --serial %q: hex digits (colons allowed)", s)
		}
		c.serials = append(c.serials, h)
	}
	return nil
}

// normHex lower-cases hex and drops the colons, spaces and 0x that tools
// print around it.
func normHex(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "0x")
	return strings.NewReplacer(":", "", " ", "").Replace(s)
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// fmtDays prints days for perfdata thresholds.
func fmtDays(d float64) string { return strings.TrimSuffix(fmt.Sprintf("%.2f", d), ".00") }
