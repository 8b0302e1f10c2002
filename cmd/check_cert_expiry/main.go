package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/certexpiry"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(certexpiry.Plugin, os.Exit)) }
