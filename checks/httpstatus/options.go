package httpstatus

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// Options are check_http_status's options: flags only. What Validate
// derives from them (targets, compiled patterns) is a plan, made again by
// Run; the files they name are read by gather.
type Options struct {
	URLs    []string `short:"u" long:"url" value-name:"URL" description:"URL to check; repeat for several, checked concurrently. With -H, a value starting with / is the path (check_http style)" unquote:"false"`
	Host    string   `short:"H" long:"hostname" value-name:"HOST[:PORT]" description:"Host name (virtual host) to build the URL from, monitoring-plugins style; its PORT is the URL's and the Host header's (none for 80, or 443 with TLS), and -p given as well is only where to connect, as check_curl" unquote:"false"`
	Port    Port     `short:"p" long:"port" base:"10" value-name:"PORT" description:"Port with -H (default 80, or 443 with -S or -C)" unquote:"false"`
	SSL     bool     `short:"S" long:"ssl" description:"Use https with -H"`
	Path    string   `long:"path" value-name:"PATH" description:"Path with -H (default /)" unquote:"false"`
	IP      Address  `short:"I" long:"ip" value-name:"ADDRESS" description:"Connect to this address (ADDR or ADDR:PORT) instead of resolving the URL's host and port, as --resolve does; Host header and SNI stay the URL's; a redirect to another host is resolved (-f follow) or kept here (sticky, stickyport)" unquote:"false"`
	Resolve []string `long:"resolve" value-name:"HOST:PORT:ADDR" description:"As curl: connections to HOST:PORT go to ADDR; repeatable" unquote:"false"`
	IPv4    bool     `short:"4" long:"ipv4" description:"Connect over IPv4 only"`
	IPv6    bool     `short:"6" long:"ipv6" description:"Connect over IPv6 only"`

	HTTPVersion string `long:"http-version" default:"auto" value-name:"1.0|1.1|2|auto" description:"HTTP version: auto is HTTP/2 when the server offers it over TLS (ALPN), else HTTP/1.1; 2 over http:// is h2c with prior knowledge; 1.0 to https:// through an https:// or socks5:// proxy is refused (net/http makes that TLS and writes HTTP/1.1)" unquote:"false"`

	Expect     StatusSet `short:"e" long:"expect" value-name:"CODES" description:"Expected status codes, classes and ranges: 200,204 or 2xx or 200-299 (default: 2xx and 3xx OK, 4xx and 5xx CRITICAL)" unquote:"false"`
	WarnStatus StatusSet `long:"warn-status" value-name:"CODES" description:"Status codes that are WARNING instead of CRITICAL, e.g. 429" unquote:"false"`
	OnRedirect string    `short:"f" long:"onredirect" default:"ok" value-name:"MODE" description:"A redirect is ok, warning or critical, or follow it: follow, sticky (keep the address), stickyport (address and port)" unquote:"false"`
	MaxRedirs  int       `long:"max-redirs" default:"15" base:"10" value-name:"N" description:"Redirects followed at most; more is CRITICAL" unquote:"false"`

	String  string   `short:"s" long:"string" value-name:"STRING" description:"String the body must contain" unquote:"false"`
	Regex   string   `short:"r" long:"regex" value-name:"REGEX" description:"Regular expression (RE2) the body must match; ^ and $ match at each line, as the peers' REG_NEWLINE" unquote:"false"`
	RegexI  string   `short:"R" long:"eregi" value-name:"REGEX" description:"As -r, case-insensitive" unquote:"false"`
	Span    bool     `short:"l" long:"linespan" description:"-r/-R span lines: . matches a newline, ^ and $ only the ends of the body"`
	Invert  bool     `long:"invert-regex" description:"--state-regex when -r/-R matches instead of when it does not"`
	StateRe State    `long:"state-regex" value-name:"STATE" description:"State when -r/-R fails: critical (default) or warning" unquote:"false"`
	JQ      Expr     `long:"jq" value-name:"EXPR" description:"jq expression that must yield true on the JSON body, e.g. '.status == \"ok\"'; a body of several JSON values is judged each, every result must be true (jq -e looks only at the last)" unquote:"false"`
	JQMsg   Expr     `long:"jq-message" value-name:"EXPR" description:"jq expression whose result, when the state is not OK, is shown as the server's reason, e.g. .reason" unquote:"false"`
	Header  string   `short:"d" long:"header-string" value-name:"STRING" description:"String the response headers must contain (status line included, as curl shows it: 'HTTP/2 200'; case-insensitive)" unquote:"false"`
	Pages   PageSize `short:"m" long:"pagesize" value-name:"MIN[:MAX]" description:"Body size in bytes outside MIN..MAX is WARNING" unquote:"false"`
	MaxAge  Age      `short:"M" long:"max-age" value-name:"SECONDS" description:"A document older than this (from Last-Modified) is CRITICAL; 90, 30m, 2h, 1d" unquote:"false"`
	MaxBody Size     `long:"max-body" default:"4MiB" value-name:"SIZE" description:"Read at most this much body; a larger body is read no further" unquote:"false"`

	Headers      []string `short:"k" long:"header" value-name:"'NAME: VALUE'" description:"Request header to send; repeatable" unquote:"false"`
	ExpectHeader []string `long:"expect-header" value-name:"NAME[:REGEX]" description:"Response header that must be present (and match REGEX); repeatable" unquote:"false"`
	Method       Method   `short:"j" long:"method" value-name:"METHOD" description:"HTTP method (default GET, POST with -P/--data-file)" unquote:"false"`
	Post         string   `short:"P" long:"post" value-name:"DATA" description:"Request body" unquote:"false"`
	DataFile     string   `long:"data-file" value-name:"FILE" description:"Request body from a file" unquote:"false"`
	ContentType  string   `short:"T" long:"content-type" value-name:"TYPE" description:"Content-Type of the request body (default application/x-www-form-urlencoded)" unquote:"false"`
	UserAgent    string   `short:"A" long:"useragent" value-name:"STRING" description:"User-Agent header" unquote:"false"`

	Warning  threshold.Range `short:"w" long:"warning" value-name:"SECONDS" description:"Total response time range that is WARNING" unquote:"false"`
	Critical threshold.Range `short:"c" long:"critical" value-name:"SECONDS" description:"Total response time range that is CRITICAL" unquote:"false"`

	CAFile       string   `long:"ca-file" value-name:"FILE" description:"Trust these PEM CA certificates instead of the system's" unquote:"false"`
	Insecure     bool     `long:"insecure" description:"Do not verify the server certificate (chain and name)"`
	SNI          string   `long:"sni" optional:"yes" optional-value:"*" value-name:"NAME" description:"SNI is sent by default; --sni=NAME sends and verifies NAME instead of the host" unquote:"false"`
	NoSNI        bool     `long:"no-sni" description:"Send no SNI (the certificate is still verified against the host)"`
	ClientCert   string   `short:"J" long:"client-cert" value-name:"FILE" description:"PEM client certificate" unquote:"false"`
	ClientKey    string   `short:"K" long:"client-key" value-name:"FILE" description:"PEM key of the client certificate (default: in --client-cert)" unquote:"false"`
	TLSMin       string   `long:"tls-min" default:"1.2" value-name:"VERSION" description:"Minimum TLS version: 1.0, 1.1, 1.2, 1.3" unquote:"false"`
	Certificate  CertDays `short:"C" long:"certificate" value-name:"WARN[,CRIT]" description:"Days of certificate validity left that are WARNING, CRITICAL (CRIT default 0); checks only the certificate unless --continue-after-certificate" unquote:"false"`
	ContinueCert bool     `long:"continue-after-certificate" description:"With -C, also check the HTTP answer"`

	Auth     string `short:"a" long:"authorization" value-name:"USER:PASS" description:"Basic authentication (visible in ps; prefer --auth-file or $CHECK_HTTP_STATUS_AUTH)" unquote:"false"`
	AuthFile string `long:"auth-file" value-name:"FILE" description:"File whose first line is USER:PASS for basic authentication" unquote:"false"`
	Proxy    string `long:"proxy" value-name:"URL" description:"Proxy (http://, https://, socks5://); default from http_proxy/https_proxy" unquote:"false"`
	NoProxy  bool   `long:"no-proxy" description:"Use no proxy, ignoring the environment"`
	Bypass   string `long:"noproxy" value-name:"LIST" description:"As curl: hosts, domains, IP addresses and CIDR ranges reached without the proxy, comma-separated; * for all" unquote:"false"`
	Jar      string `long:"cookie-jar" value-name:"FILE" description:"Send the cookies of FILE and store those received in it (Netscape format, as curl)" unquote:"false"`
}

