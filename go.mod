module github.com/hindsight-plugins/hindsight

go 1.26.0

require (
	github.com/jessevdk/go-flags v1.6.1
	github.com/olorin/nagiosplugin v1.2.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	github.com/itchyny/gojq v0.12.20
	github.com/pavlo-v-chernykh/keystore-go/v4 v4.5.0
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	github.com/itchyny/timefmt-go v0.1.9 // indirect
	golang.org/x/text v0.44.0 // indirect
)
