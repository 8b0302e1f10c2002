package plugin

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jessevdk/go-flags"

	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// counter counts its runs in a state file the runtime keeps.
type counter struct {
	StateFile string `long:"state-file" description:"state" unquote:"false"`
}

func (c *counter) StateSpec() StateSpec {
	return StateSpec{Path: c.StateFile, Kind: "counter", Version: 1, Lost: "counting across runs"}
}

func (c *counter) Run(_ context.Context, env *Env) (Result, error) {
	var prev struct{ N int }
	env.PrevState(&prev)
	prev.N++
	env.SaveState(prev)
	var r Result
	r.Add(OK, "run "+itoa(prev.N))
	return r, nil
}

var counterPlugin = Plugin{Name: "check_counter", Service: "COUNT", New: func() Check { return &counter{} }}

func runCounter(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(counterPlugin)
	return code, out.String()
}

func TestStateLoadedAndSaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter.json")
	os.WriteFile(path, nil, 0o600) // an empty file is a fresh start
	for want := 1; want <= 3; want++ {
		code, out := runCounter(t, "--state-file", path)
		if code != 0 || out != "COUNT OK - run "+itoa(want)+"\n" {
			t.Fatalf("run %d: %d %q", want, code, out)
		}
	}
}

// A state file that cannot be used is a finding of its own, UNKNOWN, that
// says what is off, and is never overwritten.
func TestStateFileUnusable(t *testing.T) {
	dir := t.TempDir()
	asDir := filepath.Join(dir, "dir")
	os.Mkdir(asDir, 0o700)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	huge := filepath.Join(dir, "huge")
	f, _ := os.Create(huge)
	f.Truncate(1 << 30)
	f.Close()
	for path, problem := range map[string]string{
		asDir: "is a directory, not a regular file",
		loop:  "too many levels of symbolic links",
		fifo:  "is a FIFO, not a regular file",
		huge:  "larger than the 1 MiB limit for state files",
	} {
		code, out := runCounter(t, "--state-file", path)
		want := "COUNT UNKNOWN - counting across runs is off: state file " + path + ": " + problem
		if code != 3 || !strings.HasPrefix(out, want) {
			t.Errorf("%s: %d %q, want %q...", path, code, out, want)
		}
	}
	if fi, err := os.Lstat(asDir); err != nil || !fi.IsDir() {
		t.Errorf("the directory given as state file was replaced: %v", err)
	}
}

func TestStateFileNotWritable(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		// root writes anywhere, but refuses a state directory owned by
		// someone else (/var/tmp is shared)
		os.Chown(dir, 65534, 65534)
	} else {
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
	}
	code, out := runCounter(t, "--state-file", filepath.Join(dir, "s.json"))
	if code != 3 || !strings.Contains(out, "not written") {
		t.Errorf("%d %q", code, out)
	}
}

// A file that is not a state file of ours (a password file given by
// mistake) is UNKNOWN with a hint, and is left exactly as it was; an
// envelope of another kind is ours, and starts afresh.
func TestStateFileForeign(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x")
	for _, content := range []string{"important\n", "root:x:0:0:root:/root:/bin/bash\n", `{"a":1}`} {
		os.WriteFile(path, []byte(content), 0o644)
		code, out := runCounter(t, "--state-file", path)
		want := "COUNT UNKNOWN - counting across runs is off: state file " + path + ": not a hindsight state file; not overwritten: remove it or choose another --state-file"
		if code != 3 || !strings.HasPrefix(out, want) {
			t.Errorf("%q: %d %q, want %q...", content, code, out, want)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("%q: the file was changed to %q", content, got)
		}
	}
	os.WriteFile(path, []byte(`{"kind":"other","version":3,"data":{}}`), 0o600)
	if code, out := runCounter(t, "--state-file", path); code != 0 || out != "COUNT OK - run 1\n" {
		t.Errorf("another kind: %d %q", code, out)
	}
}

