package httpstatus

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// target is one URL to check.
type target struct {
	url  *url.URL
	name string // short, for perfdata labels with several URLs
}

type regexpMatcher struct {
	re   *regexp.Regexp
	text string
}

type headerRule struct {
	name string
	re   *regexp.Regexp // nil: presence is enough
	text string
}

// plan is what the options make of themselves, without I/O: the URLs to
// check and the compiled body and header checks. Validate makes it to
// refuse bad options before the run; Run makes it again to use it.
type plan struct {
	targets []target
	jq      *gojq.Code
	jqMsg   *gojq.Code // --jq-message
	regex   *regexpMatcher
	expectH []headerRule
}

func (o *Options) plan() (*plan, error) {
	p := &plan{}
	var err error
	if p.targets, err = o.buildTargets(); err != nil {
		return nil, err
	}
	if err := o.compileBodyChecks(p); err != nil {
		return nil, err
	}
	for _, r := range o.ExpectHeader {
		name, re, hasRe := strings.Cut(r, ":")
		rule := headerRule{name: http.CanonicalHeaderKey(strings.TrimSpace(name)), text: r}
		if rule.name == "" {
			return nil, fmt.Errorf("invalid --expect-header %q: use NAME[:REGEX]", r)
		}
		if hasRe {
			c, err := regexp.Compile(strings.TrimSpace(re))
			if err != nil {
				return nil, fmt.Errorf("invalid --expect-header %q: %v", r, err)
			}
			rule.re = c
		}
		p.expectH = append(p.expectH, rule)
	}
	return p, nil
}

func (o *Options) compileBodyChecks(p *plan) error {
	switch {
	case o.Regex != "" && o.RegexI != "":
		return errors.New("-r and -R exclude each other")
	case o.Regex != "":
		re, err := regexp.Compile(o.regexFlags() + o.Regex)
		if err != nil {
			return fmt.Errorf("invalid -r %q: %v", o.Regex, err)
		}
		p.regex = &regexpMatcher{re: re, text: o.Regex}
	case o.RegexI != "":
		re, err := regexp.Compile(o.regexFlags() + "(?i)" + o.RegexI)
		if err != nil {
			return fmt.Errorf("invalid -R %q: %v", o.RegexI, err)
		}
		p.regex = &regexpMatcher{re: re, text: o.RegexI}
	}
	if o.JQ != "" {
		q, err := gojq.Parse(string(o.JQ))
		if err != nil {
			return fmt.Errorf("invalid --jq %q: %v", o.JQ, err)
		}
		code, err := gojq.Compile(q)
		if err != nil {
			return fmt.Errorf("invalid --jq %q: %v", o.JQ, err)
		}
		p.jq = code
	}
	if o.JQMsg != "" {
		code, err := compileJQ(string(o.JQMsg))
		if err != nil {
			return fmt.Errorf("invalid --jq-message %q: %v", o.JQMsg, err)
		}
		p.jqMsg = code
	}
	return nil
}

// buildTargets turns -u and -H/-p/-S/--path/-I into URLs. Messages show
// a URL's password masked, also when the URL does not parse.
func (o *Options) buildTargets() ([]target, error) {
	hostStyle := o.Host != "" || o.Port != 0 || o.Path != ""
	scheme := "http"
	if o.SSL || o.Certificate.Set || o.ClientCert != "" { // -J implies TLS, as in check_http
		scheme = "https"
	}
	var raw []string
	for _, u := range o.URLs {
		if strings.TrimSpace(u) == "" {
			return nil, errors.New("-u: the URL is empty")
		}
		if strings.HasPrefix(u, "/") {
			base, err := o.hostURL(scheme, u)
			if err != nil {
				return nil, err
			}
			raw = append(raw, base)
			continue
		}
		if hostStyle {
			return nil, fmt.Errorf("-u %s is a full URL: put host, port and path in it, or use -u /PATH with -H", redactRaw(u))
		}
		if o.SSL && len(u) >= 7 && strings.EqualFold(u[:7], "http://") {
			return nil, fmt.Errorf("-S asks for https, but -u %s is an http:// URL: use https:// (or drop -S)", redactRaw(u))
		}
		if !strings.Contains(u, "://") {
			u = scheme + "://" + u
		}
		raw = append(raw, u)
	}
	if len(o.URLs) == 0 {
		if o.Host == "" && o.IP == "" {
			return nil, errors.New("no target: give -u URL or -H HOST")
		}
		path := o.Path
		if path == "" {
			path = "/"
		}
		base, err := o.hostURL(scheme, path)
		if err != nil {
			return nil, err
		}
		raw = append(raw, base)
	}
	var targets []target
	names := map[string]int{}
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("invalid URL %q: %s", redactRaw(r), parseProblem(r, err))
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("invalid URL %q: scheme must be http or https", u.Redacted())
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("invalid URL %q: no host", u.Redacted())
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("invalid URL %q: bad port", u.Redacted())
			}
		}
		if u.Path == "" {
			u.Path = "/"
		}
		if p := u.Port(); p == "80" && u.Scheme == "http" || p == "443" && u.Scheme == "https" {
			u.Host = strings.TrimSuffix(u.Host, ":"+p) // Host: name, not name:80, as the peers and curl send
		}
		name := u.Host + u.EscapedPath()
		if u.RawQuery != "" {
			name += "?" + u.RawQuery
		}
		names[name]++
		if n := names[name]; n > 1 {
			name += "#" + strconv.Itoa(n)
		}
		targets = append(targets, target{url: u, name: name})
	}
	return targets, nil
}

