package packaging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	installDir = "/usr/lib/nagios/plugins/hindsight"
	debianLoad = "/usr/lib/nagios/plugins/check_load" // monitoring-plugins-basic's
)

// command runs a command with a bound and returns its combined output.
func command(t *testing.T, timeout time.Duration, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDebianPackage builds the packages with `make package`, installs the
// .deb with dpkg next to Debian's monitoring-plugins, runs every plugin
// from its installed path, checks that Icinga 2's default configuration
// loads the shipped CheckCommands, and removes the package.
func TestDebianPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: dpkg -i needs root")
	}
	for _, p := range []string{"dpkg", "make", debianLoad} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (monitoring-plugins-basic, see .ci/apt-engines.txt)", p)
		}
	}
	if out, err := command(t, time.Minute, "/", "dpkg-query", "-W", "-f=${Status}", "hindsight"); err == nil && strings.Contains(out, "installed") {
		t.Skip("a hindsight package is already installed on this machine: not replacing it")
	}
	root, err := filepath.Abs("..")
	must(t, err)
	old, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight*"))
	for _, f := range old {
		os.Remove(f)
	}
	if out, err := command(t, 10*time.Minute, root, "make", "--no-print-directory", "package"); err != nil {
		t.Fatalf("make package: %v\n%s", err, tail(out, 3000))
	}
	debs, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight_*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight-*.rpm"))
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("make package made %q and %q, want one .deb and one .rpm", debs, rpms)
	}

	// dpkg refuses to overwrite another package's file: installing at
	// all proves there is no conflict with monitoring-plugins.
	if out, err := command(t, 2*time.Minute, "/", "dpkg", "-i", debs[0]); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			command(t, 2*time.Minute, "/", "dpkg", "-r", "hindsight")
		}
	})

	for _, name := range plugins(t) {
		bin := filepath.Join(installDir, name)
		out, err := command(t, time.Minute, "/", bin, "--version")
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 || !strings.HasPrefix(out, name+" (hindsight) ") {
			t.Errorf("%s --version: %v: %q", bin, err, out)
		}
		out, err = command(t, time.Minute, "/", bin, "--help")
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, "Exit codes:") {
			t.Errorf("%s --help: %v: %.300q", bin, err, out)
		}
		for _, f := range []string{
			"/usr/share/man/man1/" + name + ".1.gz",
			"/usr/share/doc/hindsight/nagios/" + name + ".cfg",
			"/usr/share/doc/hindsight/nrpe/" + name + ".cfg",
			"/usr/share/icinga2/include/plugins-contrib.d/hindsight/" + name + ".conf",
		} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("not installed: %v", err)
			}
		}
	}
	// check_load: ours by its run, Debian's still in place and Debian's.
	if out, err := command(t, time.Minute, "/", filepath.Join(installDir, "check_load"),
		"--procfs", filepath.Join(root, "testdata/load/idle-2cpu/proc"), "--sysfs", filepath.Join(root, "testdata/load/idle-2cpu/sys")); err != nil || !strings.HasPrefix(out, "LOAD OK - ") {
		t.Errorf("installed check_load: %v: %q", err, out)
	}
	if out, err := command(t, time.Minute, "/", "dpkg", "-S", debianLoad); err != nil || !strings.HasPrefix(out, "monitoring-plugins-basic:") {
		t.Errorf("dpkg -S %s: %v: %q", debianLoad, err, out)
	}
	t.Run("icinga2 loads the installed CheckCommands", icingaLoadsContrib)

	if out, err := command(t, 2*time.Minute, "/", "dpkg", "-r", "hindsight"); err != nil {
		t.Fatalf("dpkg -r: %v\n%s", err, out)
	}
	removed = true
	for _, gone := range []string{installDir, "/usr/share/doc/hindsight", "/usr/share/icinga2/include/plugins-contrib.d/hindsight"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s is still there after dpkg -r", gone)
		}
	}
	if _, err := os.Stat(debianLoad); err != nil {
		t.Errorf("dpkg -r hindsight took Debian's plugin: %v", err)
	}
	if out, _ := command(t, time.Minute, "/", "dpkg-query", "-W", "-f=${Status}", "hindsight"); strings.Contains(out, "installed") || strings.Contains(out, "config-files") {
		t.Errorf("after dpkg -r: %q", out)
	}
}

// icingaLoadsContrib validates Icinga 2's own configuration (which has
// `include <plugins-contrib>`) and finds our CheckCommands in it.
func icingaLoadsContrib(t *testing.T) {
	if _, err := exec.LookPath("icinga2"); err != nil {
		t.Skip("icinga2 is not installed: not checking that it loads the installed CheckCommands")
	}
	cache, err := os.MkdirTemp("", "hindsight-icinga-cache-")
	must(t, err)
	defer os.RemoveAll(cache)
	must(t, exec.Command("chown", "nagios:nagios", cache).Run())
	if out, err := command(t, time.Minute, "/", "icinga2", "daemon", "-C", "-DCacheDir="+cache); err != nil {
		t.Fatalf("icinga2 daemon -C with the package installed: %v\n%s", err, tail(out, 3000))
	}
	for _, name := range plugins(t) {
		cc := "hindsight_" + strings.TrimPrefix(name, "check_")
		out, err := command(t, time.Minute, "/", "icinga2", "object", "list", "--type", "CheckCommand", "--name", cc, "-DCacheDir="+cache)
		if err != nil || !strings.Contains(out, "plugins-contrib.d/hindsight/"+name+".conf") {
			t.Errorf("icinga2 object list: %s not loaded from plugins-contrib.d: %v\n%s", cc, err, tail(out, 1000))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
