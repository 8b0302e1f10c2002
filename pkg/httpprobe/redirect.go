package httpprobe

import (
	"context"
	"errors"
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

// isRedirect reports whether status is a redirect to follow.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// BadLocationError is a redirect that cannot be followed: no Location,
// one that does not parse, or one to a scheme other than http and https
// (ftp://, file://, javascript: are not fetched as HTTP).
type BadLocationError struct {
	From     string // the URL that answered, redacted
	Location string // as sent, userinfo masked
	Scheme   string // the Location's scheme when it is not http or https
	Err      error  // why it does not parse
}

func (e *BadLocationError) Error() string {
	switch {
	case e.Location == "":
		return "redirect from " + e.From + " without a Location"
	case e.Scheme != "":
		return fmt.Sprintf("redirect from %s to a %s: URL (%s), not followed: only http and https are", e.From, e.Scheme, e.Location)
	}
	return fmt.Sprintf("redirect from %s to a bad Location %q: %v", e.From, e.Location, e.Err)
}

// nextURL is where a redirect from u with Location loc goes.
func nextURL(u *url.URL, loc string) (*url.URL, error) {
	from := u.Redacted()
	if strings.TrimSpace(loc) == "" {
		return nil, &BadLocationError{From: from}
	}
	next, err := u.Parse(loc)
	if err != nil {
		return nil, &BadLocationError{From: from, Location: redactLocation(loc), Err: errors.Unwrap(err)}
	}
	if next.Scheme != "http" && next.Scheme != "https" {
		return nil, &BadLocationError{From: from, Location: next.Redacted(), Scheme: next.Scheme}
	}
	return next, nil
}

// redactLocation masks what may be a password in a Location that does
// not parse: everything between "://" and the last "@".
func redactLocation(loc string) string {
	i := strings.Index(loc, "://")
	at := strings.LastIndex(loc, "@")
	if i < 0 || at < i {
		return loc
	}
	return loc[:i+3] + "xxxxx" + loc[at:]
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
				_, port, _ = net.SplitHostPort(CanonicalAddr(req.URL))
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
		if mode == NoFollow || !isRedirect(resp.Status) {
			return chain, nil
		}
		// Through a proxy, the address connected to is the proxy's: there
		// is no server address to stick to.
		if (mode == Sticky || mode == StickyPort) && stickyHost == "" && !resp.proxied {
			stickyHost, stickyPort, _ = net.SplitHostPort(resp.RemoteAddr)
		}
		next, err := nextURL(req.URL, resp.Header.Get("Location"))
		if err != nil {
			return chain, err
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
