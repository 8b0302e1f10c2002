package httpprobe

import (
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFromEnvironment returns the proxy chooser of http_proxy,
// https_proxy and no_proxy, read once from getenv. The lowercase names
// win over the uppercase ones, as in curl (and so check_curl):
// net/http's ProxyFromEnvironment prefers the uppercase, so a shell
// exporting both would send requests elsewhere than curl does.
func ProxyFromEnvironment(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	either := func(lower, upper string) string {
		if v := getenv(lower); v != "" {
			return v
		}
		return getenv(upper)
	}
	cfg := httpproxy.Config{
		HTTPProxy:  either("http_proxy", "HTTP_PROXY"),
		HTTPSProxy: either("https_proxy", "HTTPS_PROXY"),
		NoProxy:    either("no_proxy", "NO_PROXY"),
		CGI:        getenv("REQUEST_METHOD") != "", // HTTP_PROXY may be a request header there (httpoxy)
	}
	pick := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return pick(r.URL) }
}
