# hindsight: Nagios/Icinga check plugins. See README.md.
GO       ?= go
PREFIX   ?= /usr/local
# Semantic, from git tags: X.Y.Z at tag vX.Y.Z, NEXT-dev+gHASH between tags
# (packaging/version.sh). A plain `go build` reads the build info instead.
VERSION  := $(shell sh packaging/version.sh 2>/dev/null || echo 0.0.0-dev)
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

# --- packaging: generated definitions, install, .deb/.rpm, release -------
.PHONY: generate install package stage release freebsd

NFPM_VERSION      ?= v2.45.0
NFPM              := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
PLUGINDIR          = $(PREFIX)/lib/nagios/plugins/hindsight
DOCDIR             = $(PREFIX)/share/doc/hindsight
# The plugin directory of each package format: Debian's, and Fedora's and
# RHEL's %{_libdir}/nagios/plugins (lib64 on x86_64 and aarch64). The
# generated files name Debian's; staging rewrites them for the RPM.
PLUGINDIR_deb      = /usr/lib/nagios/plugins/hindsight
PLUGINDIR_rpm      = /usr/lib64/nagios/plugins/hindsight
ARCH              ?= $(shell $(GO) env GOARCH)
# The plugins that need no /proc or /sys and build for FreeBSD as well
# (the ones not in cmd/ yet are left out).
FREEBSD_PLUGINS   := $(filter $(PLUGINS),check_cert_expiry check_http_status check_monitoring)

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

