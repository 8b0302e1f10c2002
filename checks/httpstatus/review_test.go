package httpstatus

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// A body that does not complete is timed once: the perfdata time is the
// run's, not the response's time plus the failure's.
func TestBodyTimeoutTimedOnce(t *testing.T) {
	base := startServer(t, nil)
	start := time.Now()
	code, out := run(t, "-u", base+"/trickle", "-t", "2")
	took := time.Since(start)
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
	m := regexp.MustCompile(`\btime=([\d.]+)s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no time perfdata:\n%s", out)
	}
	secs, _ := strconv.ParseFloat(m[1], 64)
	if got := time.Duration(secs * float64(time.Second)); got > took {
		t.Errorf("time=%s but the run took %s:\n%s", got, took, out)
	}
}
