package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/stuckprocs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(stuckprocs.Plugin, os.Exit)) }
