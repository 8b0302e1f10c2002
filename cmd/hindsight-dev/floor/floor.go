// Package floor holds two programs that `make bench` times next to
// check_http_status, to show what any Go plugin must pay before its own
// logic: nethttp makes its requests with net/http's Transport and
// nothing else (the stack check_http_status uses); plugin adds what
// hindsight's rules require of every plugin, go-flags parsing
// check_http_status's options and gojq linked in (its package init runs
// at every start). Neither is shipped.
package floor

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// workers is check_http_status's connections per server.
const workers = 6

// Get makes a GET of each URL, all on one server, through one
// http.Transport keeping at most 6 connections, and prints a Nagios
// status line; it returns the exit code.
func Get(raws []string) int {
	start := time.Now()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxConnsPerHost: workers, MaxIdleConnsPerHost: workers, DisableCompression: true},
	}
	var next, failed atomic.Int32
	var bytes atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(raws)) {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(raws); k = int(next.Add(1)) - 1 {
				n, err := get(client, raws[k])
				if err != nil {
					fmt.Println("HTTP CRITICAL -", err)
					failed.Add(1)
				}
				bytes.Add(n)
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

func get(client *http.Client, raw string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "floor")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
