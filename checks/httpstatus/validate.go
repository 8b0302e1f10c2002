package httpstatus

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
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
	if o.Host != "" {
		if err := checkAddress(o.Host); err != nil {
			return fmt.Errorf("invalid -H %q: %w", o.Host, err)
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
		return fmt.Errorf("invalid --max-redirs %d", o.MaxRedirs)
	}
	if _, err := httpprobe.ParseTLSVersion(o.TLSMin); err != nil {
		return fmt.Errorf("--tls-min: %w", err)
	}
	if o.Post != "" && o.DataFile != "" {
		return errors.New("-P/--post and --data-file exclude each other")
	}
	if o.Invert && o.Regex == "" && o.RegexI == "" {
		return errors.New("--invert-regex needs -r or -R")
	}
	if o.Auth != "" && !strings.Contains(o.Auth, ":") {
		return errors.New("-a must be USER:PASSWORD") // the value itself is never echoed
	}
	if o.MaxBody == 0 {
		o.MaxBody = 4 << 20
	}
	if err := o.buildTargets(); err != nil {
		return err
	}
	if err := o.compileBodyChecks(); err != nil {
		return err
	}
	for _, h := range o.Headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("invalid header %q: use 'Name: value'", h)
		}
	}
	for _, r := range o.ExpectHeader {
		name, re, hasRe := strings.Cut(r, ":")
		rule := headerRule{name: http.CanonicalHeaderKey(strings.TrimSpace(name)), text: r}
		if rule.name == "" {
			return fmt.Errorf("invalid --expect-header %q: use NAME[:REGEX]", r)
		}
		if hasRe {
			c, err := regexp.Compile(strings.TrimSpace(re))
			if err != nil {
				return fmt.Errorf("invalid --expect-header %q: %v", r, err)
			}
			rule.re = c
		}
		o.expectH = append(o.expectH, rule)
	}
	for _, r := range o.Resolve {
		if _, _, err := parseResolve(r); err != nil {
			return err
		}
	}
	if o.DataFile != "" {
		b, err := os.ReadFile(o.DataFile)
		if err != nil {
			return fmt.Errorf("--data-file: %w", err)
		}
		o.body = b
	} else if o.Post != "" {
		o.body = []byte(o.Post)
	}
	return nil
}

// checkRequestText refuses header values that would end the header line
// (CR, LF, other control characters): caught here, the message names the
// option; at request time it would be a CRITICAL about the server.
func (o *Options) checkRequestText() error {
	for _, h := range o.Headers {
		if badHeaderValue(h) {
			return fmt.Errorf("invalid -k %q: control characters (CR, LF) cannot be sent in a header", h)
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

func (o *Options) compileBodyChecks() error {
	switch {
	case o.Regex != "" && o.RegexI != "":
		return errors.New("-r and -R exclude each other")
	case o.Regex != "":
		re, err := regexp.Compile(o.Regex)
		if err != nil {
			return fmt.Errorf("invalid -r %q: %v", o.Regex, err)
		}
		o.regex = &regexpMatcher{re: re, text: o.Regex}
	case o.RegexI != "":
		re, err := regexp.Compile("(?i)" + o.RegexI)
		if err != nil {
			return fmt.Errorf("invalid -R %q: %v", o.RegexI, err)
		}
		o.regex = &regexpMatcher{re: re, text: o.RegexI}
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
		o.jq = code
	}
	return nil
}

// buildTargets turns -u and -H/-p/-S/--path/-I into URLs.
func (o *Options) buildTargets() error {
	hostStyle := o.Host != "" || o.Port != 0 || o.Path != ""
	scheme := "http"
	if o.SSL || o.Certificate.Set {
		scheme = "https"
	}
	var raw []string
	for _, u := range o.URLs {
		if strings.HasPrefix(u, "/") {
			base, err := o.hostURL(scheme, u)
			if err != nil {
				return err
			}
			raw = append(raw, base)
			continue
		}
		if hostStyle {
			return fmt.Errorf("-u %s is a full URL: put host, port and path in it, or use -u /PATH with -H", u)
		}
		if !strings.Contains(u, "://") {
			u = scheme + "://" + u
		}
		raw = append(raw, u)
	}
	if len(o.URLs) == 0 {
		if o.Host == "" && o.IP == "" {
			return errors.New("no target: give -u URL or -H HOST")
		}
		path := o.Path
		if path == "" {
			path = "/"
		}
		base, err := o.hostURL(scheme, path)
		if err != nil {
			return err
		}
		raw = append(raw, base)
	}
	names := map[string]int{}
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil {
			return fmt.Errorf("invalid URL %q: %v", r, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("invalid URL %q: scheme must be http or https", r)
		}
		if u.Hostname() == "" {
			return fmt.Errorf("invalid URL %q: no host", r)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("invalid URL %q: bad port", r)
			}
		}
		if u.Path == "" {
			u.Path = "/"
		}
		name := u.Host + u.EscapedPath()
		if u.RawQuery != "" {
			name += "?" + u.RawQuery
		}
		names[name]++
		if n := names[name]; n > 1 {
			name += "#" + strconv.Itoa(n)
		}
		o.targets = append(o.targets, target{url: u, name: name})
	}
	return nil
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

// hostURL builds scheme://HOST[:PORT]PATH from -H (or -I) and -p.
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
	if o.Port != 0 {
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

// parseResolve splits curl's HOST:PORT:ADDR ("[::1]" allowed for ADDR).
func parseResolve(s string) (hostport, addr string, err error) {
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
