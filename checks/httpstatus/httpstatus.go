// Package httpstatus is check_http_status: the endpoint answers right,
// fast, and for the right reason. It catches a web server answering 403
// to everything from a failed disk (postmortem 001), a health endpoint
// saying it is unhealthy (002), and a service that is up but whose answers
// never come back (003).
package httpstatus

import (
	"github.com/itchyny/gojq"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// AuthEnv is the environment variable holding "user:password" for basic
// authentication, so the password need not appear in argv.
const AuthEnv = "CHECK_HTTP_STATUS_AUTH"

// Plugin is check_http_status.
var Plugin = plugin.Plugin{
	Name:    "check_http_status",
	Service: "HTTP",
	Summary: "Check that HTTP(S) endpoints answer with the expected status, body and headers, in time",
	Usage:   "-u URL [-u URL...] | -H HOST [-p PORT] [-S] [--path PATH]  [-e CODES] [-s STRING] [--jq EXPR] [-w SECS] [-c SECS]",
	Group:   "HTTP check options",
	Help:    help,
	New:     func() plugin.Check { return &Options{} },
}

const help = `Status judgement (differs from check_http and check_curl):
  Without -e, 2xx and 3xx are OK and EVERY 4xx and 5xx is CRITICAL.
  check_http makes 4xx only WARNING; but a server answering 403 to every
  URL because the disk under it failed is an outage, not a warning.
  Use --warn-status to make chosen codes WARNING (e.g. --warn-status 429).
  -e takes codes, classes and ranges (200,204 / 2xx / 200-299), matched
  exactly: "-e 20" is an error, not a substring match on "520" as in
  check_http. A redirect that is not followed is judged by -e when given,
  else by --onredirect (default ok).

Other differences:
  TLS certificates are verified by default (chain and name); use
  --ca-file for a private CA or --insecure to skip. -C checks the
  certificate with a handshake only, without an HTTP request (a
  tarpitted URL cannot hide the certificate's state); add
  --continue-after-certificate to check both. size is the body only.
  Network failures say which phase failed: DNS, connect refused or
  timed out, TLS handshake (expired, self-signed, name mismatch), no
  first byte, body timeout. The request budget is 80% of -t.

Password: -a USER:PASS works but shows in ps; prefer --auth-file FILE
  (first line USER:PASS) or the environment variable ` + AuthEnv + `.
  Proxies: --proxy URL, else http_proxy/https_proxy/no_proxy from the
  environment; --no-proxy ignores both.

Examples:
  check_http_status -u https://www.example.org/
  check_http_status -H download.example.org --path /pub/index.html -e 200
  check_http_status -u http://127.0.0.1:15672/api/health/checks/alarms \
      --auth-file /etc/nagios/rabbit.auth --jq '.status == "ok"'
  check_http_status -u https://a.example/ -u https://b.example/ -w 0.5 -c 2
  check_http_status -H www.example.org -I 192.0.2.10 -S -C 30,14 --continue-after-certificate
  check_http_status -u https://api.example/v1 -j POST --data-file req.json \
      -k 'Content-Type: application/json' --expect-header 'Content-Type:json'`

// Options are check_http_status's options.
type Options struct {
	URLs    []string `short:"u" long:"url" value-name:"URL" description:"URL to check; repeat for several, checked concurrently. With -H, a value starting with / is the path (check_http style)"`
	Host    string   `short:"H" long:"hostname" value-name:"HOST[:PORT]" description:"Host name (virtual host) to build the URL from, monitoring-plugins style"`
	Port    Port     `short:"p" long:"port" base:"10" value-name:"PORT" description:"Port with -H (default 80, or 443 with -S or -C)"`
	SSL     bool     `short:"S" long:"ssl" description:"Use https with -H"`
	Path    string   `long:"path" value-name:"PATH" description:"Path with -H (default /)"`
	IP      Address  `short:"I" long:"ip" value-name:"ADDRESS" description:"Connect to this address (ADDR or ADDR:PORT) instead of resolving the host; Host header and SNI stay the URL's"`
	Resolve []string `long:"resolve" value-name:"HOST:PORT:ADDR" description:"As curl: connections to HOST:PORT go to ADDR; repeatable"`
	IPv4    bool     `short:"4" long:"ipv4" description:"Connect over IPv4 only"`
	IPv6    bool     `short:"6" long:"ipv6" description:"Connect over IPv6 only"`

	Expect     StatusSet `short:"e" long:"expect" value-name:"CODES" description:"Expected status codes, classes and ranges: 200,204 or 2xx or 200-299 (default: 2xx and 3xx OK, 4xx and 5xx CRITICAL)"`
	WarnStatus StatusSet `long:"warn-status" value-name:"CODES" description:"Status codes that are WARNING instead of CRITICAL, e.g. 429"`
	OnRedirect string    `short:"f" long:"onredirect" default:"ok" value-name:"MODE" description:"A redirect is ok, warning or critical, or follow it: follow, sticky (keep the address), stickyport (address and port)"`
	MaxRedirs  int       `long:"max-redirs" default:"15" base:"10" value-name:"N" description:"Redirects followed at most; more is CRITICAL"`

	String  string `short:"s" long:"string" value-name:"STRING" description:"String the body must contain"`
	Regex   string `short:"r" long:"regex" value-name:"REGEX" description:"Regular expression (RE2) the body must match"`
	RegexI  string `short:"R" long:"eregi" value-name:"REGEX" description:"As -r, case-insensitive"`
	Invert  bool   `long:"invert-regex" description:"CRITICAL when -r/-R matches instead of when it does not"`
	JQ      Expr   `long:"jq" value-name:"EXPR" description:"jq expression that must yield true on the JSON body, e.g. '.status == \"ok\"'"`
	MaxBody Size   `long:"max-body" default:"4MiB" value-name:"SIZE" description:"Read at most this much body; a larger body is read no further"`

	Headers      []string `short:"k" long:"header" value-name:"'NAME: VALUE'" description:"Request header to send; repeatable"`
	ExpectHeader []string `long:"expect-header" value-name:"NAME[:REGEX]" description:"Response header that must be present (and match REGEX); repeatable"`
	Method       Method   `short:"j" long:"method" value-name:"METHOD" description:"HTTP method (default GET, POST with -P/--data-file)"`
	Post         string   `short:"P" long:"post" value-name:"DATA" description:"Request body"`
	DataFile     string   `long:"data-file" value-name:"FILE" description:"Request body from a file"`
	ContentType  string   `short:"T" long:"content-type" value-name:"TYPE" description:"Content-Type of the request body (default application/x-www-form-urlencoded)"`
	UserAgent    string   `short:"A" long:"useragent" value-name:"STRING" description:"User-Agent header"`

	Warning  threshold.Range `short:"w" long:"warning" value-name:"SECONDS" description:"Total response time range that is WARNING"`
	Critical threshold.Range `short:"c" long:"critical" value-name:"SECONDS" description:"Total response time range that is CRITICAL"`

	CAFile       string   `long:"ca-file" value-name:"FILE" description:"Trust these PEM CA certificates instead of the system's"`
	Insecure     bool     `long:"insecure" description:"Do not verify the server certificate (chain and name)"`
	SNI          string   `long:"sni" optional:"yes" optional-value:"*" value-name:"NAME" description:"SNI is sent by default; --sni=NAME sends and verifies NAME instead of the host"`
	NoSNI        bool     `long:"no-sni" description:"Send no SNI (the certificate is still verified against the host)"`
	ClientCert   string   `short:"J" long:"client-cert" value-name:"FILE" description:"PEM client certificate"`
	ClientKey    string   `short:"K" long:"client-key" value-name:"FILE" description:"PEM key of the client certificate (default: in --client-cert)"`
	TLSMin       string   `long:"tls-min" default:"1.2" value-name:"VERSION" description:"Minimum TLS version: 1.0, 1.1, 1.2, 1.3"`
	Certificate  CertDays `short:"C" long:"certificate" value-name:"WARN[,CRIT]" description:"Days of certificate validity left that are WARNING, CRITICAL (CRIT default 0); checks only the certificate unless --continue-after-certificate"`
	ContinueCert bool     `long:"continue-after-certificate" description:"With -C, also check the HTTP answer"`

	Auth     string `short:"a" long:"authorization" value-name:"USER:PASS" description:"Basic authentication (visible in ps; prefer --auth-file or $CHECK_HTTP_STATUS_AUTH)"`
	AuthFile string `long:"auth-file" value-name:"FILE" description:"File whose first line is USER:PASS for basic authentication"`
	Proxy    string `long:"proxy" value-name:"URL" description:"Proxy (http://, https://, socks5://); default from http_proxy/https_proxy"`
	NoProxy  bool   `long:"no-proxy" description:"Use no proxy, ignoring the environment"`

	// Filled in by Validate.
	targets []target
	jq      *gojq.Code
	body    []byte
	regex   *regexpMatcher
	expectH []headerRule
}
