package httpstatus

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// requestBudget is the share of -t one URL may take: enough to leave the
// check time to say what did not answer before the watchdog fires.
const requestBudget = 0.8

// maxConnsPerHost bounds the connections to one server: many URLs on one
// host share them (keep-alive) instead of opening one each.
const maxConnsPerHost = 6

// maxInFlight bounds the requests made at once, over all servers.
const maxInFlight = 64

// observations are what gather saw, all judge needs: no judge reads the
// network, a file or the clock.
type observations struct {
	Now     time.Time // when the answers were in: certificate days are counted from it
	Verbose int       // -v: how much the reader asked to see
	URLs    []fetched // one per target, in the plan's order
	Jar     string    // why --cookie-jar could not be written, "" when it was
	JQBy    time.Time // when --jq and --jq-message must be done; zero: no bound
	// ProxyNote: what was left out of the proxy variables, for -v.
	ProxyNote string
}

// fetched is what one URL gave.
type fetched struct {
	Chain []*httpprobe.Response // the answers, redirects first; none when Fail
	Fail  *failure              // what ended the request or handshake, nil when answered
	Cert  *tlsprobe.Result      // -C alone: the handshake's chain
	Took  time.Duration         // -C alone: the handshake's time
}

// failure is a request that got no answer: what went wrong, in words, and
// how long it took.
type failure struct {
	Text    string
	Elapsed time.Duration
	Unknown bool // the check could not be made (a proxy it cannot speak to)
	// Partial: the failed request's answer (its status, part of its
	// body) is the last of the chain, and Elapsed already counts it.
	Partial bool
}

// gather reads the files the options name, then checks every target
// concurrently.
func gather(ctx context.Context, env *plugin.Env, o *Options, p *plan) (observations, error) {
	in, err := readInputs(ctx, env, o)
	if err != nil {
		return observations{}, err
	}
	for _, t := range p.targets {
		if pass, ok := t.url.User.Password(); ok {
			env.RegisterSecret(pass)
		}
	}
	cfg, proxyNote, err := o.clientConfig(env, in, p.targets)
	if err != nil {
		return observations{}, err
	}
	jar, err := o.loadJar(ctx, env)
	if err != nil {
		return observations{}, err
	}
	if jar != nil {
		cfg.Jar = jar
	}
	header := o.requestHeader(in.auth)
	runDeadline, bounded := ctx.Deadline()
	ctx, cancel := context.WithTimeout(ctx, env.Budget(requestBudget))
	defer cancel()

	clients := map[string]*httpprobe.Client{}
	clientFor := func(t target) *httpprobe.Client {
		key := "" // one client for all, but --no-sni verifies per host
		if o.NoSNI {
			key = t.url.Hostname()
		}
		if clients[key] == nil {
			c := cfg
			c.TLS = httpprobe.NoSNIFor(cfg.TLS, t.url.Hostname(), in.tls)
			clients[key] = httpprobe.New(c)
		}
		return clients[key]
	}
	urls := make([]fetched, len(p.targets))
	// Every URL is requested at once; the Transport bounds the
	// connections to one server and queues the rest (keep-alive), so
	// fifty URLs on one server cost a few connections.
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxInFlight)
	for i, t := range p.targets {
		client := clientFor(t)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			done := env.Begin("requesting " + t.url.Redacted())
			if o.certOnly() {
				urls[i] = o.fetchCert(ctx, client, cfg, in.tls, t)
			} else {
				urls[i] = o.fetch(ctx, client, t, header, in.body)
			}
			done()
		})
	}
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}
	jarErr := o.saveJar(ctx, env, jar)
	jqBy := time.Now().Add(env.Budget(jqBudget))
	if bounded && runDeadline.Before(jqBy) { // the runtime's deadline for probes, before its watchdog's
		jqBy = runDeadline
	}
	return observations{Now: env.Now(), Verbose: env.Verbose, URLs: urls, Jar: jarErr, JQBy: jqBy, ProxyNote: proxyNote}, nil
}

// fetch makes one URL's request.
func (o *Options) fetch(ctx context.Context, client *httpprobe.Client, t target, header http.Header, body []byte) fetched {
	req := httpprobe.Request{Method: o.method(), URL: t.url, Header: header, Body: body, MaxBody: int64(o.MaxBody)}
	if req.Method == http.MethodHead {
		req.MaxBody = 0
	}
	chain, err := client.Fetch(ctx, req, o.followMode(), o.MaxRedirs)
	return fetched{Chain: chain, Fail: failureOf(err)}
}

// certOnly is -C without --continue-after-certificate: a handshake, no
// request.
func (o *Options) certOnly() bool { return o.Certificate.Set && !o.ContinueCert }

