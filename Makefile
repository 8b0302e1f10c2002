# hindsight: Nagios/Icinga check plugins. See README.md.
GO       ?= go
PREFIX   ?= /usr/local
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/hindsight-plugins/hindsight/pkg/plugin.version=$(VERSION)
PLUGINS  := $(notdir $(wildcard cmd/check_*))
BINS     := $(addprefix bin/,$(PLUGINS))

.PHONY: all build demo test vet lint unit bench fuzz fuzz-short pgo soak clean FORCE

all: build

## build: stripped static binaries in bin/, version from git describe
build: $(BINS)

bin/%: FORCE
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$*

## demo: build, then run every plugin against this machine (table of exit codes and status lines)
demo: build
	@$(GO) run ./cmd/hindsight-dev demo bin

## test: vet, lint, then every unit and integration test with the race detector
test: vet lint
	$(GO) test -race -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

# Linters run from the module proxy at pinned versions (go run pkg@version):
# nothing to install, the same findings everywhere.
STATICCHECK_VERSION ?= v0.8.2
DEADCODE_VERSION    ?= v0.52.0

## lint: staticcheck, and deadcode: fails on any function that neither a main (plugins, hindsight-dev) nor a test reaches
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@out=$$($(GO) run golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION) -test ./...) || exit 1; \
		if [ -n "$$out" ]; then echo "$$out"; echo "lint: dead code above (unreachable from every main and test): remove it"; exit 1; fi

## soak: Nagios 4 runs every plugin as services every 5-10 s against a hung FUSE mount, a silent port and healthy targets for DURATION (root; make test runs 3m): stuck children bounded, RSS flat, nothing stale or killed
DURATION     ?= 3m
SOAK_TIMEOUT ?= 24h
soak:
	HINDSIGHT_SOAK=$(DURATION) $(GO) test -count=1 -v -run '^TestSoak$$' -timeout $(SOAK_TIMEOUT) ./packaging/engines

## bench: whole-process runs side by side with the C monitoring-plugins
bench: build
	@test -x /usr/lib/nagios/plugins/check_load || { [ "$$(id -u)" = 0 ] && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends monitoring-plugins-basic; }; } || \
		echo "bench: monitoring-plugins-basic is not installed and we are not root: peer columns will be empty"
	@$(GO) run ./cmd/hindsight-dev bench bin $(BENCHFLAGS)

## pgo: refresh cmd/check_http_status/default.pgo, the CPU profile go build uses to optimise that binary (about 6% off a run; its speed target is the tightest)
pgo:
	$(GO) test -run '^$$' -bench '^BenchmarkRunOneURL$$' -benchtime 3000x -cpuprofile cmd/check_http_status/default.pgo ./checks/httpstatus
	rm -f httpstatus.test

## fuzz: every fuzz target for FUZZTIME (20s); an input that fails is written to the package's testdata/fuzz/: fix the code, commit the file (plain go test replays it)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz: $$f in $$pkg for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## fuzz-short: make fuzz with each target for 3s, for CI
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

clean:
	rm -rf bin dist

# --- packaging (issue 7): generated definitions, install, .deb/.rpm ---------
.PHONY: generate install package

NFPM_VERSION      ?= v2.45.0
NFPM              := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
PKG_VERSION       := $(shell echo '$(VERSION)' | sed -e 's/^\([^v]\)/0.0.0+git.\1/' -e 's/^v\([^0-9]\)/0.0.0+git.v\1/' -e 's/^v//' | tr - .)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
PLUGINDIR          = $(PREFIX)/lib/nagios/plugins/hindsight
DOCDIR             = $(PREFIX)/share/doc/hindsight

## generate: man pages (packaging/man) and the Nagios, NRPE and Icinga 2 definitions (packaging/*, committed), each binary describing itself
generate: build
	@mkdir -p packaging/man packaging/nagios packaging/nrpe packaging/icinga2
	@for b in $(BINS); do n=$${b#bin/}; \
		for out in man:man/$$n.1 nagios:nagios/$$n.cfg nrpe:nrpe/$$n.cfg icinga2:icinga2/$$n.conf; do \
			f=packaging/$${out#*:}; \
			SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $$b --generate=$${out%%:*} > $$f.tmp || { rm -f $$f.tmp; echo "generate: $$b --generate=$${out%%:*} failed" >&2; exit 1; }; \
			if cmp -s $$f.tmp $$f; then rm $$f.tmp; else mv $$f.tmp $$f; fi; \
		done; \
		echo "generated man page and definitions for $$n"; \
	done

## install: what make generate built, under $(DESTDIR)$(PREFIX) (no Go needed: sudo make install works); PREFIX=/usr is the packages' layout, which the definitions expect
install:
	@for n in $(PLUGINS); do test -x bin/$$n -a -f packaging/man/$$n.1 || { echo "install: bin/$$n or its man page is missing: run make generate first" >&2; exit 1; }; done
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(DOCDIR)/nagios $(DESTDIR)$(DOCDIR)/nrpe $(DESTDIR)$(DOCDIR)/icinga2 \
		$(DESTDIR)$(PREFIX)/share/icinga2/include/plugins-contrib.d/hindsight
	install -m 0755 $(BINS) $(DESTDIR)$(PLUGINDIR)/
	for n in $(PLUGINS); do gzip -9n < packaging/man/$$n.1 > $(DESTDIR)$(PREFIX)/share/man/man1/$$n.1.gz; done
	install -m 0644 packaging/nagios/*.cfg $(DESTDIR)$(DOCDIR)/nagios/
	install -m 0644 packaging/nrpe/*.cfg $(DESTDIR)$(DOCDIR)/nrpe/
	install -m 0644 packaging/icinga2/*.conf $(DESTDIR)$(DOCDIR)/icinga2/
	install -m 0644 packaging/icinga2/*.conf $(DESTDIR)$(PREFIX)/share/icinga2/include/plugins-contrib.d/hindsight/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/

## package: dist/hindsight_*.deb and dist/hindsight-*.rpm, built with nfpm (a Go tool, from the module proxy) from a staged install
package: generate
	rm -rf dist/stage
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/dist/stage PREFIX=/usr
	install -m 0644 LICENSE dist/stage/usr/share/doc/hindsight/copyright
	for f in deb rpm; do \
		PKG_VERSION='$(PKG_VERSION)' PKG_ARCH=$$($(GO) env GOARCH) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
			$(NFPM) package -f packaging/nfpm.yaml -p $$f -t dist/ || exit 1; \
	done
