package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/blockdev"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(blockdev.Plugin, os.Exit)) }
