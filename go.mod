module github.com/hindsight-plugins/hindsight

go 1.26.0

require (
	github.com/jessevdk/go-flags v1.6.1
	github.com/olorin/nagiosplugin v1.2.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	github.com/itchyny/gojq v0.12.20
	github.com/prometheus/procfs v0.23.0
)

require github.com/itchyny/timefmt-go v0.1.9 // indirect
