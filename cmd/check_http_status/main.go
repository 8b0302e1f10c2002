package main

import (
	"os"

	"github.com/hindsight-plugins/hindsight/checks/httpstatus"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func main() { os.Exit(plugin.Main(httpstatus.Plugin, os.Exit)) }