// Validate checks the options and prepares what Run needs, so that bad
// input is an UNKNOWN naming the option before any request is made.
func (o *Options) Validate() error {
	if o.IPv4 && o.IPv6 {
		return errors.New("-4 and -6 exclude each other")
	}
	if o.NoSNI && o.SNI != "" && o.SNI != "*" {
		return errors.New("--sni=NAME and --no-sni exclude each other")
	}
	if o.Insecure && o.CAFile != "" {
		return errors.New("--insecure and --ca-file exclude each other")
	}
	if o.ContinueCert && !o.Certificate.Set {
		return errors.New("--continue-after-certificate goes with -C: without it the answer is checked anyway")
	}
	if o.Host != "" {
		if err := checkAddress(o.Host); err != nil {
			return fmt.Errorf("invalid -H %q: %w", redactRaw(o.Host), err)
		}
	}
	if err := o.checkRequestText(); err != nil {
		return err
	}
	switch o.OnRedirect {
	case "ok", "warning", "critical", "follow", "sticky", "stickyport":
	default:
		return fmt.Errorf("invalid --onredirect %q: use ok, warning, critical, follow, sticky or stickyport", o.OnRedirect)
	}
	if o.MaxRedirs < 0 {
		return fmt.Errorf("invalid --max-redirs %d: must be 0 or more", o.MaxRedirs)
	}
	if _, err := httpprobe.ParseVersion(o.HTTPVersion); err != nil {
		return fmt.Errorf("--http-version: %w", err)
	}
	if _, err := httpprobe.ParseTLSVersion(o.TLSMin); err != nil {
		return fmt.Errorf("--tls-min: %w", err)
	}
	if o.Post != "" && o.DataFile != "" {
		return errors.New("-P/--post and --data-file exclude each other")
	}
	if err := o.checkPeerOptions(); err != nil {
		return err
	}
	if o.Auth != "" && !strings.Contains(o.Auth, ":") {
		return errors.New("-a must be USER:PASSWORD") // the value itself is never echoed
	}
	if o.ClientKey != "" && o.ClientCert == "" {
		return errors.New("--client-key needs --client-cert")
	}
	if o.MaxBody == 0 {
		o.MaxBody = 4 << 20
	}
	for _, h := range o.Headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("invalid header %q: use 'Name: value'", headerForMessage(h))
		}
	}
	for _, r := range o.Resolve {
		if _, _, err := parseResolve(r); err != nil {
			return err
		}
	}
	if o.Proxy != "" {
		if _, err := parseProxy(o.Proxy); err != nil {
			return err
		}
	}
	_, err := o.plan() // made again by Run: the option struct holds flags only
	return err
}

