package stuckprocs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// BenchmarkHost is one healthy run on this machine's /proc, in-process:
// where a run's time goes beside process start-up.
func BenchmarkHost(b *testing.B) {
	for b.Loop() {
		parser, check, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs([]string{"--no-state-file", "-s", "D"}); err != nil {
			b.Fatal(err)
		}
		c := check.(*Check)
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Run(context.Background(), plugin.NewEnv(10*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFixture is one run on a procfs fixture tree named by
// HINDSIGHT_BENCH_PROCFS (make bench writes one of 10,000 processes), in
// process: where the time goes.
func BenchmarkFixture(b *testing.B) {
	root := os.Getenv("HINDSIGHT_BENCH_PROCFS")
	if root == "" {
		b.Skip("HINDSIGHT_BENCH_PROCFS not set")
	}
	for b.Loop() {
		var out strings.Builder
		plugin.Runner{Args: []string{"--procfs", root, "--no-state-file"}, Stdout: &out}.Run(Plugin)
	}
}

// BenchmarkSleepingThreads is a run on a generated tree of 50 processes
// of 100 threads each, all asleep in futex waits (JVMs at rest): what
// reading the wait channels of sleeping threads costs, against a run
// that reads none (cap 0), and with the per-run cap below the thread
// count.
func BenchmarkSleepingThreads(b *testing.B) {
	root := filepath.Join(b.TempDir(), "proc")
	writeProcfs(b, root, 0)
	for i := range 50 {
		pid := 10000 + i*1000
		threads := make([]fakeThread, 100)
		for j := range threads {
			threads[j] = fakeThread{tid: pid + j, state: "S", wchan: "futex_wait_queue"}
		}
		writeThreaded(b, root, pid, "java", threads...)
	}
	defer func(n int) { maxThreadWchans = n }(maxThreadWchans)
	for _, limit := range []int{0, 4096, 10000} {
		b.Run(fmt.Sprintf("cap=%d", limit), func(b *testing.B) {
			maxThreadWchans = limit
			for b.Loop() {
				var out strings.Builder
				plugin.Runner{Args: []string{"--procfs", root, "--no-state-file"}, Stdout: &out}.Run(Plugin)
				if !strings.HasPrefix(out.String(), "STUCK OK - 50 processes") {
					b.Fatal(out.String())
				}
			}
		})
	}
}
