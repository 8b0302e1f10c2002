// Command nethttp is the floor of a Go HTTP check: one request with
// net/http, nothing else (see package floor).
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/cmd/hindsight-dev/floor"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "-u" {
		os.Stdout.WriteString("usage: nethttp -u URL\n")
		os.Exit(3)
	}
	os.Exit(floor.Get(os.Args[2]))
}
