package certexpiry

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
)

// TestGenerateCertDir writes N certificate files into DIR for measuring
// the binary by hand (/usr/bin/time -v check_cert_expiry -d DIR):
//
//	CERTEXPIRY_GEN_DIR=/tmp/c1k CERTEXPIRY_GEN_N=1000 go test -run TestGenerateCertDir ./checks/certexpiry/
//
// A thousand distinct certificates are made and written round-robin, so
// 200,000 files take seconds; parsing costs the same for each copy.
func TestGenerateCertDir(t *testing.T) {
	dir, n := os.Getenv("CERTEXPIRY_GEN_DIR"), os.Getenv("CERTEXPIRY_GEN_N")
	if dir == "" || n == "" {
		t.Skip("set CERTEXPIRY_GEN_DIR and CERTEXPIRY_GEN_N to generate a benchmark tree")
	}
	count, err := strconv.Atoi(n)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	distinct := make([][]byte, min(count, 1000))
	for i := range distinct {
		distinct[i] = certtest.New(t, certtest.Spec{CN: fmt.Sprintf("svc%d.test", i), NotAfter: now.Add(certtest.Days(float64(40 + i%300)))}).PEM()
	}
	for i := 0; i < count; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("%03d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("c%06d.pem", i)), distinct[i%len(distinct)], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
