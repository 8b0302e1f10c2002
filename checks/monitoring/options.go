package monitoring

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// Options are check_monitoring's options: flags only.
type Options struct {
	NagiosConfig       string             `long:"nagios-config" value-name:"FILE" description:"Nagios 4 or Naemon main configuration, for the status file, log and status_update_interval (default: Debian's when it exists)" unquote:"false"`
	NagiosStatus       string             `long:"nagios-status" value-name:"FILE" description:"Nagios 4 or Naemon status.dat (default: status_file of the configuration)" unquote:"false"`
	NagiosLog          string             `long:"nagios-log" value-name:"FILE" description:"Nagios log, for failed notification commands (default: log_file of the configuration)" unquote:"false"`
	IcingaAPI          string             `long:"icinga-api" value-name:"URL" description:"Icinga 2 REST API, e.g. https://127.0.0.1:5665" unquote:"false"`
	IcingaLog          string             `long:"icinga-log" value-name:"FILE" description:"Icinga 2 main log, for failed notification commands (default: Debian's when the API is on this host)" unquote:"false"`
	APIUser            string             `long:"api-user" default:"root" value-name:"NAME" description:"Icinga 2 API user" unquote:"false"`
	APIPasswordFile    string             `long:"api-password-file" value-name:"FILE" description:"File whose first line is the API user's password" unquote:"false"`
	APIPasswordEnv     string             `long:"api-password-env" value-name:"VAR" description:"Environment variable holding the API user's password" unquote:"false"`
	APICA              string             `long:"api-ca" value-name:"FILE" description:"CA certificate(s) the API's certificate must chain to (Icinga's ca.crt)" unquote:"false"`
	APIInsecure        bool               `long:"api-insecure" description:"Do not verify the API's certificate"`
	StaleFactor        threshold.Number   `long:"stale-factor" default:"3" value-name:"N" description:"A check is late when its last run is older than N times its interval, the status file when older than N rewrites; N is 1 or more (below, a check on time is late)" unquote:"false"`
	StaleWarning       threshold.Range    `long:"stale-warning" default:"0" value-name:"RANGE" description:"Warning threshold on late active checks, in percent of all" unquote:"false"`
	StaleCritical      threshold.Range    `long:"stale-critical" default:"10" value-name:"RANGE" description:"Critical threshold on late active checks, in percent of all" unquote:"false"`
	NotifyFailWarning  threshold.Range    `long:"notify-fail-warning" default:"0" value-name:"RANGE" description:"Warning threshold on notification commands failed since the last run" unquote:"false"`
	NotifyFailCritical threshold.Range    `long:"notify-fail-critical" value-name:"RANGE" description:"Critical threshold on notification commands failed since the last run" unquote:"false"`
	Unnotified         threshold.Duration `long:"unnotified" default:"1h" value-name:"DURATION" description:"Warn of problems older than this that no notification was sent for; 0 turns it off" unquote:"false"`
	RSSWarning         threshold.Range    `long:"rss-warning" value-name:"RANGE" description:"Warning threshold on the engine's resident memory, in MiB" unquote:"false"`
	RSSCritical        threshold.Range    `long:"rss-critical" value-name:"RANGE" description:"Critical threshold on the engine's resident memory, in MiB" unquote:"false"`
	GrowthWarning      threshold.Range    `long:"rss-growth-warning" value-name:"RANGE" description:"Warning threshold on the engine's memory growth, in MiB per hour since the last run" unquote:"false"`
	GrowthCritical     threshold.Range    `long:"rss-growth-critical" value-name:"RANGE" description:"Critical threshold on the engine's memory growth, in MiB per hour" unquote:"false"`
	StateFile          plugin.StateFile   `long:"state-file" value-name:"PATH" description:"Where the engine's memory and the log position are kept between runs (default: per user and set of options under /var/tmp)" unquote:"false"`
	NoStateFile        bool               `long:"no-state-file" description:"Keep no state between runs: memory growth is not judged, the log is read back one hour"`
	Kmsg               string             `long:"kmsg" default:"/dev/kmsg" value-name:"PATH" description:"Kernel log, read to tell whether a dead engine was OOM-killed (needs root where dmesg_restrict=1)" unquote:"false"`
	plugin.ProcRoot
}

