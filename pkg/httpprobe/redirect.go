package httpprobe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Follow is how redirects are followed.
type Follow int

// Redirect modes, as check_http's --onredirect follow|sticky|stickyport.
const (
	NoFollow   Follow = iota
	FollowAny         // follow Location wherever it points
	Sticky            // follow, but keep connecting to the first hop's address
	StickyPort        // follow, keeping the first hop's address and port
)

// RedirectError is a redirect chain that cannot end well.
type RedirectError struct {
	Loop  bool     // a URL came back; else there were too many hops
	Chain []string // the URLs requested, in order, and the next one
	Max   int
}

func (e *RedirectError) Error() string {
	if e.Loop {
		return "redirect loop: " + strings.Join(e.Chain, " -> ")
	}
	return fmt.Sprintf("more than %d redirects: %s -> ...", e.Max, strings.Join(e.Chain[:min(3, len(e.Chain))], " -> "))
}

// IsRedirect reports whether status is a redirect with a target.
func IsRedirect(r *Response) bool {
	switch r.Status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return r.Header.Get("Location") != ""
	}
	return false
}

// Fetch makes req and, unless mode is NoFollow, follows redirects up to
// maxHops. It returns every response in order, the last being the answer
// judged; on error, the responses before the failing hop.
func (c *Client) Fetch(ctx context.Context, req Request, mode Follow, maxHops int) ([]*Response, error) {
	var chain []*Response
	seen := map[string]bool{}
	var names []string
	var stickyHost, stickyPort string
	for {
		key := req.Method + " " + req.URL.String()
		seen[key] = true
		names = append(names, req.URL.Redacted())
		hopCtx := ctx
		if stickyHost != "" {
			port := stickyPort
			if mode == Sticky {
				_, port, _ = net.SplitHostPort(canonicalAddr(req.URL))
			}
			hopCtx = withDialTo(ctx, net.JoinHostPort(stickyHost, port))
		}
		resp, err := c.Do(hopCtx, req)
		if resp != nil {
			chain = append(chain, resp)
		}
		if err != nil {
			return chain, err
		}
		if mode == NoFollow || !IsRedirect(resp) {
			return chain, nil
		}
		if (mode == Sticky || mode == StickyPort) && stickyHost == "" && c.cfg.Proxy == nil {
			stickyHost, stickyPort, _ = net.SplitHostPort(resp.RemoteAddr)
		}
		next, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			return chain, fmt.Errorf("redirect from %s to bad Location %q: %w", req.URL.Redacted(), resp.Header.Get("Location"), err)
		}
		req = redirected(req, next, resp.Status)
		if seen[req.Method+" "+req.URL.String()] {
			return chain, &RedirectError{Loop: true, Chain: append(names, req.URL.Redacted())}
		}
		if len(chain) > maxHops {
			return chain, &RedirectError{Chain: append(names, req.URL.Redacted()), Max: maxHops}
		}
	}
}

// redirected is the request for the next hop, as browsers make it: 301,
// 302 and 303 turn a POST into a GET without body; credentials are not
// sent to another host.
func redirected(req Request, next *url.URL, status int) Request {
	out := req
	out.URL = next
	if status == http.StatusSeeOther || ((status == http.StatusMovedPermanently || status == http.StatusFound) && req.Method == http.MethodPost) {
		out.Method, out.Body = http.MethodGet, nil
	}
	if next.Host != req.URL.Host {
		out.Header = req.Header.Clone()
		out.Header.Del("Authorization")
		out.Header.Del("Cookie")
		out.Header.Del("Host")
	}
	return out
}
