// Command nethttp is the floor of a Go HTTP check: its requests with
// net/http, nothing else (see package floor).
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/cmd/hindsight-dev/floor"
)

func main() {
	var urls []string
	for i := 1; i+1 < len(os.Args) && os.Args[i] == "-u"; i += 2 {
		urls = append(urls, os.Args[i+1])
	}
	if len(urls) == 0 || 2*len(urls)+1 != len(os.Args) {
		os.Stdout.WriteString("usage: nethttp -u URL [-u URL...]\n")
		os.Exit(3)
	}
	os.Exit(floor.Get(urls))
}
