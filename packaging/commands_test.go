package packaging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// debPluginDir is where the .deb and the generated files put the plugins.
const debPluginDir = "/usr/lib/nagios/plugins/hindsight"

var (
	// nrpeCommand is an NRPE command line: command[NAME]=COMMAND.
	nrpeCommand = regexp.MustCompile(`command\[([^\]]+)\]=(.+)$`)
	// pluginPath is a path to one of our plugins, as the README and the
	// definitions spell it (also $USER1$/... and Icinga 2's PluginDir).
	pluginPath = regexp.MustCompile(`(/usr/lib(?:64)?/nagios/plugins|\$USER1\$|PluginDir \+ ")(/[A-Za-z0-9_/.-]*check_[a-z_]+)`)
	// Documentation targets, replaced by loopback ones so that a run
	// never leaves the machine.
	docHost  = regexp.MustCompile(`\b([a-z0-9-]+\.)*example(\.(com|org|net))?\b|\b192\.0\.2\.[0-9]+\b|\b198\.51\.100\.[0-9]+\b`)
	docHost6 = regexp.MustCompile(`\b2001:db8::[0-9a-f]+\b`)
	// statusRe is a valid first line.
	statusRe = regexp.MustCompile(`^[A-Z0-9_]+ (OK|WARNING|CRITICAL|UNKNOWN) - `)
)

// docCommand is one command line found in the README or a shipped file.
type docCommand struct {
	Where, Line string
}

// documentedCommands finds every plugin command line of the README and of
// the installed definitions under root (the NRPE lines; the Nagios and
// Icinga 2 files have $ARGn$ and macros, their paths are checked by
// documentedPaths): README lines of command[...]= and lines that start
// with a plugin's path, sudo -n dropped.
func documentedCommands(t *testing.T, readme string, nrpeFiles []string) []docCommand {
	t.Helper()
	var out []docCommand
	add := func(where, line string) {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "$ARG") || strings.Contains(line, "...") || line == "" {
			return
		}
		line = strings.TrimPrefix(line, "sudo -n ")
		out = append(out, docCommand{where, line})
	}
	var readmeLines []string
	if readme != "" {
		b, err := os.ReadFile(readme)
		must(t, err)
		readmeLines = strings.Split(string(b), "\n")
	}
	for i, line := range readmeLines {
		where := "README.md:" + strconv.Itoa(i+1)
		if m := nrpeCommand.FindStringSubmatch(line); m != nil {
			cmd := m[2]
			// `echo 'command[x]=... ' | sudo tee` and `command[x]=...` in backticks.
			cmd, _, _ = strings.Cut(cmd, "`")
			cmd = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cmd), `\`)), "'")
			add(where, cmd)
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, debPluginDir+"/") || strings.HasPrefix(trimmed, "sudo -n "+debPluginDir+"/") {
			if i := strings.Index(trimmed, "  #"); i > 0 {
				trimmed = trimmed[:i]
			}
			add(where, trimmed)
		}
	}
	for _, f := range nrpeFiles {
		b, err := os.ReadFile(f)
		must(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			if m := nrpeCommand.FindStringSubmatch(line); m != nil && strings.HasPrefix(line, "#command[") {
				add(filepath.Base(f)+":"+strconv.Itoa(i+1), m[2])
			}
		}
	}
	return out
}

// documentedPaths are the plugin paths the given files name, $USER1$ and
// PluginDir standing for base (the distribution's plugin directory).
func documentedPaths(t *testing.T, base string, files ...string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range pluginPath.FindAllStringSubmatch(line, -1) {
				dir := m[1]
				if strings.HasPrefix(dir, "$") || strings.HasPrefix(dir, "PluginDir") {
					dir = base
				}
				paths[dir+m[2]] = filepath.Base(f) + ":" + strconv.Itoa(i+1)
			}
		}
	}
	return paths
}

// loopback points a documented command at this machine.
func loopback(line string) string {
	line = docHost6.ReplaceAllString(line, "::1")
	return docHost.ReplaceAllString(line, "127.0.0.1")
}

// runDocumented runs every command, with the plugin directory from
// replaced by to (a scratch root's), through sh as NRPE does, and fails unless each
// ends with a valid status line and exit 0-3 (any state: the targets are
// not there; what matters is that the path and the options are right).
func runDocumented(t *testing.T, cmds []docCommand, from, to string) {
	t.Helper()
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			line := loopback(c.Line) + " -t 5"
			if from != "" {
				line = strings.ReplaceAll(line, from+"/", to+"/")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
			cmd.Dir = "/"
			out, err := cmd.Output()
			code := 0
			if exit, ok := err.(*exec.ExitError); ok {
				code = exit.ExitCode()
			} else if err != nil {
				code = -1
			}
			if code < 0 || code > 3 || !statusRe.Match(out) || strings.Contains(string(out), "unknown flag") {
				t.Errorf("%s: %s: exit %d: %.300s", c.Where, line, code, out)
			}
		}()
	}
	wg.Wait()
}

// TestDocumentedCommandsFound: the extraction itself, so that a README
// edit cannot silently leave every command out of the package tests.
func TestDocumentedCommandsFound(t *testing.T) {
	nrpe, _ := filepath.Glob("nrpe/*.cfg")
	cmds := documentedCommands(t, "../README.md", nrpe)
	perPlugin := map[string]int{}
	for _, c := range cmds {
		m := pluginPath.FindStringSubmatch(c.Line)
		if m == nil || !strings.HasPrefix(c.Line, debPluginDir+"/") {
			t.Errorf("%s: not a plugin command: %s", c.Where, c.Line)
			continue
		}
		perPlugin[filepath.Base(m[2])]++
	}
	for _, name := range plugins(t) {
		if perPlugin[name] < 2 {
			t.Errorf("%s: %d documented command lines found, want the README's and the NRPE file's", name, perPlugin[name])
		}
	}
	paths := documentedPaths(t, "/usr/lib/nagios/plugins", append(append([]string{"../README.md"}, nrpe...), globs(t, "nagios/*.cfg", "icinga2/*.conf")...)...)
	var names []string
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if !strings.HasPrefix(p, debPluginDir+"/check_") && !strings.HasPrefix(p, "/usr/lib/nagios/plugins/check_nrpe") {
			t.Errorf("%s names %s: not in %s", paths[p], p, debPluginDir)
		}
	}
	if got := loopback("-H www.example.com -u https://a.example/ -I 192.0.2.10 --to 2001:db8::10"); got != "-H 127.0.0.1 -u https://127.0.0.1/ -I 127.0.0.1 --to ::1" {
		t.Errorf("loopback: %q", got)
	}
}

func globs(t *testing.T, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		must(t, err)
		out = append(out, m...)
	}
	return out
}
