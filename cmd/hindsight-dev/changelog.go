package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// packager is the Maintainer of the packages (packaging/nfpm.yaml).
const packager = "hindsight developers <hindsight-plugins@users.noreply.github.com>"

// release is one "## [VERSION] - DATE" section of CHANGELOG.md.
type release struct {
	Version string
	Date    time.Time
	Changes []string // one per bullet, "Added: ..." etc., markdown removed
}

var releaseHead = regexp.MustCompile(`^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?`)

// parseChangelog reads a Keep a Changelog file. The Unreleased section
// takes the version being built and the build's date.
func parseChangelog(r io.Reader, version string, built time.Time) ([]release, error) {
	var out []release
	var cur *release
	section := ""
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if m := releaseHead.FindStringSubmatch(line); m != nil {
			rel := release{Version: m[1], Date: built}
			if strings.EqualFold(m[1], "unreleased") {
				rel.Version = version
			} else if m[2] != "" {
				d, err := time.Parse("2006-01-02", m[2])
				if err != nil {
					return nil, fmt.Errorf("%q: %w", line, err)
				}
				rel.Date = d
			}
			out = append(out, rel)
			cur, section = &out[len(out)-1], ""
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, "### "):
			section = strings.TrimSpace(strings.TrimPrefix(line, "### "))
		case strings.HasPrefix(line, "- "):
			text := plainText(strings.TrimPrefix(line, "- "))
			if section != "" {
				text = section + ": " + text
			}
			cur.Changes = append(cur.Changes, text)
		case strings.HasPrefix(line, "  ") && len(cur.Changes) > 0 && strings.TrimSpace(line) != "":
			cur.Changes[len(cur.Changes)-1] += " " + plainText(strings.TrimSpace(line))
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no \"## [VERSION]\" section")
	}
	return out, nil
}

var mdLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// plainText drops the markdown a packaging changelog shows literally.
func plainText(s string) string {
	s = mdLink.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("`", "", "**", "").Replace(s)
	return strings.TrimSpace(s)
}

// wrap cuts text into lines of at most width at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// debianVersion is nfpm's spelling of a SemVer in a .deb: the pre-release
// after "~" (sorts before the release), the package revision after "-".
func debianVersion(v string) string {
	v, meta, _ := strings.Cut(v, "+")
	v, pre, hasPre := strings.Cut(v, "-")
	if hasPre {
		v += "~" + pre
	}
	if meta != "" {
		v += "+" + meta
	}
	return v + "-1"
}

// writeDebian writes debian/changelog's format (lines under 80 columns).
func writeDebian(w io.Writer, rels []release) {
	for i, r := range rels {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "hindsight (%s) unstable; urgency=medium\n\n", debianVersion(r.Version))
		for _, c := range r.Changes {
			for j, l := range wrap(c, 74) {
				if j == 0 {
					fmt.Fprintf(w, "  * %s\n", l)
				} else {
					fmt.Fprintf(w, "    %s\n", l)
				}
			}
		}
		if len(r.Changes) == 0 {
			fmt.Fprintln(w, "  * No user-visible changes.")
		}
		fmt.Fprintf(w, "\n -- %s  %s\n", packager, r.Date.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	}
}

// writeChglog writes the YAML nfpm reads for the RPM %changelog
// (github.com/goreleaser/chglog): continuation lines are indented by it.
func writeChglog(w io.Writer, rels []release) {
	for _, r := range rels {
		fmt.Fprintf(w, "- semver: %s\n  date: %s\n  packager: %s\n  changes:\n",
			strconv.Quote(r.Version), r.Date.UTC().Format(time.RFC3339), strconv.Quote(packager))
		for _, c := range r.Changes {
			fmt.Fprintf(w, "    - commit: \"\"\n      note: %s\n", strconv.Quote(strings.Join(wrap(c, 72), "\n")))
		}
	}
}

// changelog: hindsight-dev changelog deb|chglog VERSION EPOCH [CHANGELOG.md]
func changelog(args []string) error {
	if len(args) < 3 {
		return errors.New("usage: changelog deb|chglog VERSION SOURCE_DATE_EPOCH [CHANGELOG.md]")
	}
	epoch, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil {
		return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", args[2], err)
	}
	path := "CHANGELOG.md"
	if len(args) > 3 {
		path = args[3]
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rels, err := parseChangelog(f, args[1], time.Unix(epoch, 0))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch args[0] {
	case "deb":
		writeDebian(os.Stdout, rels)
	case "chglog":
		writeChglog(os.Stdout, rels)
	default:
		return fmt.Errorf("changelog format %q: want deb or chglog", args[0])
	}
	return nil
}