## install: what make generate built, under $(DESTDIR)$(PREFIX) (no Go needed: sudo make install works); PREFIX=/usr is the Debian package's layout, which the definitions expect
install:
	@for n in $(PLUGINS); do test -x bin/$$n -a -f packaging/man/$$n.1 || { echo "install: bin/$$n or its man page is missing: run make generate first" >&2; exit 1; }; done
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(DOCDIR)/nagios $(DESTDIR)$(DOCDIR)/nrpe $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(PREFIX)/share/icinga2/include/plugins-contrib.d/hindsight
	install -m 0755 $(BINS) $(DESTDIR)$(PLUGINDIR)/
	for n in $(PLUGINS); do gzip -9n < packaging/man/$$n.1 > $(DESTDIR)$(PREFIX)/share/man/man1/$$n.1.gz; done
	install -m 0644 packaging/nagios/*.cfg $(DESTDIR)$(DOCDIR)/nagios/
	install -m 0644 packaging/nrpe/*.cfg $(DESTDIR)$(DOCDIR)/nrpe/
	install -m 0644 packaging/examples/* $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 packaging/icinga2/*.conf $(DESTDIR)$(PREFIX)/share/icinga2/include/plugins-contrib.d/hindsight/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	gzip -9n < CHANGELOG.md > $(DESTDIR)$(DOCDIR)/changelog.gz

## package: dist/hindsight_VERSION-1_ARCH.deb and dist/hindsight-VERSION-1.ARCH.rpm for this machine, built with nfpm (a Go tool, from the module proxy)
package: generate
	$(MAKE) --no-print-directory stage-deb stage-rpm ARCH=$(ARCH) BINDIR=bin VERSION='$(VERSION)'
	$(MAKE) --no-print-directory nfpm-deb nfpm-rpm ARCH=$(ARCH) VERSION='$(VERSION)'

# stage-FORMAT: the package's tree in dist/stage-ARCH-FORMAT, from BINDIR
# and the generated files, paths rewritten to the format's plugin directory.
BINDIR ?= bin
stage-%:
	rm -rf dist/stage-$(ARCH)-$*
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/dist/stage-$(ARCH)-$* PREFIX=/usr BINS="$(addprefix $(BINDIR)/,$(PLUGINS))"
	@st=dist/stage-$(ARCH)-$*; \
	if [ "$(PLUGINDIR_$*)" != "$(PLUGINDIR_deb)" ]; then \
		install -d $$st$(PLUGINDIR_$*) && mv $$st$(PLUGINDIR_deb)/* $$st$(PLUGINDIR_$*)/ && rm -r $$st/usr/lib; \
		for f in $$st/usr/share/doc/hindsight/nrpe/*.cfg $$st/usr/share/doc/hindsight/examples/*; do \
			sed -i 's,$(PLUGINDIR_deb)/,$(PLUGINDIR_$*)/,g' $$f; done; \
		for f in $$st/usr/share/man/man1/*.gz; do \
			gzip -dc $$f | sed 's,$(PLUGINDIR_deb)/,$(PLUGINDIR_$*)/,g' | gzip -9n > $$f.new && mv $$f.new $$f; done; \
	fi; \
	if [ $* = deb ]; then \
		install -m 0644 packaging/debian/copyright $$st/usr/share/doc/hindsight/copyright; \
		$(GO) run ./cmd/hindsight-dev changelog deb '$(VERSION)' $(SOURCE_DATE_EPOCH) | gzip -9n > $$st/usr/share/doc/hindsight/changelog.Debian.gz; \
	else \
		$(GO) run ./cmd/hindsight-dev changelog chglog '$(VERSION)' $(SOURCE_DATE_EPOCH) > $$st.changelog.yaml; \
	fi

# nfpm-FORMAT: the package from dist/stage-ARCH-FORMAT (the RPM with its
# %changelog from CHANGELOG.md; the .deb has its changelog.Debian.gz).
nfpm-%:
	@st=dist/stage-$(ARCH)-$*; cfg=$$st.nfpm.yaml; \
	sed -e 's,$${STAGE},./'$$st',g' -e 's,$${PLUGINDIR},$(PLUGINDIR_$*),g' packaging/nfpm.yaml > $$cfg; \
	if [ $* = rpm ]; then \
		for f in $$(cd $$st && find usr/share/doc usr/share/man -type f | sort); do \
			printf '  - {src: ./%s, dst: /%s, type: doc, packager: rpm, file_info: {mode: 0644}}\n' "$$st/$$f" "$$f" >> $$cfg; \
		done; \
		echo "changelog: $$st.changelog.yaml" >> $$cfg; \
	else sed -i '/^license:/d' $$cfg; fi; \
	PKG_VERSION='$(VERSION)' PKG_ARCH=$(ARCH) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
		$(NFPM) package -f $$cfg -p $* -t dist/

## release: .deb, .rpm and a tarball for linux/amd64 and linux/arm64, and tarballs of the FreeBSD builds, in dist/release/
RELEASE_ARCHES ?= amd64 arm64
release: generate
	rm -rf dist/release dist/*.deb dist/*.rpm && mkdir -p dist/release
	@for a in $(RELEASE_ARCHES); do \
		for n in $(PLUGINS); do \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/bin-linux-$$a/$$n ./cmd/$$n || exit 1; \
		done; \
		$(MAKE) --no-print-directory stage-deb stage-rpm nfpm-deb nfpm-rpm ARCH=$$a BINDIR=dist/bin-linux-$$a VERSION='$(VERSION)' || exit 1; \
		tar -C dist/stage-$$a-deb --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
			-czf dist/release/hindsight-$(VERSION)-linux-$$a.tar.gz usr || exit 1; \
	done
	mv dist/*.deb dist/*.rpm dist/release/
	$(MAKE) --no-print-directory freebsd VERSION='$(VERSION)'
	@for a in $(RELEASE_ARCHES); do \
		tar -C dist/bin-freebsd-$$a --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
			-czf dist/release/hindsight-$(VERSION)-freebsd-$$a.tar.gz . || exit 1; \
	done
	cd dist/release && sha256sum * > SHA256SUMS
	@ls -l dist/release

## freebsd: the plugins that need no /proc or /sys, built for FreeBSD (amd64, arm64) in dist/bin-freebsd-ARCH, and vetted with their tests for FreeBSD
freebsd:
	@for a in $(RELEASE_ARCHES); do for n in $(FREEBSD_PLUGINS); do \
		CGO_ENABLED=0 GOOS=freebsd GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/bin-freebsd-$$a/$$n ./cmd/$$n || exit 1; \
	done; done
	GOOS=freebsd $(GO) vet $$(GOOS=freebsd $(GO) list -deps $(addprefix ./cmd/,$(FREEBSD_PLUGINS)) | sed 's/ \[.*//' | grep '^$(shell $(GO) list -m)/' | sort -u)
