package main

import (
	"strings"
	"testing"
	"time"
)

const sampleChangelog = `# Changelog

## [Unreleased]
<!-- next-version: 0.3.0 -->

### Added
- check_x: a ` + "`--flag`" + ` that does a thing described at length so that the line has to be wrapped for the Debian changelog, see [the docs](https://example.org/).

## [0.2.0] - 2026-01-15

### Fixed
- A fix.
`

// TestChangelogFormats: Keep a Changelog in, a Debian changelog (lines
// within 80 columns, the pre-release after "~") and nfpm's chglog out.
func TestChangelogFormats(t *testing.T) {
	built := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	rels, err := parseChangelog(strings.NewReader(sampleChangelog), "0.3.0-dev+gabc", built)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 2 || rels[0].Version != "0.3.0-dev+gabc" || rels[1].Version != "0.2.0" || !rels[1].Date.Equal(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("parsed %+v", rels)
	}
	if c := rels[0].Changes[0]; !strings.HasPrefix(c, "Added: check_x: a --flag that") || !strings.HasSuffix(c, "see the docs.") {
		t.Errorf("change: %q", c)
	}
	var deb strings.Builder
	writeDebian(&deb, rels)
	out := deb.String()
	for _, want := range []string{"hindsight (0.3.0~dev+gabc-1) unstable; urgency=medium\n", "hindsight (0.2.0-1) unstable", "  * Fixed: A fix.\n",
		" -- " + packager + "  Mon, 30 Nov 2026 09:00:00 +0000\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("Debian changelog lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, " -- ") {
			t.Errorf("Debian changelog line over 80 columns: %q", line)
		}
	}
	var yml strings.Builder
	writeChglog(&yml, rels)
	if !strings.Contains(yml.String(), "- semver: \"0.3.0-dev+gabc\"\n  date: 2026-11-30T09:00:00Z\n") {
		t.Errorf("chglog:\n%s", yml.String())
	}
}
