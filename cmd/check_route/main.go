// Command check_route checks the default routes, their gateways and routes to given destinations.
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/route"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(route.Plugin, os.Exit)) }
