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

// buildPackages runs `make package` (this version) and packs the same
// tree again as 0.1.0, the "installed before" of the upgrade tests. It
// returns the old and new .deb and .rpm.
func buildPackages(t *testing.T, root string) (oldDeb, newDeb, oldRPM, newRPM string) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight*"))
	for _, f := range old {
		if !strings.Contains(f, "stage") {
			os.Remove(f)
		}
	}
	if out, err := command(t, 10*time.Minute, root, "make", "--no-print-directory", "package"); err != nil {
		t.Fatalf("make package: %v\n%s", err, tail(out, 3000))
	}
	debs, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight_*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight-*.rpm"))
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("make package made %q and %q, want one .deb and one .rpm", debs, rpms)
	}
	newDeb, newRPM = debs[0], rpms[0]
	if out, err := command(t, 5*time.Minute, root, "make", "--no-print-directory", "nfpm-deb", "nfpm-rpm", "VERSION=0.1.0"); err != nil {
		t.Fatalf("make nfpm-deb nfpm-rpm VERSION=0.1.0: %v\n%s", err, tail(out, 3000))
	}
	oldDebs, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight_0.1.0-1_*.deb"))
	oldRPMs, _ := filepath.Glob(filepath.Join(root, "dist", "hindsight-0.1.0-1.*.rpm"))
	if len(oldDebs) != 1 || len(oldRPMs) != 1 {
		t.Fatalf("no 0.1.0 packages: %q %q", oldDebs, oldRPMs)
	}
	return oldDebs[0], newDeb, oldRPMs[0], newRPM
}

// TestDebianPackage builds the packages with `make package`, checks the
// .deb with lintian, installs 0.1.0 with dpkg next to Debian's
// monitoring-plugins, upgrades to this version, runs every plugin and
// every command line of the README and the installed NRPE files from the
// installed paths, checks that Icinga 2's default configuration loads the
// shipped CheckCommands, and purges the package: nothing of ours is left,
// state included. Then the .rpm, in a scratch root (testRPM).
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
	oldDeb, newDeb, oldRPM, newRPM := buildPackages(t, root)
	t.Run("lintian", func(t *testing.T) { lintian(t, newDeb) })
	t.Run("rpmlint", func(t *testing.T) { rpmlint(t, newRPM) })
	t.Run("rpm", func(t *testing.T) { testRPM(t, root, oldRPM, newRPM) })

	// dpkg refuses to overwrite another package's file: installing at
	// all proves there is no conflict with monitoring-plugins.
	if out, err := command(t, 2*time.Minute, "/", "dpkg", "-i", oldDeb); err != nil {
		t.Fatalf("dpkg -i %s: %v\n%s", oldDeb, err, out)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			command(t, 2*time.Minute, "/", "dpkg", "--purge", "hindsight")
		}
	})
	if out, err := command(t, 2*time.Minute, "/", "dpkg", "-i", newDeb); err != nil {
		t.Fatalf("upgrade: dpkg -i %s: %v\n%s", newDeb, err, out)
	}
	if out, _ := command(t, time.Minute, "/", "dpkg-query", "-W", "-f=${Version}", "hindsight"); strings.HasPrefix(out, "0.1.0") {
		t.Errorf("after the upgrade dpkg has version %q", out)
	}

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
		"--procfs", filepath.Join(root, "testdata/load/idle-2cpu/proc"), "--sysfs", filepath.Join(root, "testdata/load/idle-2cpu/sys"), "--no-state-file"); err != nil || !strings.HasPrefix(out, "LOAD OK - ") {
		t.Errorf("installed check_load: %v: %q", err, out)
	}
	if out, err := command(t, time.Minute, "/", "dpkg", "-S", debianLoad); err != nil || !strings.HasPrefix(out, "monitoring-plugins-basic:") {
		t.Errorf("dpkg -S %s: %v: %q", debianLoad, err, out)
	}
	t.Run("documented paths exist", func(t *testing.T) {
		files := append([]string{filepath.Join(root, "README.md")}, installedDefinitions(t, "")...)
		for p, where := range documentedPaths(t, "/usr/lib/nagios/plugins", files...) {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	})
	t.Run("documented commands run", func(t *testing.T) {
		nrpe, _ := filepath.Glob("/usr/share/doc/hindsight/nrpe/*.cfg")
		runDocumented(t, documentedCommands(t, filepath.Join(root, "README.md"), nrpe), "", "")
	})
	t.Run("icinga2 loads the installed CheckCommands", icingaLoadsContrib)

	// Purge, with the state cache in a directory of the test's own (the
	// machine's /var/tmp/hindsight-0 may be in use by other tests).
	base := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(base, "hindsight-0", "probes"), 0o700))
	must(t, os.MkdirAll(filepath.Join(base, "hindsight-104"), 0o700))
	must(t, os.WriteFile(filepath.Join(base, "hindsight-104", "check_load-1a2b3c4d.json"), nil, 0o600))
	keep := t.TempDir()
	must(t, os.Symlink(keep, filepath.Join(base, "hindsight-105")))
	purge := exec.Command("dpkg", "--purge", "hindsight")
	purge.Env = append(os.Environ(), "HINDSIGHT_STATE_BASE="+base)
	if out, err := purge.CombinedOutput(); err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	removed = true
	for _, gone := range []string{installDir, "/usr/share/doc/hindsight", "/usr/share/icinga2/include/plugins-contrib.d/hindsight",
		"/usr/share/man/man1/check_stuck_procs.1.gz", filepath.Join(base, "hindsight-0"), filepath.Join(base, "hindsight-104")} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is still there after dpkg --purge", gone)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("purge followed a symlink: %v", err)
	}
	if _, err := os.Stat(debianLoad); err != nil {
		t.Errorf("dpkg --purge hindsight took Debian's plugin: %v", err)
	}
	if out, _ := command(t, time.Minute, "/", "dpkg-query", "-W", "-f=${Status}", "hindsight"); strings.Contains(out, "installed") || strings.Contains(out, "config-files") {
		t.Errorf("after dpkg --purge: %q", out)
	}
}

