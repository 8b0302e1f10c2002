// Command plugin is the floor of check_http_status under hindsight's
// rules: go-flags parses its options (gojq, which it links, initialises
// first), then one request with net/http (see package floor).
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/httpstatus"
	"github.com/hindsight-plugins/hindsight/cmd/hindsight-dev/floor"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() {
	parser, check, _ := plugin.NewParser(httpstatus.Plugin)
	if _, err := parser.ParseArgs(os.Args[1:]); err != nil {
		os.Stdout.WriteString("HTTP UNKNOWN - " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Exit(floor.Get(check.(*httpstatus.Options).URLs))
}