// parseProblem is what url.Parse found wrong with raw, without the URL
// (the message shows it, masked). When raw has user info, the problem's
// quote of the input is left out: "invalid port \":pa\"" may be part of
// a password holding a "/".
func parseProblem(raw string, err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "not a URL"
	}
	msg := ue.Err.Error()
	if strings.Contains(raw, "@") {
		if before, _, ok := strings.Cut(msg, "\""); ok {
			msg = strings.TrimSpace(before)
		}
	}
	return msg
}

// ipIsHost reports whether -I stands in for -H, the URLs being built
// from it; with a full -u URL it is where that URL's connections go.
func (o *Options) ipIsHost() bool {
	if o.Host != "" {
		return false
	}
	for _, u := range o.URLs {
		if !strings.HasPrefix(u, "/") {
			return false
		}
	}
	return true
}

// hostURL builds scheme://HOST[:PORT]PATH from -H (or -I) and -p. As in
// check_curl, a port in -H is the virtual port: the URL's, and so the
// Host header's (none when it is the scheme's default, buildTargets
// drops it), while -p given as well says only where connections go (see
// virtualPortRoute). The URL shown is then the one requested.
func (o *Options) hostURL(scheme, path string) (string, error) {
	host := o.Host
	if host == "" {
		host = string(o.IP)
	}
	if host == "" {
		return "", fmt.Errorf("-u %s is a path: give -H HOST (or a full URL)", path)
	}
	port := ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		host, port = h, p
	}
	if o.Port != 0 && (port == "" || o.Host == "") {
		port = strconv.Itoa(int(o.Port))
	}
	u := &url.URL{Scheme: scheme, Host: host, Path: path}
	if strings.Contains(host, ":") {
		u.Host = "[" + strings.Trim(host, "[]") + "]"
	}
	if port != "" {
		u.Host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	if p, q, ok := strings.Cut(path, "?"); ok {
		u.Path, u.RawQuery = p, q
	}
	return u.String(), nil
}

// virtualPortRoute is where connections for -H HOST:VPORT go when -p
// gives another port: the address --resolve gives HOST:VPORT, else -I,
// else HOST, on the -p port, as check_curl connects. It maps HOST:VPORT
// only, as --resolve does, so a redirect elsewhere goes where its
// Location says. ok is false without both ports.
func (o *Options) virtualPortRoute(resolve map[string]string) (hostport, addr string, ok bool) {
	host, vport, err := net.SplitHostPort(o.Host)
	if err != nil || o.Port == 0 || vport == strconv.Itoa(int(o.Port)) {
		return "", "", false
	}
	hostport = strings.ToLower(net.JoinHostPort(host, vport))
	to := resolve[hostport]
	if to == "" {
		to = string(o.IP)
	}
	if to == "" {
		to = host
	}
	if _, _, err := net.SplitHostPort(to); err != nil { // -I ADDR:PORT keeps its port, as without -H's
		to = net.JoinHostPort(strings.Trim(to, "[]"), strconv.Itoa(int(o.Port)))
	}
	return hostport, to, true
}

// parseResolve splits curl's HOST:PORT:ADDR ("[::1]" allowed for ADDR).
func parseResolve(s string) (hostport, addr string, err error) {
	if strings.Contains(s, "@") {
		return "", "", fmt.Errorf("invalid --resolve %q: use HOST:PORT:ADDR, without user or password", redactRaw(s))
	}
	host, rest, ok := strings.Cut(s, ":")
	port, addr, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || host == "" || addr == "" {
		return "", "", fmt.Errorf("invalid --resolve %q: use HOST:PORT:ADDR", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("invalid --resolve %q: bad port %q", s, port)
	}
	ip := strings.Trim(addr, "[]")
	if net.ParseIP(ip) == nil {
		return "", "", fmt.Errorf("invalid --resolve %q: %q is not an IP address", s, addr)
	}
	return net.JoinHostPort(host, port), ip, nil
}