// installedDefinitions are the Nagios, NRPE and Icinga 2 files installed
// under root.
func installedDefinitions(t *testing.T, root string) []string {
	var out []string
	for _, g := range []string{"/usr/share/doc/hindsight/nagios/*.cfg", "/usr/share/doc/hindsight/nrpe/*.cfg",
		"/usr/share/icinga2/include/plugins-contrib.d/hindsight/*.conf"} {
		m, _ := filepath.Glob(root + g)
		if len(m) == 0 {
			t.Errorf("nothing installed at %s%s", root, g)
		}
		out = append(out, m...)
	}
	return out
}

// lintian: no error and no warning at the most pedantic level (the
// overrides in packaging/debian/lintian-overrides say why each is there).
func lintian(t *testing.T, deb string) {
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("lintian is not installed (.ci/apt-packaging.txt)")
	}
	out, _ := command(t, 5*time.Minute, "/", "lintian", "-EviIL", "+pedantic", deb)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			t.Errorf("lintian: %s", line)
		}
	}
}

// rpmlint: no error, but for the signature, which needs the releaser's key.
func rpmlint(t *testing.T, rpm string) {
	if _, err := exec.LookPath("rpmlint"); err != nil {
		t.Skip("rpmlint is not installed (.ci/apt-packaging.txt)")
	}
	out, _ := command(t, 5*time.Minute, "/", "rpmlint", rpm)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ": E: ") && !strings.Contains(line, ": E: no-signature") {
			t.Errorf("rpmlint: %s", line)
		}
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

// rpmPluginDir is %{_libdir}/nagios/plugins/hindsight on x86_64 and aarch64.
const rpmPluginDir = "/usr/lib64/nagios/plugins/hindsight"

