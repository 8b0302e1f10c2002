package httpstatus

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// The options check_http and check_curl have with their meaning there:
// -d, -m, -M, -l, --state-regex, --noproxy (and --cookie-jar, read and
// written by gather_cookies.go).

// checkPeerOptions refuses combinations the peers' options cannot mean.
func (o *Options) checkPeerOptions() error {
	hasRegex := o.Regex != "" || o.RegexI != ""
	switch {
	case o.Invert && !hasRegex:
		return errors.New("--invert-regex needs -r or -R")
	case o.StateRe.Set && !hasRegex:
		return errors.New("--state-regex needs -r or -R")
	case o.Span && !hasRegex:
		return errors.New("-l/--linespan needs -r or -R")
	case o.Header != "" && badHeaderValue(o.Header):
		return errors.New("invalid -d: control characters (CR, LF) cannot be in a header")
	}
	max := int64(o.MaxBody)
	if max == 0 {
		max = 4 << 20
	}
	if o.Pages.Min > max || o.Pages.HasMax && o.Pages.Max >= max {
		return fmt.Errorf("-m %s: the body is read up to --max-body %s only; raise --max-body", o.Pages, Size(max))
	}
	return nil
}

// regexFlags makes -r/-R mean what they mean to the peers, which compile
// with REG_NEWLINE: ^ and $ match at each line, . does not match a
// newline. -l (--linespan) drops REG_NEWLINE: . matches a newline, ^ and
// $ only the ends of the body.
func (o *Options) regexFlags() string {
	if o.Span {
		return "(?s)"
	}
	return "(?m)"
}

// regexState is the state of a failed -r/-R.
func (o *Options) regexState() plugin.State {
	if o.StateRe.Set {
		return o.StateRe.State
	}
	return plugin.CRITICAL
}

func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, err
	}
	return gojq.Compile(q)
}

// State is --state-regex: critical or warning, in any case, as
// check_curl takes it.
type State struct {
	State plugin.State
	Set   bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (s *State) UnmarshalFlag(v string) error {
	switch strings.ToLower(v) {
	case "critical":
		*s = State{plugin.CRITICAL, true}
	case "warning":
		*s = State{plugin.WARNING, true}
	default:
		return fmt.Errorf("invalid state %q: use critical or warning", v)
	}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (s State) MarshalFlag() (string, error) {
	if !s.Set {
		return "", nil
	}
	return strings.ToLower(s.State.String()), nil
}

// PageSize is -m MIN[:MAX] in bytes, as check_http: a lone number is the
// minimum (check_curl reads it as a Nagios range, where it would be the
// maximum; check_http's meaning is the older and the documented one).
type PageSize struct {
	Min, Max int64
	HasMax   bool
	Set      bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (p *PageSize) UnmarshalFlag(v string) error {
	lo, hi, hasMax := strings.Cut(v, ":")
	bad := fmt.Errorf("invalid page size %q: use MIN[:MAX] in bytes, e.g. 512 or 512:65536", v)
	out := PageSize{HasMax: hasMax, Set: true}
	var err error
	if lo != "" || !hasMax {
		if out.Min, err = bytesCount(lo); err != nil {
			return bad
		}
	}
	if hasMax {
		if out.Max, err = bytesCount(hi); err != nil || out.Max < out.Min {
			return bad
		}
	}
	*p = out
	return nil
}

func bytesCount(s string) (int64, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("not a count")
	}
	return strconv.ParseInt(s, 10, 64)
}

// MarshalFlag implements flags.Marshaler.
func (p PageSize) MarshalFlag() (string, error) { return p.String(), nil }

func (p PageSize) String() string {
	if !p.Set {
		return ""
	}
	s := strconv.FormatInt(p.Min, 10)
	if p.HasMax {
		s += ":" + strconv.FormatInt(p.Max, 10)
	}
	return s
}

// Outside reports whether n bytes are outside the range.
func (p PageSize) Outside(n int64) bool {
	return p.Set && (n < p.Min || p.HasMax && n > p.Max)
}

// Age is -M: seconds, or a number with s, m, h or d, as check_curl.
type Age struct {
	D   time.Duration
	Set bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (a *Age) UnmarshalFlag(v string) error {
	unit := time.Second
	n := v
	if k := len(v); k > 0 {
		switch v[k-1] {
		case 's':
			n = v[:k-1]
		case 'm':
			unit, n = time.Minute, v[:k-1]
		case 'h':
			unit, n = time.Hour, v[:k-1]
		case 'd':
			unit, n = 24*time.Hour, v[:k-1]
		}
	}
	c, err := bytesCount(n)
	if err != nil || c > int64(100*365*24*time.Hour/unit) {
		return fmt.Errorf("invalid age %q: use seconds, or e.g. 30m, 2h, 1d", v)
	}
	*a = Age{D: time.Duration(c) * unit, Set: true}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (a Age) MarshalFlag() (string, error) {
	if !a.Set {
		return "", nil
	}
	return strconv.FormatInt(int64(a.D/time.Second), 10), nil
}

// bypassProxy wraps a proxy choice with --noproxy: a request to a host
// the list names goes direct.
func bypassProxy(next func(*http.Request) (*url.URL, error), list string) func(*http.Request) (*url.URL, error) {
	if next == nil || list == "" {
		return next
	}
	return func(r *http.Request) (*url.URL, error) {
		if noProxyMatch(list, r.URL.Hostname()) {
			return nil, nil
		}
		return next(r)
	}
}

// noProxyMatch is curl's NOPROXY: "*" alone matches every host; a name
// matches itself and its subdomains (a leading dot is optional); an IP
// address matches itself; ADDR/BITS matches the addresses in the range.
// Entries that are none of these (a mistyped address) match nothing, as
// curl ignores them.
func noProxyMatch(list, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	ip, ipErr := netip.ParseAddr(host)
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		e = strings.Trim(e, "[]")
		switch {
		case e == "":
		case e == "*":
			return true
		case strings.Contains(e, "/"):
			if p, err := netip.ParsePrefix(e); err == nil && ipErr == nil && p.Contains(ip) {
				return true
			}
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				if ipErr == nil && a == ip {
					return true
				}
				continue
			}
			e = strings.TrimSuffix(strings.TrimPrefix(e, "."), ".")
			if host == e || strings.HasSuffix(host, "."+e) {
				return true
			}
		}
	}
	return false
}
