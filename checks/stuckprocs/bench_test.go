package stuckprocs

import (
	"context"
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