// testRPM installs the 0.1.0 .rpm into a scratch root with rpm --root,
// upgrades it, runs the plugins and every installed NRPE line from there,
// erases it and checks that nothing of ours is left: files, directories
// (rpm removes only those a package owns) and the state cache.
//
// --nodeps: the scratch root has no package providing /bin/sh, which rpm
// requires for the %postun scriptlet; the scriptlet itself runs (chrooted)
// with busybox as /bin/sh and find when busybox-static is installed.
func testRPM(t *testing.T, root, oldRPM, newRPM string) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm is not installed (.ci/apt-packaging.txt)")
	}
	r := t.TempDir()
	tools := map[string]bool{}
	if bb, err := exec.LookPath("busybox"); err == nil {
		b, err := os.ReadFile(bb)
		must(t, err)
		for _, d := range []string{"bin", "usr/bin"} {
			must(t, os.MkdirAll(filepath.Join(r, d), 0o755))
			tools[d] = true
		}
		must(t, os.WriteFile(filepath.Join(r, "bin/busybox"), b, 0o755))
		for _, l := range []string{"bin/sh", "bin/rm", "usr/bin/find", "usr/bin/rm"} {
			must(t, os.Symlink("/bin/busybox", filepath.Join(r, l)))
			tools[l] = true
		}
		tools["bin/busybox"] = true
	} else {
		t.Log("busybox is not installed: the postun scriptlet cannot run in the scratch root, so the state cache is not checked")
	}
	// --dbpath: Debian's rpm keeps its database in ~/.rpmdb by default.
	rpm := func(args ...string) string {
		t.Helper()
		out, err := command(t, 2*time.Minute, "/", "rpm", append([]string{"--root", r, "--dbpath", "/var/lib/rpm"}, args...)...)
		if err != nil {
			t.Fatalf("rpm --root %s %s: %v\n%s", r, strings.Join(args, " "), err, out)
		}
		return out
	}
	rpm("--initdb")
	rpm("-i", "--nodeps", oldRPM)
	rpm("-U", "--nodeps", newRPM)
	if v := rpm("-q", "--qf", "%{VERSION}", "hindsight"); strings.HasPrefix(v, "0.1.0") {
		t.Errorf("after rpm -U the version is %q", v)
	}
	if docs := rpm("-qd", "hindsight"); !strings.Contains(docs, "/usr/share/doc/hindsight/README.md") || !strings.Contains(docs, "/usr/share/man/man1/check_load.1.gz") {
		t.Errorf("rpm -qd: README and man pages not marked as documentation:\n%s", docs)
	}
	for _, name := range plugins(t) {
		bin := filepath.Join(r, rpmPluginDir, name)
		out, err := command(t, time.Minute, "/", bin, "--version")
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 || !strings.HasPrefix(out, name+" (hindsight) ") {
			t.Errorf("%s --version: %v: %q", bin, err, out)
		}
	}
	defs := installedDefinitions(t, r)
	for p, where := range documentedPaths(t, "/usr/lib64/nagios/plugins", defs...) {
		if !strings.HasPrefix(p, rpmPluginDir+"/") {
			t.Errorf("%s: %s is not in %s", where, p, rpmPluginDir)
		}
		if _, err := os.Stat(filepath.Join(r, p)); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}
	nrpe, _ := filepath.Glob(filepath.Join(r, "/usr/share/doc/hindsight/nrpe/*.cfg"))
	runDocumented(t, documentedCommands(t, "", nrpe), rpmPluginDir, filepath.Join(r, rpmPluginDir))

	state := filepath.Join(r, "var/tmp/hindsight-104")
	must(t, os.MkdirAll(filepath.Join(state, "probes"), 0o700))
	rpm("-e", "hindsight")
	// What may remain: the rpm database, the busybox tools, and the
	// directories Fedora's filesystem package owns.
	allowed := map[string]bool{"usr": true, "usr/share": true, "usr/share/man": true, "usr/share/man/man1": true,
		"usr/share/doc": true, "usr/share/licenses": true, "usr/lib64": true, "var": true, "var/tmp": true, "var/lib": true}
	filepath.Walk(r, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(r, p)
		switch {
		case err != nil || rel == ".":
			return nil
		case rel == "var/lib/rpm" || strings.HasPrefix(rel, "usr/lib/sysimage"):
			return filepath.SkipDir
		case allowed[rel] || tools[rel] || rel == "usr/lib":
			return nil
		case strings.HasPrefix(rel, "var/tmp/hindsight-") && len(tools) == 0:
			return nil // the scriptlet could not run
		}
		t.Errorf("left in the scratch root after rpm -e: /%s", rel)
		return nil
	})
}
