package plugin

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// sampleResult has a finding in every state, notes, a secret, and perfdata in
// every unit the formats convert, an undeterminable value and labels
// that need quoting and escaping.
func sampleResult() (Result, *Sanitizer) {
	z := &Sanitizer{}
	z.RegisterSecret("hunter22")
	var r Result
	r.Add(OK, "load1 is 0.52")
	r.Add(CRITICAL, `disk "/" is 97% full | see http://admin:pw@example.org/`)
	r.Add(WARNING, "login with hunter22 is slow")
	r.Add(UNKNOWN, "no answer from <db1>")
	r.Note("checked 3 things")
	r.AddPerf(
		NewPerf("load1", 0.52, "").WithThresholds(threshold.MustParseRange("5"), threshold.MustParseRange("10")).WithBounds(0, math.NaN()),
		NewPerf("time", 250, "ms").WithThresholds(threshold.MustParseRange("1000"), threshold.MustParseRange("2000")),
		NewPerf("uptime", 3600, "s"),
		NewPerf("/ used", 97, "%").WithThresholds(threshold.MustParseRange("80"), threshold.MustParseRange("90")).WithBounds(0, 100),
		NewPerf("size", 2, "KB"),
		NewPerf("heap", 3, "MiB"),
		NewPerf("body", 512, "B"),
		NewPerf("oom_kills_total", 4, "c"),
		NewPerf("requests", 7, "c"),
		NewPerf(`odd "label"\ with`+"\ttab", 1, ""),
		NewPerf("days", 12, "d"),
		NewPerf("errors_total", 3, ""),
		Perf{Label: "gone", Unknown: true, Min: math.NaN(), Max: math.NaN()},
		NewPerf("time", 1, "ms"), // the same label twice: shown as time#2
		NewPerf("", 1, ""),
		NewPerf("1st ÄÖÜ", 2, "MB"),
		NewPerf("latency_sum", 0.5, "s"),
		NewPerf("Queue Percent", 50, "%"),
		Perf{Label: "/etc/ssl/a.pem", Value: 30, UOM: "d", Metric: "expiry", Min: math.NaN(), Max: math.NaN()},
		Perf{Label: "example.org:443#1", Value: 200, UOM: "d", Metric: "expiry", Min: math.NaN(), Max: math.NaN()},
	)
	return r, z
}

var sampleCheck = Plugin{Name: "check_sample", Service: "SAMPLE"}

// sampleLabels are --output-label values that need escaping, and one
// holding a secret.
var sampleLabels = []OutputLabel{{"site", "berlin"}, {"odd", `a "b" \ c`}, {"Login", "hunter22"}}

// twoCerts has two items of one Metric, one of them a unit only Metric
// gives.
func twoCerts() Result {
	var r Result
	r.Add(WARNING, "a.pem expires in 20 days")
	r.AddPerf(
		Perf{Label: "a.pem#0", Value: 20, Metric: "expires_in_days", Min: math.NaN(), Max: math.NaN()},
		Perf{Label: "b.pem#0", Value: 0.5, Metric: "expires_in_days", Min: math.NaN(), Max: math.NaN()},
		Perf{Label: "requests", Value: 3, Metric: "x", UOM: "c", Min: math.NaN(), Max: math.NaN()},
		Perf{Label: "x", Value: 3, Metric: "x_total", Min: math.NaN(), Max: math.NaN()},
	)
	return r
}

// TestOutputGolden pins whole outputs in each format: sampleResult() at the
// default size, large() at NRPE v2's and NRPE v3's. Run with -update to
// rewrite, then read the diff.
func TestOutputGolden(t *testing.T) {
	for _, format := range []string{formatJSON, formatOpenMetrics} {
		t.Run(format, func(t *testing.T) {
			var b strings.Builder
			r, z := sampleResult()
			fmt.Fprintf(&b, "=== sample, --max-output 4096\n%s", output{format, sampleCheck, z, 4096, nil}.result(r))
			for _, max := range []int{1023, 65536} {
				fmt.Fprintf(&b, "=== large, --max-output %d\n%s", max, output{format, sampleCheck, nil, max, nil}.result(large()))
			}
			fmt.Fprintf(&b, "=== timeout\n%s", output{format, sampleCheck, z, 0, nil}.line(CRITICAL, "timed out after 10s while reading /proc/1/stat"))
			fmt.Fprintf(&b, "=== --output-label\n%s", output{format, sampleCheck, z, 0, sampleLabels}.result(twoCerts()))
			golden := filepath.Join("testdata", "output_"+format+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("output differs from %s; run go test -run OutputGolden -update and read the diff", golden)
			}
			if strings.Contains(b.String(), "hunter22") || strings.Contains(b.String(), ":pw@") {
				t.Error("a secret is printed")
			}
		})
	}
}

