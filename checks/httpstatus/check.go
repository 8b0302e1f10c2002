// Package httpstatus is check_http_status: the endpoint answers right,
// fast, and for the right reason. It catches a web server answering 403
// to everything from a failed disk (postmortem 001), a health endpoint
// saying it is unhealthy (002), and a service that is up but whose answers
// never come back (003).
//
// options*.go hold the flags and what Validate derives from them (the
// targets, compiled patterns); gather*.go reads the files the options
// name through the runtime's file source and makes the requests;
// judge.go turns the answers into the result without touching the host.
package httpstatus

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// AuthEnv is the environment variable holding "user:password" for basic
// authentication, so the password need not appear in argv.
const AuthEnv = "CHECK_HTTP_STATUS_AUTH"

// Plugin is check_http_status.
var Plugin = plugin.Plugin{
	Name:    "check_http_status",
	Service: "HTTP",
	Summary: "Check that HTTP(S) endpoints answer with the expected status, body and headers, in time",
	Usage:   "-u URL [-u URL...] | -H HOST [-p PORT] [-S] [--path PATH] [-e CODES] [-s STRING] [--jq EXPR] [-w SECS] [-c SECS]",
	Group:   "HTTP check options",
	Help:    help,
	New:     New,
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
  HTTP/2 is used when the server offers it over TLS (ALPN), as curl
  does; --http-version 1.0, 1.1 or 2 forces one (2 over http:// is h2c
  with prior knowledge); -v shows the version used.
  -f sticky follows a redirect but keeps connecting to the first
  address (the Location's port); stickyport keeps the port too. Only
  http and https Locations are followed.

A drop-in for check_http and check_curl: their options mean what they
  mean there (-d, -m, -M, -l, --state-regex, --noproxy, --cookie-jar
  too), but for the differences above and these:
  -m MIN[:MAX] is check_http's (a lone number is the minimum) and counts
  the body only; -d searches the status line and headers, ignoring case.
  -M ages Last-Modified against the server's Date, as the peers; without
  Last-Modified, the Date against our clock (the peers: CRITICAL).
  -r/-R are RE2 (no backreferences); ^ and $ match at each line (the
  peers' REG_NEWLINE), -l makes . match a newline.
  --cookie-jar FILE is curl's format, rewritten 0600, at most 256 cookies.

When the state is not OK, the first line ends with the server's reason:
  --jq-message EXPR's result (a string, or JSON), else, for an error
  status or a failed --jq, a JSON body's reason, message or error field,
  or a short excerpt of a text body (an HTML page's title).

Password: -a USER:PASS works but shows in ps; prefer --auth-file FILE
  (first line USER:PASS) or the environment variable ` + AuthEnv + `.
  Proxies: --proxy URL, else http_proxy/https_proxy/no_proxy from the
  environment; --no-proxy ignores both. Through a proxy, -I and --resolve
  say where an http:// proxy's tunnel for an https URL goes (as -C); a
  plain-http request or a SOCKS proxy reaches the URL's host itself. A
  proxy variable that is not a proxy URL is UNKNOWN naming it. Under CGI
  (REQUEST_METHOD set) HTTP_PROXY is ignored (httpoxy): set http_proxy.

Examples:
  check_http_status -u https://www.example.org/
  check_http_status -H download.example.org --path /pub/index.html -e 200
  check_http_status -u https://a.example/ -u https://b.example/ -w 0.5 -c 2
  check_http_status -H www.example.org -I 192.0.2.10 -S -C 30,14 \
      --continue-after-certificate
  check_http_status -u https://example.org/feed.xml -M 1d -m 512:1048576

RabbitMQ (management plugin; postmortem 002): the cluster's alarms, this
node's alarms, and a message through the default vhost. CRITICAL says
"server says 'There are alarms in effect in the cluster: memory'":
  check_http_status -u http://127.0.0.1:15672/api/health/checks/alarms \
      --auth-file /etc/nagios/rabbit.auth --jq '.status == "ok"' \
      --jq-message '.reason + ": " + ([.alarms[].resource] | join(","))'
  check_http_status -u http://127.0.0.1:15672/api/health/checks/local-alarms \
      --auth-file /etc/nagios/rabbit.auth --jq '.status == "ok"'
  check_http_status -u http://127.0.0.1:15672/api/aliveness-test/%2F \
      --auth-file /etc/nagios/rabbit.auth --jq '.status == "ok"'
  check_http_status -u https://api.example/v1 -j POST --data-file req.json \
      -k 'Content-Type: application/json' --expect-header 'Content-Type:json'`

// New returns check_http_status's options, to be filled in by the runtime.
func New() plugin.Check { return &Options{} }

// Run checks every target concurrently and judges each.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	p, err := o.plan()
	if err != nil {
		return plugin.Result{}, err
	}
	obs, err := gather(ctx, env, o, p)
	if err != nil {
		return plugin.Result{}, err
	}
	return judge(o, p, obs), nil
}
