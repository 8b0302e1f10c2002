// Command check_load checks the load average and pressure stall information.
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/load"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(load.Plugin, os.Exit)) }