// Every size from the floor up: the output fits, is one valid document,
// carries the state, and keeps what matters first.
func TestOutputBudget(t *testing.T) {
	r := large()
	for max := minOutput; max <= 20000; max += 37 {
		j := output{formatJSON, sampleCheck, nil, max, nil}.result(r)
		m := output{formatOpenMetrics, sampleCheck, nil, max, nil}.result(r)
		if len(j) > max || len(m) > max {
			t.Fatalf("--max-output %d: json %d bytes, openmetrics %d bytes", max, len(j), len(m))
		}
		for _, format := range []string{formatJSON, formatOpenMetrics} {
			o := output{format, sampleCheck, nil, max, sampleLabels}
			if out := o.result(r); o.checkLabels() == nil && len(out) > max {
				t.Fatalf("--max-output %d with --output-label: %s %d bytes", max, format, len(out))
			}
		}
		var doc jsonResult
		if err := json.Unmarshal([]byte(j), &doc); err != nil || doc.State.Code != int(CRITICAL) || doc.State.Name != "CRITICAL" {
			t.Fatalf("--max-output %d: json %v, state %+v:\n%s", max, err, doc.State, j)
		}
		okKept, badKept := 0, 0
		for _, f := range doc.Findings {
			if f.State == "OK" {
				okKept++
			} else {
				badKept++
			}
		}
		if okKept > 0 && badKept != len(r.Problems()) {
			t.Fatalf("--max-output %d: an OK finding kept before every problem", max)
		}
		if !strings.Contains(m, "hindsight_check_state{plugin=\"check_sample\"} 2\n") || !strings.HasSuffix(m, "# EOF\n") {
			t.Fatalf("--max-output %d: openmetrics without state or # EOF:\n%s", max, m)
		}
		// A reader must not take perfdata left out for none, at any bound.
		if strings.Count(m, "\nhindsight_") < 1+len(r.Perf) && !strings.Contains(m, " not shown\n") {
			t.Fatalf("--max-output %d: openmetrics left perfdata out without saying so:\n%s", max, m)
		}
	}
}

// promtool, Prometheus' own checker, accepts every output: the format of
// node_exporter's textfile collector.
func TestOpenMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("skipping: promtool not installed (Debian package prometheus; CI installs it)")
	}
	r, z := sampleResult()
	docs := map[string]string{
		"sample":  output{formatOpenMetrics, sampleCheck, z, 0, nil}.result(r),
		"large":   output{formatOpenMetrics, sampleCheck, nil, 65536, nil}.result(large()),
		"cut":     output{formatOpenMetrics, sampleCheck, nil, 700, nil}.result(large()),
		"timeout": output{formatOpenMetrics, sampleCheck, z, 0, nil}.line(UNKNOWN, "timed out after 10s"),
		"labels":  output{formatOpenMetrics, sampleCheck, z, 0, sampleLabels}.result(twoCerts()),
		"floor":   output{formatOpenMetrics, sampleCheck, z, 300, sampleLabels}.result(large()),
	}
	for name, doc := range docs {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(doc)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: promtool check metrics: %v\n%s\ninput:\n%s", name, err, out, doc)
		}
	}
}

