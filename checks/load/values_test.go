package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// procTree writes a procfs with this loadavg and these pressure files
// (resource -> content; "" leaves the file out).
func procTree(t *testing.T, loadavg string, pressure map[string]string) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("loadavg", loadavg)
	for _, res := range psiResources {
		content, ok := pressure[res]
		if !ok {
			content = "some avg10=1.00 avg60=2.00 avg300=3.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		}
		if content != "" {
			write(filepath.Join("pressure", res), content)
		}
	}
	return root
}

// Values the kernel cannot have written are UNKNOWN "malformed", never
// judged: an "inf" load would be CRITICAL for no reason, a NaN never.
func TestMalformedKernelValues(t *testing.T) {
	tests := []struct {
		name     string
		loadavg  string
		pressure map[string]string
		code     int
		want     string
	}{
		{"plain", "0.10 0.20 0.30 1/79 1846\n", nil, 0, "LOAD OK - total load average: 0.10, 0.20, 0.30 |"},
		{"a large but possible load", "4194303.99 0.20 0.30 1/79 1846\n", nil, 2, "LOAD CRITICAL"},
		{"inf", "inf 0.20 0.30 1/79 1846\n", nil, 3, `LOAD UNKNOWN - malformed load average "inf" in `},
		{"nan", "0.10 NaN 0.30 1/79 1846\n", nil, 3, `malformed load average "NaN" in `},
		{"beyond any load", "9.99e28 0.20 0.30 1/79 1846\n", nil, 3, `malformed load average "9.99e28" in `},
		{"negative", "0.10 0.20 -0.30 1/79 1846\n", nil, 3, `malformed load average "-0.30" in `},
		{"hex", "0x1p4 0.20 0.30 1/79 1846\n", nil, 3, `malformed load average "0x1p4" in `},
		{"underscore", "1_0 0.20 0.30 1/79 1846\n", nil, 3, `malformed load average "1_0" in `},
		{"pressure inf", "0.10 0.20 0.30 1/79 1846\n", map[string]string{"io": "some avg10=inf avg60=2.00 avg300=3.00 total=1\n"}, 3,
			`LOAD UNKNOWN - total load average: 0.10, 0.20, 0.30 / malformed pressure "avg10=inf" in `},
		{"pressure above 100%", "0.10 0.20 0.30 1/79 1846\n", map[string]string{"cpu": "some avg10=100.01 avg60=2.00 avg300=3.00 total=1\n"}, 3,
			`malformed pressure "avg10=100.01" in `},
		{"pressure negative", "0.10 0.20 0.30 1/79 1846\n", map[string]string{"memory": "full avg10=0.00 avg60=-1 avg300=3.00 total=1\n"}, 3,
			`malformed pressure "avg60=-1" in `},
		{"pressure at 100%", "0.10 0.20 0.30 1/79 1846\n", map[string]string{"memory": "some avg10=100.00 avg60=2.00 avg300=3.00 total=1\n"}, 0,
			"psi_memory_some_avg10=100%;;;0;100"},
		{"no pressure files is a note, not malformed", "0.10 0.20 0.30 1/79 1846\n", map[string]string{"cpu": "", "io": "", "memory": ""}, 0, "LOAD OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := procTree(t, tt.loadavg, tt.pressure)
			code, out := run(t, "--procfs", root, "-w", "5", "-c", "10")
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s", code, tt.code, tt.want, out)
			}
			if tt.code == 3 && !strings.Contains(out, root) {
				t.Errorf("the message does not name the file\n%s", out)
			}
		})
	}
}
