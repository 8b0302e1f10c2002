package monitoring

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/icingalog"
	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// icingaObs is what the Icinga 2 API answered.
type icingaObs struct {
	URL      string
	Down     error // the API did not answer: CRITICAL
	Refused  error // it answered, but not with what was asked (401, 500, not JSON): UNKNOWN
	App      icingaApp
	Hosts    []icingaCheckable
	Services []icingaCheckable
	NotConn  []string    // endpoints not connected
	ZonesOff []string    // zones with endpoints, none of them connected
	Proc     *engineProc // the daemon's process, when the API is on this host
	Log      notifLog    // its main log, for failed notification commands
}

// icingaComm is the name of Icinga 2's processes (comm), the daemon's
// and its umbrella's alike.
const icingaComm = "icinga2"

// defaultIcingaLog is Debian's icinga2.log, read by default when the API
// is on this host.
const defaultIcingaLog = "/var/log/icinga2/icinga2.log"

// icingaApp is IcingaApplication's status.
type icingaApp struct {
	NodeName      string  `json:"node_name"`
	Version       string  `json:"version"`
	PID           float64 `json:"pid"`
	ProgramStart  float64 `json:"program_start"`
	Notifications bool    `json:"enable_notifications"`
	HostChecks    bool    `json:"enable_host_checks"`
	ServiceChecks bool    `json:"enable_service_checks"`
}

// icingaCheckable is a host or a service as the objects API lists it.
type icingaCheckable struct {
	Name       string  `json:"__name"`
	Interval   float64 `json:"check_interval"` // seconds
	Last       float64 `json:"last_check"`     // Unix seconds, <= 0 for never
	Active     bool    `json:"enable_active_checks"`
	State      float64 `json:"state"`
	StateType  float64 `json:"state_type"` // 1 hard
	HardChange float64 `json:"last_hard_state_change"`
	Ack        float64 `json:"acknowledgement"`
	Downtime   float64 `json:"downtime_depth"`
	Notify     bool    `json:"enable_notifications"`
	// LastNotification is the newest last_notification of the
	// Notification objects that apply to it (filled in by gather).
	LastNotification float64 `json:"-"`
}

// object is the checkable as Nagios' status.dat would show it, for the
// judgements both engines share.
func (c icingaCheckable) object() nagiosstatus.Object {
	return nagiosstatus.Object{Host: c.Name, Interval: c.Interval, LastCheck: unixSeconds(c.Last), Checked: c.Last > 0, Active: c.Active,
		Scheduled: true, State: int(c.State), Hard: c.StateType == 1, LastHardChange: unixSeconds(c.HardChange),
		LastNotification: unixSeconds(c.LastNotification), Notify: c.Notify, Acked: c.Ack > 0, Downtime: c.Downtime > 0}
}

// maxUnix bounds the times the API gives (about the year 36800): a float
// beyond int64 converts to anything, 1e300 to a time before the epoch.
const maxUnix = 1 << 40

// unixSeconds is a time the API gives, in Unix seconds, within 0 and
// maxUnix (NaN is 0).
func unixSeconds(f float64) int64 {
	if !(f > 0) {
		return 0
	}
	return int64(min(f, maxUnix))
}

// floatTime is a time the API gives, to the nanosecond, bounded as
// unixSeconds.
func floatTime(f float64) time.Time {
	s := unixSeconds(f)
	frac := 0.0
	if s < maxUnix {
		frac = f - float64(s)
	}
	return time.Unix(s, int64(frac*1e9))
}

// apiBody bounds what one API answer may take: 10,000 services with the
// few attributes asked for are about 2 MiB.
const apiBody = 32 << 20