// The directory of an explicit state file must exist: it is not made.
func TestStateFileDirMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	code, out := runCounter(t, "--state-file", filepath.Join(dir, "s.json"))
	if code != 3 || !strings.Contains(out, "not written") || !strings.Contains(out, dir+" does not exist") {
		t.Errorf("%d %q", code, out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the directory was created")
	}
}

// StatePath gives every check the default path its own code gave before
// the runtime made it: existing users' state files must still be found.
// The key parts are what each check passes for the options shown; the
// names were computed by the checks' former statePath.
func TestStatePathDefaults(t *testing.T) {
	for _, tt := range []struct {
		name, check string
		key         []string
		want        string
	}{
		{"load defaults", "check_load", []string{"/proc", "/sys", "", "", "false", "0", "0", ""}, "check_load-2cfabf8a"},
		{"load -w 4,3,2 -c 8,6,4 -r -n 3 --psi-warning cpu=10 --psi-critical memory=5 --oom-warning 1 --procfs /x/proc", "check_load",
			[]string{"/x/proc", "/sys", "4,3,2", "8,6,4", "true", "3", "1", "", "w", "cpu:some:avg60=10", "c", "memory:some:avg60=5"}, "check_load-d53bfc85"},
		{"blockdev defaults", "check_blockdev", nil, "check_blockdev"},
		{"blockdev -d sdb -d nvme0n1 -p /srv -p /mnt/a -N nfs4 --procfs /x/proc", "check_blockdev",
			[]string{"/x/proc", "/sys", "false", "--", "/mnt/a", "/srv", "nfs4", "nvme0n1", "sdb"}, "check_blockdev-aaf71f91"},
		{"monitoring defaults", "check_monitoring", []string{"", "", "", "", "", "root", "/proc"}, "check_monitoring-fa3e523a"},
		{"monitoring --nagios-status --nagios-log", "check_monitoring",
			[]string{"", "/var/lib/nagios4/status.dat", "/var/log/nagios4/nagios.log", "", "", "root", "/proc"}, "check_monitoring-c9f1a809"},
		{"stuck_procs", "check_stuck_procs", nil, "check_stuck_procs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := filepath.Join(state.BaseDir, "hindsight-"+strconv.Itoa(os.Geteuid()), tt.want+".json")
			if got := StatePath(StateFile{}, false, tt.check, tt.key...); got != want {
				t.Errorf("StatePath = %q, want %q", got, want)
			}
		})
	}
}

// An explicit path wins, none keeps no state whatever is given, and
// /dev/null is a path that keeps none too.
func TestStatePathExplicit(t *testing.T) {
	for _, tt := range []struct {
		name       string
		file       StateFile
		none       bool
		want       string
		keepsState bool
	}{
		{"given", StateFile{Path: "/srv/s.json", Set: true}, false, "/srv/s.json", true},
		{"none", StateFile{}, true, "", false},
		{"none wins over a path", StateFile{Path: "/srv/s.json", Set: true}, true, "", false},
		{"dev null", StateFile{Path: os.DevNull, Set: true}, false, os.DevNull, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatePath(tt.file, tt.none, "check_x", "k"); got != tt.want {
				t.Errorf("StatePath = %q, want %q", got, tt.want)
			}
			if got := KeepsState(tt.file, tt.none); got != tt.keepsState {
				t.Errorf("KeepsState = %v, want %v", got, tt.keepsState)
			}
		})
	}
}

// Given empty is told from not given: go-flags sets the field only when
// the option is on the command line.
func TestStateFileEmptyGiven(t *testing.T) {
	var opts struct {
		StateFile StateFile `long:"state-file" unquote:"false"`
	}
	for _, tt := range []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"--state-file", "/srv/s.json"}, false},
		{[]string{"--state-file", ""}, true},
		{[]string{"--state-file="}, true},
	} {
		opts.StateFile = StateFile{}
		if _, err := flags.NewParser(&opts, flags.None).ParseArgs(tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if err := opts.StateFile.Check(); (err != nil) != tt.wantErr {
			t.Errorf("%q: Check() = %v, want error %v", tt.args, err, tt.wantErr)
		}
	}
}
