// Package floor holds two programs that `make bench` times next to
// check_http_status, to show what any Go plugin must pay before its own
// logic: nethttp makes one request with net/http and nothing else;
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
	"time"
)

// Get makes one GET on its own connection, synchronously, and prints a
// Nagios status line; it returns the exit code.
func Get(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		fmt.Println("HTTP UNKNOWN - ", err)
		return 3
	}
	start := time.Now()
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		fmt.Println("HTTP CRITICAL -", err)
		return 2
	}
	defer conn.Close()
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{"User-Agent": {"floor"}}}
	bw := bufio.NewWriter(conn)
	if err := req.Write(bw); err == nil {
		err = bw.Flush()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		fmt.Println("HTTP CRITICAL -", err)
		return 2
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	fmt.Fprintf(os.Stdout, "HTTP OK - %s %d bytes in %.3fs | time=%fs\n", resp.Status, n, time.Since(start).Seconds(), time.Since(start).Seconds())
	return 0
}