func gatherIcinga(ctx context.Context, env *plugin.Env, o *Options, prev *saved) (*icingaObs, error) {
	base, err := apiBase(o.IcingaAPI)
	if err != nil {
		return nil, err
	}
	ic := &icingaObs{URL: strings.TrimSuffix(o.IcingaAPI, "/")}
	readIcingaLog(ctx, env, o, ic, prev)
	password, err := apiPassword(ctx, env, o)
	if err != nil {
		return nil, err
	}
	tr, err := apiTransport(ctx, env, o)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, query url.Values, v any) error {
		u := apiURL(base, path, query)
		done := env.Begin("asking the Icinga 2 API for " + u)
		defer done()
		return apiGet(ctx, client, u, o.APIUser, password, v)
	}
	var status struct {
		Results []struct {
			Status struct {
				App struct {
					App icingaApp `json:"app"`
				} `json:"icingaapplication"`
			} `json:"status"`
		} `json:"results"`
	}
	if err := get("v1/status/IcingaApplication", nil, &status); err != nil {
		sortAPIError(ic, err)
		return ic, nil
	}
	if len(status.Results) == 0 {
		ic.Refused = errors.New(apiURL(base, "v1/status/IcingaApplication", nil) + ": no result")
		return ic, nil
	}
	ic.App = status.Results[0].Status.App.App
	if pid, bad := apiPID(ic.App.PID); loopback(ic.URL) && bad != "" {
		ic.Proc = &engineProc{Gone: bad}
	} else if loopback(ic.URL) {
		// On this host the pid the API gives is the daemon's: its memory
		// is judged as a Nagios engine's is.
		done := env.Begin("reading the engine's process in " + o.Procfs)
		p := readProc(ctx, env, o, nagiosstatus.Program{PID: pid, Start: int64(ic.App.ProgramStart)})
		done()
		if p.Found && p.Comm != icingaComm {
			// Loopback is not this host when it is a tunnel to another:
			// the pid is then some process of ours (pid 1, init).
			p = engineProc{PID: p.PID, Comm: p.Comm, Foreign: true,
				Gone: "pid " + strconv.Itoa(p.PID) + " is " + strconv.Quote(p.Comm) + " here, not " + icingaComm}
		}
		ic.Proc = &p
	}
	attrs := url.Values{"attrs": {"__name", "check_interval", "last_check", "enable_active_checks", "state", "state_type",
		"last_hard_state_change", "acknowledgement", "downtime_depth", "enable_notifications"}}
	for _, kind := range []struct {
		path string
		list *[]icingaCheckable
	}{{"v1/objects/hosts", &ic.Hosts}, {"v1/objects/services", &ic.Services}} {
		var objs struct {
			Results []struct {
				Attrs icingaCheckable `json:"attrs"`
			} `json:"results"`
		}
		if err := get(kind.path, attrs, &objs); err != nil {
			sortAPIError(ic, err)
			return ic, nil
		}
		for _, r := range objs.Results {
			*kind.list = append(*kind.list, r.Attrs)
		}
	}
	var notifs struct {
		Results []struct {
			Attrs struct {
				Host    string  `json:"host_name"`
				Service string  `json:"service_name"`
				Last    float64 `json:"last_notification"`
			} `json:"attrs"`
		} `json:"results"`
	}
	if err := get("v1/objects/notifications", url.Values{"attrs": {"host_name", "service_name", "last_notification"}}, &notifs); err != nil {
		sortAPIError(ic, err)
		return ic, nil
	}
	last := map[string]float64{}
	for _, r := range notifs.Results {
		name := r.Attrs.Host
		if r.Attrs.Service != "" {
			name += "!" + r.Attrs.Service
		}
		last[name] = max(last[name], r.Attrs.Last)
	}
	for _, list := range [][]icingaCheckable{ic.Hosts, ic.Services} {
		for i := range list {
			list[i].LastNotification = last[list[i].Name]
		}
	}
	var listener struct {
		Results []struct {
			Status struct {
				API struct {
					NotConn []string `json:"not_conn_endpoints"`
					Zones   map[string]struct {
						Connected bool     `json:"connected"`
						Endpoints []string `json:"endpoints"`
					} `json:"zones"`
				} `json:"api"`
			} `json:"status"`
		} `json:"results"`
	}
	if err := get("v1/status/ApiListener", nil, &listener); err != nil {
		sortAPIError(ic, err)
		return ic, nil
	}
	if len(listener.Results) > 0 {
		api := listener.Results[0].Status.API
		ic.NotConn = api.NotConn
		// A global zone has no endpoints, and is never "connected".
		for name, z := range api.Zones {
			if !z.Connected && len(z.Endpoints) > 0 {
				ic.ZonesOff = append(ic.ZonesOff, name)
			}
		}
		sort.Strings(ic.ZonesOff)
	}
	return ic, nil
}

// readIcingaLog reads --icinga-log, or Debian's log when the API is on
// this host and the log is there.
func readIcingaLog(ctx context.Context, env *plugin.Env, o *Options, ic *icingaObs, prev *saved) {
	path := o.IcingaLog
	if path == "" && loopback(ic.URL) {
		if _, err := env.Files().Stat(ctx, defaultIcingaLog); err == nil {
			path = defaultIcingaLog
		}
	}
	since, last := logSince(env.Now(), 0, nil, false)
	if prev != nil {
		since, last = logSince(env.Now(), prev.IcingaLogNewest, prev.IcingaLogSeen, prev.IcingaLogHashed)
	}
	ic.Log = readNotifLog(ctx, env, path, "Icinga 2", since, last, icingalog.Parse)
}

