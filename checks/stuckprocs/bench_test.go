package stuckprocs

import (
	"context"
	"os"
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
