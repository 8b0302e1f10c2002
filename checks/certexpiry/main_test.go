package certexpiry

import (
	"os"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
)

// TestMain serves the isolated prober's child mode: in-process runs of
// the check re-execute this test binary to list directories.
func TestMain(m *testing.M) {
	if isolate.IsChild(os.Args) {
		os.Exit(isolate.ChildMain(os.Args, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}