// Validate rejects what go-flags cannot see.
func (o *Options) Validate() error {
	switch {
	case !(o.StaleFactor >= 1): // NaN too
		// Under one interval every check on time is late, and the
		// message's "late by over 0x" says nothing.
		return fmt.Errorf("invalid --stale-factor %s: must be 1 or more (times the interval)", strconv.FormatFloat(float64(o.StaleFactor), 'g', -1, 64))
	case o.Kmsg == "":
		return errors.New("--kmsg: empty path")
	case o.StateFile.Check() != nil:
		return fmt.Errorf("invalid --state-file: %w (use --no-state-file to keep none)", o.StateFile.Check())
	case o.APIPasswordFile != "" && o.APIPasswordEnv != "":
		return errors.New("--api-password-file and --api-password-env: give one")
	case o.APIInsecure && o.APICA != "":
		return errors.New("--api-insecure and --api-ca: give one")
	case strings.Contains(o.APIUser, ":"):
		return fmt.Errorf("invalid --api-user %q: basic authentication cannot carry a \":\" in a user name", o.APIUser)
	}
	if o.IcingaAPI != "" {
		if _, err := apiBase(o.IcingaAPI); err != nil {
			return err
		}
	}
	return nil
}

// apiBase reads --icinga-api: https, a host, a port if any in 1-65535,
// a path if any (the API behind a reverse proxy), no credentials, query
// or fragment (the check adds its own paths and queries).
func apiBase(raw string) (*url.URL, error) {
	bad := func(why string) error { return fmt.Errorf("invalid --icinga-api %q: %s", maskUserinfo(raw), why) }
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return nil, bad("want https://HOST:PORT")
	}
	switch {
	case u.Scheme != "https":
		// The API user's password goes in every request: never in clear.
		return nil, bad("must be https:// (the API password would cross the network in clear; Icinga 2's API speaks only HTTPS)")
	case u.User != nil:
		return nil, errors.New("invalid --icinga-api: no credentials in the URL, use --api-user and --api-password-file")
	case u.Hostname() == "":
		return nil, bad("no host")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, bad("no query: the check asks for its own")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, bad("no fragment (#...)")
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, bad(fmt.Sprintf("port %q is not 1-65535", port))
		}
	}
	return u, nil
}

// maskUserinfo hides what may be credentials in a value that did not
// parse as a URL (or parsed oddly): everything before its last '@' except
// a leading "scheme://". The runtime's sanitiser masks only well-formed
// scheme://user:pass@, and "u:pw@host", "https:u:pw@host" or "//u:pw@host"
// are not. The last '@' of the whole value, not of the authority, because
// a password may hold '/', '?' or '#': masking a path's '@' too is the
// lesser harm.
func maskUserinfo(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	keep := 0
	if i := strings.Index(raw, "://"); i > 0 && i < at && isScheme(raw[:i]) {
		keep = i + len("://")
	} else if strings.HasPrefix(raw, "//") {
		keep = len("//")
	}
	return raw[:keep] + "***" + raw[at:]
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.').
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// apiURL is the API's path under base (a base path kept), with query.
func apiURL(base *url.URL, path string, query url.Values) string {
	u := base.JoinPath(path)
	u.RawQuery = query.Encode()
	return u.String()
}

// nagiosWanted reports whether the Nagios side is checked: asked for, or
// nothing asked for at all (then Debian's paths are tried).
func (o *Options) nagiosWanted() bool {
	return o.NagiosConfig != "" || o.NagiosStatus != "" || o.NagiosLog != "" || o.IcingaAPI == ""
}