// apiPID reads the pid the API gives: a whole number from 1 to 2^31-1
// (the kernel's pid_t). Anything else (1e300, -1, 0, 1.5) is no pid:
// bad says so, with the value, never converted into another number.
func apiPID(f float64) (pid int, bad string) {
	if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
		text := strconv.FormatFloat(f, 'g', -1, 64)
		if math.Abs(f) < 1e21 {
			text = strconv.FormatFloat(f, 'f', -1, 64) // as JSON writes it: 2147483648, not 2.147483648e+09
		}
		return 0, "the API gives no valid pid (" + text + ")"
	}
	return int(f), ""
}

// loopback reports whether the API's URL names this host.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// downError marks an API that did not answer at all.
type downError struct{ err error }

func (e downError) Error() string { return e.err.Error() }
func (e downError) Unwrap() error { return e.err }

func sortAPIError(ic *icingaObs, err error) {
	var down downError
	if errors.As(err, &down) {
		ic.Down = err
		return
	}
	ic.Refused = err
}

// apiGet asks for one resource and decodes its JSON answer into v.
func apiGet(ctx context.Context, client *http.Client, u, user, password string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return fmt.Errorf("%s: the API's certificate is not trusted: %w (give --api-ca, the CA's certificate)", u, err)
		}
		return downError{fmt.Errorf("%s does not answer: %w", u, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, apiBody+1))
	switch {
	case err != nil:
		return downError{fmt.Errorf("%s: answer cut: %w", u, err)}
	case len(body) > apiBody:
		return fmt.Errorf("%s: answer over %d MiB", u, apiBody>>20)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: 401 Unauthorized for API user %q (check --api-user and the password)", u, user)
	case resp.StatusCode >= 500:
		return downError{fmt.Errorf("%s: %s", u, resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %s", u, jsonProblem(err))
	}
	return nil
}

// jsonProblem words a decoding error in the answer's terms, not Go's:
// where in the JSON, what was there and what the check expects.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		// Every answer is {"results": [...]}: the path starts inside.
		where := strings.TrimPrefix(typ.Field, "results.")
		if where == "" {
			where = "the answer"
		}
		want := jsonKind(typ.Type.Kind().String())
		if num, ok := strings.CutPrefix(typ.Value, "number "); ok && want == "a number" {
			return fmt.Sprintf("unexpected answer: %s is %s, out of range", where, num)
		}
		return fmt.Sprintf("unexpected answer: %s is %s, not %s", where, jsonKind(typ.Value), want)
	}
	return "not the Icinga 2 API's JSON: " + err.Error()
}

// jsonKind names a JSON value's kind, from encoding/json's word for it
// ("string", "number 1e400") or the Go kind it was to be decoded into.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "object", "struct", "map":
		return "an object"
	case "array", "slice":
		return "an array"
	}
	return "a number" // the JSON "number" and "number N", Go's numeric kinds
}

// apiPassword reads the password from --api-password-file or the
// variable --api-password-env names, and registers it as a secret.
func apiPassword(ctx context.Context, env *plugin.Env, o *Options) (string, error) {
	var pw string
	switch {
	case o.APIPasswordFile != "":
		data, err := env.Files().Read(ctx, files.Secret, o.APIPasswordFile)
		if err != nil {
			return "", fmt.Errorf("--api-password-file %w", err)
		}
		pw = files.SecretLine(data)
		if pw == "" {
			return "", fmt.Errorf("--api-password-file %s: empty", o.APIPasswordFile)
		}
	case o.APIPasswordEnv != "":
		v, ok := os.LookupEnv(o.APIPasswordEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("--api-password-env: $%s is not set", o.APIPasswordEnv)
		}
		pw = v
	default:
		return "", errors.New("--icinga-api needs --api-password-file or --api-password-env")
	}
	env.RegisterSecret(pw)
	return pw, nil
}

// apiTransport dials with the run's deadline, trusts --api-ca (or the
// system's roots), and never goes through a proxy: the API is watched
// where it is.
func apiTransport(ctx context.Context, env *plugin.Env, o *Options) (*http.Transport, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.APIInsecure}
	if o.APICA != "" {
		data, err := env.Files().Read(ctx, files.Certificate, o.APICA)
		if err != nil {
			return nil, fmt.Errorf("--api-ca %w", err)
		}
		pool, err := httpprobe.ParseRootCAs(data)
		if err != nil {
			return nil, fmt.Errorf("--api-ca %s: %w", o.APICA, err)
		}
		cfg.RootCAs = pool
	}
	budget := env.Budget(0.8)
	d := &net.Dialer{Timeout: budget}
	return &http.Transport{
		DialContext:           d.DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   budget,
		ResponseHeaderTimeout: budget,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       time.Second,
	}, nil
}
