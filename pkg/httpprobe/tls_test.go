package httpprobe

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseRootCAs(t *testing.T) {
	if _, err := ParseRootCAs([]byte("not PEM")); err == nil || err.Error() != "no PEM certificate in it" {
		t.Errorf("not PEM: %v", err)
	}
}

// pkg/httpprobe knows nothing of check_http_status: no message names one
// of its flags ("--ca-file"); the check adds such hints.
func TestNoFlagNamesInMessages(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	flag := regexp.MustCompile(`"(?:[^"\n]*?[\s(/])?-{1,2}[a-zA-Z][^"\n]*"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range flag.FindAll(src, -1) {
			t.Errorf("%s: message names a flag: %s", f, m)
		}
	}
}
