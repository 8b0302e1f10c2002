package load

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// fixtureKernel reads testdata/load/NAME/{proc,sys} through the runtime's
// file source, as gather does.
func fixtureKernel(t *testing.T, env *plugin.Env, name string) kernel {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "load", name)
	return newKernel(context.Background(), env, &Options{ProcRoot: plugin.ProcRoot{Procfs: filepath.Join(root, "proc")}, SysRoot: plugin.SysRoot{Sysfs: filepath.Join(root, "sys")}})
}

func TestCPUCount(t *testing.T) {
	tests := []struct {
		fixture string
		count   float64
		detail  string
	}{
		{"idle-2cpu", 2, "2 CPUs (all online, no cgroup CPU quota)"},
		{"container-v2-quota", 2, "2 CPUs (cgroup quota 2 in "},
		{"docker-v1-parent-quota", 1.5, "1.5 CPUs (cgroup quota 1.5 in "},
		{"affinity", 2, "2 CPUs (2 of 8 online allowed by affinity)"},
		{"no-psi", 1, "1 CPUs"},
	}
	env := plugin.NewEnv(10 * time.Second)
	for _, tt := range tests {
		c, err := countCPUs(fixtureKernel(t, env, tt.fixture))
		if err != nil || c.Count != tt.count || !strings.HasPrefix(c.String(), tt.detail) {
			t.Errorf("%s: %v (%s), %v; want %v (%s...)", tt.fixture, c.Count, c, err, tt.count, tt.detail)
		}
	}
	empty := newKernel(context.Background(), env, &Options{ProcRoot: plugin.ProcRoot{Procfs: t.TempDir()}, SysRoot: plugin.SysRoot{Sysfs: t.TempDir()}})
	if _, err := countCPUs(empty); err == nil || !strings.Contains(err.Error(), "devices/system/cpu/online") {
		t.Errorf("missing sysfs: %v", err)
	}
}

func TestTopConsumersLifetime(t *testing.T) {
	env := plugin.NewEnv(60 * time.Second)                               // probe children of a -race test binary start slowly
	env.Now = func() time.Time { return time.Unix(1700000000+10000, 0) } // 10000 s after boot
	list, err := topConsumers(context.Background(), env, fixtureKernel(t, env, "overloaded"), 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	// ffmpeg: 3600 s of CPU over 9000 s of life = 40%; tar: 1200 s over 9000 s.
	want := []string{
		"pid 2001 33 R 40.0% CPU: ffmpeg -i in put.mkv out.mp4",
		"pid 2002 root R 13.3% CPU: tar czf /backup/all.tgz /",
		"pid 1 root S 0.0% CPU: /sbin/init",
	}
	if len(list) != len(want) {
		t.Fatalf("got %d consumers: %v", len(list), list)
	}
	for i, c := range list {
		got := c.String()
		// uid 33 is shown by name where this machine's passwd knows it
		if got != want[i] && !(i == 0 && strings.HasPrefix(got, "pid 2001 ") && strings.HasSuffix(got, " R 40.0% CPU: ffmpeg -i in put.mkv out.mp4")) {
			t.Errorf("consumer %d: %q, want %q", i, got, want[i])
		}
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/mnt/my\040disk\134x`); got != `/mnt/my disk\x` {
		t.Errorf("unescape: %q", got)
	}
}

// BenchmarkRun is one whole check of this host, as the binary runs it
// minus process start: the mount table scan of the file source included,
// since every run pays it.
func BenchmarkRun(b *testing.B) {
	for _, args := range [][]string{{"-w", "5,4,3", "-c", "10,8,6"}, {}} {
		b.Run(strings.Join(append([]string{"args"}, args...), " "), func(b *testing.B) {
			for b.Loop() {
				o := &Options{ProcRoot: plugin.ProcRoot{Procfs: "/proc"}, SysRoot: plugin.SysRoot{Sysfs: "/sys"}}
				if len(args) > 0 {
					o.Warning.UnmarshalFlag(args[1])
					o.Critical.UnmarshalFlag(args[3])
				}
				if _, err := o.Run(context.Background(), plugin.NewEnv(10*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMountTable is the file source's first classification: reading
// and scanning /proc/self/mountinfo, which every run pays once.
func BenchmarkMountTable(b *testing.B) {
	for b.Loop() {
		plugin.NewEnv(10*time.Second).Files().Dir(context.Background(), "/proc")
	}
}
