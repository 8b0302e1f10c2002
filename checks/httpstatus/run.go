package httpstatus

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// requestBudget is the share of -t one URL may take: enough to leave the
// check time to say what did not answer before the watchdog fires.
const requestBudget = 0.8

// maxConnsPerHost bounds the connections to one server: many URLs on one
// host share them (keep-alive) instead of opening one each.
const maxConnsPerHost = 6

// Run checks every target concurrently and judges each.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	auth, err := o.authorization()
	if err != nil {
		return plugin.Result{}, err
	}
	cfg, err := o.clientConfig()
	if err != nil {
		return plugin.Result{}, err
	}
	header := o.requestHeader(auth)
	budget := env.Budget(requestBudget)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	clients := map[string]*httpprobe.Client{}
	clientFor := func(t target) *httpprobe.Client {
		key := "" // one client for all, but --no-sni verifies per host
		if o.NoSNI {
			key = t.url.Hostname()
		}
		if clients[key] == nil {
			c := cfg
			c.TLS = httpprobe.NoSNIFor(cfg.TLS, t.url.Hostname(), o.tlsOptions())
			clients[key] = httpprobe.New(c)
		}
		return clients[key]
	}
	outcomes := make([]outcome, len(o.targets))
	start := time.Now()
	var wg sync.WaitGroup
	for _, q := range o.queues(clientFor) {
		client := clientFor(o.targets[q[0]])
		var next atomic.Int32
		for range min(len(q), maxConnsPerHost) {
			wg.Go(func() {
				for k := int(next.Add(1)) - 1; k < len(q); k = int(next.Add(1)) - 1 {
					t := o.targets[q[k]]
					if err := httpprobe.Expired(ctx); err != nil {
						outcomes[q[k]] = o.judge(env, t, nil, client.Unsent(t.url, time.Since(start), err))
						continue
					}
					done := env.Begin("requesting " + t.url.Redacted())
					outcomes[q[k]] = o.checkOne(ctx, env, client, t, header)
					done()
				}
			})
		}
	}
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}
	return o.assemble(env, outcomes), nil
}

// queues groups the targets by server (the client, which differs per
// host with --no-sni, and the address connected to, so -I and --resolve
// put several hosts on one server), in order. Each server's targets are
// checked by at most maxConnsPerHost workers, each reusing its
// connection: fifty URLs on one server cost a few connections and no
// hand-off between goroutines per request, while different servers are
// checked concurrently. A URL's time is its own request's, not the time
// it queued behind others.
func (o *Options) queues(clientFor func(target) *httpprobe.Client) [][]int {
	type server struct {
		client *httpprobe.Client
		key    string
	}
	var order []server
	byServer := map[server][]int{}
	for i, t := range o.targets {
		s := server{clientFor(t), ""}
		s.key = s.client.ServerKey(t.url)
		if _, ok := byServer[s]; !ok {
			order = append(order, s)
		}
		byServer[s] = append(byServer[s], i)
	}
	out := make([][]int, len(order))
	for i, s := range order {
		out[i] = byServer[s]
	}
	return out
}

// authorization returns the basic credentials: -a, else --auth-file,
// else the environment; "" for none.
func (o *Options) authorization() (string, error) {
	switch {
	case o.Auth != "":
		return o.Auth, nil
	case o.AuthFile != "":
		f, err := os.Open(o.AuthFile)
		if err != nil {
			return "", fmt.Errorf("--auth-file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		if !sc.Scan() || !strings.Contains(sc.Text(), ":") {
			return "", fmt.Errorf("--auth-file %s: first line must be USER:PASSWORD", o.AuthFile)
		}
		return strings.TrimRight(sc.Text(), "\r"), nil
	}
	if v := os.Getenv(AuthEnv); v != "" {
		if !strings.Contains(v, ":") {
			return "", fmt.Errorf("$%s must be USER:PASSWORD", AuthEnv)
		}
		return v, nil
	}
	return "", nil
}

func (o *Options) tlsOptions() httpprobe.TLSOptions {
	v, _ := httpprobe.ParseTLSVersion(o.TLSMin)
	sni := o.SNI
	if sni == "*" {
		sni = ""
	}
	return httpprobe.TLSOptions{
		CAFile: o.CAFile, Insecure: o.Insecure, SNI: sni, NoSNI: o.NoSNI,
		ClientCert: o.ClientCert, ClientKey: o.ClientKey, MinVersion: v,
	}
}

func (o *Options) clientConfig() (httpprobe.Config, error) {
	cfg := httpprobe.Config{Network: "tcp", ConnectTo: string(o.IP), MaxConnsPerHost: maxConnsPerHost}
	if o.ipIsHost() {
		cfg.ConnectTo = "" // -I alone is the host itself
	}
	switch {
	case o.IPv4:
		cfg.Network = "tcp4"
	case o.IPv6:
		cfg.Network = "tcp6"
	}
	for _, r := range o.Resolve {
		hp, addr, _ := parseResolve(r)
		if cfg.Resolve == nil {
			cfg.Resolve = map[string]string{}
		}
		cfg.Resolve[hp] = addr
	}
	tlsCfg, err := httpprobe.BuildTLS(o.tlsOptions())
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	switch {
	case o.NoProxy:
	case o.Proxy != "":
		p, err := url.Parse(o.Proxy)
		if err != nil || p.Host == "" {
			return cfg, fmt.Errorf("invalid --proxy %q: use scheme://host:port", o.Proxy)
		}
		cfg.Proxy = http.ProxyURL(p)
	default:
		cfg.Proxy = http.ProxyFromEnvironment
	}
	return cfg, nil
}

func (o *Options) requestHeader(auth string) http.Header {
	h := http.Header{}
	ua := o.UserAgent
	if ua == "" {
		ua = "check_http_status/" + plugin.Version() + " (hindsight)"
	}
	h.Set("User-Agent", ua)
	if o.body != nil {
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

func (o *Options) method() string {
	switch {
	case o.Method != "":
		return strings.ToUpper(string(o.Method))
	case o.body != nil:
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

// outcome is one URL's judgement.
type outcome struct {
	target   target
	state    plugin.State
	text     string
	perf     []plugin.Perf
	notes    []string
	total    time.Duration
	answered bool
}

func (o *Options) checkOne(ctx context.Context, env *plugin.Env, client *httpprobe.Client, t target, header http.Header) outcome {
	if o.Certificate.Set && !o.ContinueCert {
		return o.checkCertOnly(ctx, env, client, t)
	}
	req := httpprobe.Request{Method: o.method(), URL: t.url, Header: header, Body: o.body, MaxBody: int64(o.MaxBody)}
	if req.Method == http.MethodHead {
		req.MaxBody = 0
	}
	chain, err := client.Fetch(ctx, req, o.followMode(), o.MaxRedirs)
	return o.judge(env, t, chain, err)
}