// checkRequestText refuses header values that would end the header line
// (CR, LF, other control characters): caught here, the message names the
// option; at request time it would be a CRITICAL about the server.
func (o *Options) checkRequestText() error {
	for _, h := range o.Headers {
		if badHeaderValue(h) {
			return fmt.Errorf("invalid -k %q: control characters (CR, LF) cannot be sent in a header", headerForMessage(h))
		}
	}
	if badHeaderValue(o.UserAgent) {
		return fmt.Errorf("invalid -A %q: control characters (CR, LF) cannot be sent in a header", o.UserAgent)
	}
	if badHeaderValue(o.ContentType) {
		return fmt.Errorf("invalid -T %q: control characters (CR, LF) cannot be sent in a header", o.ContentType)
	}
	return nil
}

// sensitiveHeader reports whether a request header carries credentials:
// its value is registered as a secret and never echoed in a message.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range []string{"token", "key", "secret", "auth", "password", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// headerForMessage is a -k value as a message may show it: the value of
// a header carrying credentials is masked.
func headerForMessage(h string) string {
	name, _, ok := strings.Cut(h, ":")
	if ok && sensitiveHeader(name) {
		return name + ": " + plugin.Masked
	}
	return h
}

// parseProxy parses --proxy. The message never shows a password the
// value may hold.
func parseProxy(s string) (*url.URL, error) {
	p, err := netproxy.ParseTransport(s)
	if err != nil {
		return nil, fmt.Errorf("invalid --proxy %q: %w", redactRaw(s), err)
	}
	return p, nil
}

// redactRaw masks the password of a URL-like text that may not parse:
// what lies between "://" and the last "@", but a user name before ":".
// Over-masking a message about a broken URL costs nothing; printing a
// password does.
func redactRaw(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		i = -3
	}
	rest := s[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s[:i+3] + plugin.Masked + rest[at:]
	}
	return s[:i+3] + user + ":" + plugin.Masked + rest[at:]
}
