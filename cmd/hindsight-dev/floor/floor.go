// Package floor holds two programs that `make bench` times next to
// check_http_status, to show what any Go plugin must pay before its own
// logic: nethttp makes its requests with net/http and nothing else;
// plugin adds what hindsight's rules require of every plugin, go-flags
// parsing check_http_status's options and gojq linked in (its package
// init runs at every start). Neither is shipped.
package floor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// workers is check_http_status's connections per server.
const workers = 6

// Get makes a GET of each URL, all on one server, on at most 6 kept-alive
// connections, synchronously on each, and prints a Nagios status line;
// it returns the exit code.
func Get(raws []string) int {
	start := time.Now()
	var next, failed atomic.Int32
	var bytes atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(raws)) {
		wg.Go(func() {
			var c *conn
			for k := int(next.Add(1)) - 1; k < len(raws); k = int(next.Add(1)) - 1 {
				n, err := get(&c, raws[k])
				if err != nil {
					fmt.Println("HTTP CRITICAL -", err)
					failed.Add(1)
				}
				bytes.Add(n)
			}
			if c != nil {
				c.Close()
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return 2
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(os.Stdout, "HTTP OK - %d URLs, %d bytes in %.3fs | time=%fs\n", len(raws), bytes.Load(), secs, secs)
	return 0
}

type conn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func get(c **conn, raw string) (int64, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	if *c == nil {
		nc, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
		if err != nil {
			return 0, err
		}
		*c = &conn{Conn: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}
	}
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{"User-Agent": {"floor"}}}
	if err := req.Write((*c).bw); err != nil {
		return 0, err
	}
	if err := (*c).bw.Flush(); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse((*c).br, req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
