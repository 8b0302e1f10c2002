# hindsight: Nagios/Icinga check plugins. See README.md.
GO       ?= go
PREFIX   ?= /usr/local
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/hindsight-plugins/hindsight/pkg/plugin.version=$(VERSION)
PLUGINS  := $(notdir $(wildcard cmd/check_*))
BINS     := $(addprefix bin/,$(PLUGINS))

.PHONY: all build demo test vet unit bench fuzz clean FORCE

all: build

## build: stripped static binaries in bin/, version from git describe
build: $(BINS)

bin/%: FORCE
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$*

## demo: build, then run every plugin against this machine (table of exit codes and status lines)
demo: build
	@$(GO) run ./cmd/hindsight-dev demo bin

## test: vet, then every unit and integration test with the race detector
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

## bench: whole-process runs side by side with the C monitoring-plugins
bench: build
	@test -x /usr/lib/nagios/plugins/check_load || { [ "$$(id -u)" = 0 ] && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends monitoring-plugins-basic; }; } || \
		echo "bench: monitoring-plugins-basic is not installed and we are not root: peer columns will be empty"
	@$(GO) run ./cmd/hindsight-dev bench bin $(BENCHFLAGS)

## fuzz: a short run of every fuzz target
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin dist
