// Command check_monitoring checks that the monitoring itself works: a
// Nagios 4, Naemon or Icinga 2 engine alive, checking and notifying.
package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/monitoring"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(monitoring.Plugin, os.Exit)) }