// failureOf words what ended a request, with the option that would help
// where there is one (pkg/httpprobe knows none of our flags).
func failureOf(err error) *failure {
	if err == nil {
		return nil
	}
	f := &failure{Text: err.Error()}
	var pe *httpprobe.Error
	if errors.As(err, &pe) {
		// The request's own time, as a response's Timing: a wait for a
		// free connection is not counted (it is the other requests').
		f.Elapsed = pe.Elapsed - pe.Waited
		f.Partial = pe.Phase == httpprobe.PhaseBody && pe.Status != ""
	}
	var bad *netproxy.VarError // an invalid proxy variable: a setup fault, not the server's
	f.Unknown = errors.Is(err, netproxy.ErrScheme) || errors.Is(err, httpprobe.ErrHTTP10Proxy) || errors.As(err, &bad)
	if errors.Is(err, httpprobe.ErrHTTP10Proxy) {
		f.Text += " (--http-version 1.0 with --proxy or a proxy variable: use an http:// proxy, or --http-version 1.1)"
	}
	switch unknown, self := httpprobe.UnknownAuthority(err); {
	case unknown && self:
		f.Text += " (use --ca-file or --insecure)"
	case unknown:
		f.Text += " (missing intermediate? use --ca-file)"
	case httpprobe.RefusedClientCert(err):
		f.Text += " (--client-cert/--client-key)"
	case errors.Is(err, httpprobe.ErrNoH2C):
		f.Text += " (--http-version 1.1 or auto)"
	case strings.Contains(err.Error(), "no application protocol"):
		f.Text += " (it offers no HTTP/2: --http-version auto)" // only a forced version meets this
	}
	return f
}

// clientConfig is the request side of the options; note is what -v
// should say of the environment's proxy variables ("" for nothing).
func (o *Options) clientConfig(env *plugin.Env, in inputs, targets []target) (cfg httpprobe.Config, note string, err error) {
	cfg = httpprobe.Config{Network: "tcp", MaxConnsPerHost: maxConnsPerHost}
	cfg.Version, _ = httpprobe.ParseVersion(o.HTTPVersion) // checked by Validate
	switch {
	case o.IPv4:
		cfg.Network = "tcp4"
	case o.IPv6:
		cfg.Network = "tcp6"
	}
	cfg.Resolve = map[string]string{}
	for _, r := range o.Resolve {
		hp, addr, _ := parseResolve(r)
		cfg.Resolve[strings.ToLower(hp)] = addr // names match in any case
	}
	if hp, addr, ok := o.virtualPortRoute(cfg.Resolve); ok {
		cfg.Resolve[hp] = addr
	}
	// -I is where each URL's own host and port connect (-I alone is the
	// host itself): a redirect to another host is resolved, as check_curl
	// does (CURLOPT_RESOLVE); sticky and stickyport keep the address.
	if o.IP != "" && !o.ipIsHost() {
		for _, t := range targets {
			if hp := strings.ToLower(httpprobe.CanonicalAddr(t.url)); cfg.Resolve[hp] == "" {
				cfg.Resolve[hp] = string(o.IP)
			}
		}
	}
	cfg.TLS = httpprobe.BuildTLS(in.tls)
	switch {
	case o.NoProxy:
	case o.Proxy != "":
		p, err := parseProxy(o.Proxy)
		if err != nil {
			return cfg, "", err
		}
		if pass, ok := p.User.Password(); ok {
			env.RegisterSecret(pass)
		}
		cfg.Proxy = http.ProxyURL(p)
	default:
		penv := netproxy.FromEnv(os.Getenv)
		for _, raw := range []string{penv.HTTP, penv.HTTPS} {
			if p, err := netproxy.ParseTransport(raw); err == nil {
				if pass, ok := p.User.Password(); ok {
					env.RegisterSecret(pass)
				}
			}
		}
		cfg.Proxy = penv.Request
		note = penv.Note
	}
	cfg.Proxy = bypassProxy(cfg.Proxy, o.Bypass) // --noproxy
	return cfg, note, nil
}

func (o *Options) requestHeader(auth string) http.Header {
	h := http.Header{}
	ua := o.UserAgent
	if ua == "" {
		ua = "check_http_status/" + plugin.Version() + " (hindsight)"
	}
	h.Set("User-Agent", ua)
	if o.hasBody() {
		ct := o.ContentType
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		h.Set("Content-Type", ct)
	}
	for _, kv := range o.Headers {
		name, value, _ := strings.Cut(kv, ":")
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if auth != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	return h
}

// hasBody reports whether a request body is sent (-P or --data-file).
func (o *Options) hasBody() bool { return o.Post != "" || o.DataFile != "" }

func (o *Options) method() string {
	switch {
	case o.Method != "":
		return string(o.Method) // as given: methods are case-sensitive
	case o.hasBody():
		return http.MethodPost
	}
	return http.MethodGet
}

func (o *Options) followMode() httpprobe.Follow {
	switch o.OnRedirect {
	case "follow":
		return httpprobe.FollowAny
	case "sticky":
		return httpprobe.Sticky
	case "stickyport":
		return httpprobe.StickyPort
	}
	return httpprobe.NoFollow
}