func TestMetricNames(t *testing.T) {
	tests := []struct{ label, uom, want string }{
		{"load1", "", "hindsight_sample_load1"},
		{"time", "ms", "hindsight_sample_time_seconds"},
		{"Time Total", "s", "hindsight_sample_time_total_seconds"},
		{"/var/lib used", "%", "hindsight_sample_var_lib_used_ratio"},
		{"oom_kills_total", "c", "hindsight_sample_oom_kills_total"},
		{"requests", "c", "hindsight_sample_requests_total"},
		{"errors_total", "", "hindsight_sample_errors_total_value"},
		{"größe", "B", "hindsight_sample_gr_e_bytes"},
		{"...", "", "hindsight_sample_value"},
		{"procs_d", "", "hindsight_sample_procsd"},
		{"time_ms", "ms", "hindsight_sample_timems_seconds"},
		{"d", "", "hindsight_sampled"},
		{"days", "d", "hindsight_sampledays_seconds"},
		{"cert_days_left", "d", "hindsight_sample_certdays_left_seconds"},
	}
	for _, tt := range tests {
		got := withSuffix(noAbbreviations(metricPrefix+"sample_"+metricName(tt.label)), convertUnit(tt.uom).suffix)
		if got != tt.want {
			t.Errorf("%q %q: %q, want %q", tt.label, tt.uom, got, tt.want)
		}
	}
}

// A Metric ending in a unit gives the unit of a unitless value, and only
// then.
func TestMetricOf(t *testing.T) {
	tests := []struct{ metric, uom, quantity, unit string }{
		{"", "", "", ""},
		{"", "ms", "", "ms"},
		{"expires_in_days", "", "expires_in", "d"},
		{"expires_in_days", "s", "expires_in_days", "s"},
		{"size_bytes", "", "size", "B"},
		{"util_percent", "", "util", "%"},
		{"days", "", "days", ""},
		{"status_code", "", "status_code", ""},
	}
	for _, tt := range tests {
		q, u := metricOf(Perf{Metric: tt.metric, UOM: tt.uom})
		if q != tt.quantity || u != tt.unit {
			t.Errorf("%q %q: %q %q, want %q %q", tt.metric, tt.uom, q, u, tt.quantity, tt.unit)
		}
	}
}

func TestOutputLabelFlag(t *testing.T) {
	tests := []struct{ arg, name, value, err string }{
		{"site=berlin", "site", "berlin", ""},
		{"_x=a=b", "_x", "a=b", ""},
		{`Site2=a "b"`, "Site2", `a "b"`, ""},
		{"site", "", "", "NAME=VALUE"},
		{"=berlin", "", "", "letters, digits"},
		{"2site=a", "", "", "letters, digits"},
		{"si-te=a", "", "", "letters, digits"},
		{"__name__=a", "", "", "Prometheus' own"},
		{"plugin=a", "", "", "set by the plugin"},
		{"label=a", "", "", "set by the plugin"},
		{"site=", "", "", "empty VALUE"},
		{"site=\xff", "", "", "not UTF-8"},
	}
	for _, tt := range tests {
		var l OutputLabel
		err := l.UnmarshalFlag(tt.arg)
		if tt.err == "" {
			if err != nil || (tt.name != "" && (l.Name != tt.name || l.Value != tt.value)) {
				t.Errorf("%q: %+v, %v", tt.arg, l, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: %v, want an error with %q", tt.arg, err, tt.err)
		}
	}
	if err := (output{formatJSON, sampleCheck, nil, 0, []OutputLabel{{"a", "1"}, {"b", "2"}, {"a", "3"}}}).checkLabels(); err == nil || !strings.Contains(err.Error(), "a given twice") {
		t.Errorf("a label twice: %v", err)
	}
	long := []OutputLabel{{"a", strings.Repeat("x", 100)}}
	if err := (output{formatOpenMetrics, sampleCheck, nil, 128, long}).checkLabels(); err == nil || !strings.Contains(err.Error(), "over the output's bound of 128") {
		t.Errorf("labels over --max-output: %v", err)
	}
	if err := (output{formatJSON, sampleCheck, nil, 128, long}).checkLabels(); err != nil {
		t.Errorf("long labels in json: %v", err)
	}
}

// The exit code is the Nagios one in every format, and errors and the
// watchdog speak the format too.
func TestRunOutputFormats(t *testing.T) {
	for _, format := range []string{"nagios", "json", "openmetrics"} {
		code, out := run(t, "--output-format", format, "-w", "2", "-n", "3")
		if code != 1 || !strings.Contains(out, "count is 3") {
			t.Errorf("%s: exit %d, %q", format, code, out)
		}
		code, out = run(t, "--output-format", format, "--fail")
		if code != 3 || !strings.Contains(out, "permission denied") {
			t.Errorf("%s --fail: exit %d, %q", format, code, out)
		}
	}
	if _, out := run(t, "--output-format", "json", "extra"); !json.Valid([]byte(out)) || !strings.Contains(out, `"code":3`) {
		t.Errorf("json usage error is not one JSON object: %q", out)
	}
	if code, out := run(t, "--output-format=json", "-w", "abc"); code != 3 || !json.Valid([]byte(out)) || !strings.Contains(out, "abc") {
		t.Errorf("json, bad option: exit %d, %q", code, out)
	}
	if code, out := run(t, "-w", "abc", "--output-format", "openmetrics"); code != 3 || !strings.HasSuffix(out, "# EOF\n") {
		t.Errorf("openmetrics, bad option: exit %d, %q", code, out)
	}
	if code, out := run(t, "--output-format", "openmetrics", "--output-label", "site=b", "--output-label", "dc=x y", "-n", "1"); code != 0 || !strings.Contains(out, `{plugin="check_fake",site="b",dc="x y"} 0`) {
		t.Errorf("--output-label: exit %d, %q", code, out)
	}
	if code, out := run(t, "--output-format", "json", "--output-label", "site=b", "--output-label", "site=c"); code != 3 || !strings.Contains(out, "site given twice") {
		t.Errorf("--output-label twice: exit %d, %q", code, out)
	}
	if code, out := run(t, "--output-format", "openmetrics", "--output-label", "plugin=x"); code != 3 || !strings.Contains(out, "set by the plugin") || !strings.HasSuffix(out, "# EOF\n") {
		t.Errorf("--output-label plugin=x: exit %d, %q", code, out)
	}
	// A bound below the minimum is named as such, before any label check.
	if code, out := run(t, "--output-format", "openmetrics", "--max-output", "60"); code != 3 || !strings.Contains(out, "invalid --max-output 60: must be at least") {
		t.Errorf("--max-output 60 in openmetrics: exit %d, %q", code, out)
	}
	if code, out := run(t, "--output-format", "xml"); code != 3 || !strings.Contains(out, "nagios") {
		t.Errorf("--output-format xml: exit %d, %q", code, out)
	}

	var out strings.Builder
	exited := make(chan int, 1)
	go Runner{Args: []string{"--block", "-t", "0.3:CRITICAL", "--output-format", "json"}, Stdout: &out, Exit: func(c int) { exited <- c }}.Run(fake)
	select {
	case code := <-exited:
		want := `{"plugin":"check_fake","service":"FAKE","state":{"name":"CRITICAL","code":2},"summary":"timed out after 300ms while reading /proc/1234/stat","findings":[{"state":"CRITICAL","text":"timed out after 300ms while reading /proc/1234/stat"}],"perfdata":[]}` + "\n"
		if code != 2 || out.String() != want {
			t.Errorf("watchdog in json: exit %d, %q", code, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog did not fire")
	}
}

// Labels that differ only in a masked secret stay apart in every format:
// one grapher series per URL, as the check meant.
func TestLabelsUniqueAfterMasking(t *testing.T) {
	var r Result
	r.Add(OK, "two URLs")
	r.AddPerf(NewPerf("h/a?token=1 time", 1, "s"), NewPerf("h/a?token=2 time", 2, "s"))
	for format, want := range map[string][]string{
		formatNagios:      {`'h/a?token=xxxxx time'=1s`, `'h/a?token=xxxxx time#2'=2s`},
		formatJSON:        {`"label":"h/a?token=xxxxx time"`, `"label":"h/a?token=xxxxx time#2"`},
		formatOpenMetrics: {`label="h/a?token=xxxxx time"} 1`, `label="h/a?token=xxxxx time#2"} 2`},
	} {
		out := output{format, sampleCheck, &Sanitizer{}, 0, nil}.result(r)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", format, w, out)
			}
		}
	}
}
