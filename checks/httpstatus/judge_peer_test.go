package httpstatus

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// The peers' options and the server's reason, judged without a server.
func TestJudgePeerOptions(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http1123) }
	const u = "http://www.example.org/"
	one := func(r *httpprobe.Response) []fetched { return []fetched{{Chain: []*httpprobe.Response{r}}} }
	alarms := `{"status":"failed","reason":"There are alarms in effect in the cluster","alarms":[{"node":"rabbit@h","resource":"memory"}]}`
	tests := []struct {
		name  string
		args  []string
		urls  []fetched
		code  plugin.State
		want  []string // regular expressions the output must match
		avoid []string // substrings the output must not hold
	}{
		{"-d found (names are case-insensitive)", []string{"-d", "foo"}, one(answer(u, 200, "", "Foo", "")), plugin.OK, nil, nil},
		{"-d in a value", []string{"-d", "Transfer-Encoding: chunked"}, one(answer(u, 200, "", "Transfer-Encoding", "chunked")), plugin.OK, nil, nil},
		{"-d in the status line", []string{"-d", "HTTP/1.1 200"}, one(answer(u, 200, "")), plugin.OK, nil, nil},
		{"-d missing", []string{"-d", "foobar"}, one(answer(u, 200, "", "Foo", "")), plugin.CRITICAL,
			[]string{`200 OK - header 'foobar' not found`}, nil},
		{"-m MIN ok", []string{"-m", "4"}, one(answer(u, 200, "fine")), plugin.OK, []string{`size=4B;4:;;0`}, nil},
		{"-m MIN short", []string{"-m", "5"}, one(answer(u, 200, "fine")), plugin.WARNING, []string{`page size 4 bytes outside -m 5`}, nil},
		{"-m MIN:MAX long", []string{"-m", "1:3"}, one(answer(u, 200, "fine")), plugin.WARNING, []string{`page size 4 bytes outside -m 1:3`, `size=4B;1:3;;0`}, nil},
		{"-m :MAX", []string{"-m", ":10"}, one(answer(u, 200, "fine")), plugin.OK, nil, nil},
		{"-M fresh", []string{"-M", "1h"}, one(answer(u, 200, "", "Date", date(0), "Last-Modified", date(-30*time.Minute))), plugin.OK, nil, nil},
		{"-M old against the server's Date", []string{"-M", "1h"}, one(answer(u, 200, "", "Date", date(-24*time.Hour), "Last-Modified", date(-26*time.Hour))), plugin.CRITICAL,
			[]string{`last modified 2h ago \(-M 1h\)`}, nil},
		{"-M 90 seconds", []string{"-M", "90"}, one(answer(u, 200, "", "Date", date(0), "Last-Modified", date(-91*time.Second))), plugin.CRITICAL,
			[]string{`last modified 1m31s ago \(-M 1m30s\)`}, nil},
		{"-M 2d", []string{"-M", "2d"}, one(answer(u, 200, "", "Date", date(0), "Last-Modified", date(-47*time.Hour))), plugin.OK, nil, nil},
		{"-M future", []string{"-M", "1h"}, one(answer(u, 200, "", "Date", date(0), "Last-Modified", date(time.Hour))), plugin.CRITICAL,
			[]string{`document is 1h in the future`}, nil},
		{"-M no Last-Modified: Date against our clock", []string{"-M", "1h"}, one(answer(u, 200, "", "Date", date(-3*time.Hour))), plugin.CRITICAL,
			[]string{`dated 3h ago \(-M 1h\)`}, nil},
		{"-M neither header", []string{"-M", "1h"}, one(answer(u, 200, "")), plugin.CRITICAL,
			[]string{`no Last-Modified or Date header`}, nil},
		{"-M bad date", []string{"-M", "1h"}, one(answer(u, 200, "", "Date", date(0), "Last-Modified", "yesterday")), plugin.CRITICAL,
			[]string{`document date 'yesterday' unparsable`}, nil},
		{"-r ^ matches at a line (REG_NEWLINE)", []string{"-r", "^all mirrors synced$"}, one(answer(u, 200, "Welcome\nall mirrors synced\nbye\n")), plugin.OK, nil, nil},
		{"-r . does not cross lines", []string{"-r", "Welcome.all"}, one(answer(u, 200, "Welcome\nall\n")), plugin.CRITICAL, []string{`pattern 'Welcome.all' not found`}, nil},
		{"-l: . crosses lines", []string{"-l", "-r", "Welcome.all"}, one(answer(u, 200, "Welcome\nall\n")), plugin.OK, nil, nil},
		{"-l: ^ only at the start", []string{"-l", "-r", "^all"}, one(answer(u, 200, "Welcome\nall\n")), plugin.CRITICAL, nil, nil},
		{"--state-regex warning", []string{"-r", "synced", "--state-regex", "WARNING"}, one(answer(u, 200, "lagging")), plugin.WARNING,
			[]string{`pattern 'synced' not found`}, nil},
		{"--state-regex with --invert-regex", []string{"-R", "ERROR", "--invert-regex", "--state-regex", "warning"}, one(answer(u, 200, "an error occurred")), plugin.WARNING,
			[]string{`pattern 'ERROR' found \(--invert-regex\)`}, nil},
		{"--invert-regex, no match", []string{"-r", "error", "--invert-regex"}, one(answer(u, 200, "fine")), plugin.OK, nil, nil},
		{"reason: JSON reason field", []string{"--jq", `.status == "ok"`}, one(answer(u, 503, alarms)), plugin.CRITICAL,
			[]string{`^HTTP CRITICAL - http://www.example.org/ 503 Service Unavailable - server error - --jq '.status == "ok"' gave false, not true - server says 'There are alarms in effect in the cluster' - \d+ bytes`}, nil},
		{"reason: --jq-message", []string{"--jq", `.status == "ok"`, "--jq-message", `.reason + ": " + ([.alarms[].resource] | join(","))`}, one(answer(u, 503, alarms)), plugin.CRITICAL,
			[]string{`server says 'There are alarms in effect in the cluster: memory'`}, nil},
		{"reason: --jq-message not a string", []string{"--jq-message", `.alarms[0]`}, one(answer(u, 503, alarms)), plugin.CRITICAL,
			[]string{`server says '\{"node":"rabbit@h","resource":"memory"\}'`}, nil},
		{"reason: --jq-message null falls back", []string{"--jq-message", `.nothing`}, one(answer(u, 503, alarms)), plugin.CRITICAL,
			[]string{`server says 'There are alarms in effect`}, nil},
		{"reason: 200 with failed --jq", []string{"--jq", `.healthy`}, one(answer(u, 200, `{"healthy":false,"message":"disk\n full\t"}`)), plugin.CRITICAL,
			[]string{`200 OK - --jq '.healthy' gave false, not true - server says 'disk full' - `}, nil},
		{"reason: error object", nil, one(answer(u, 500, `{"error":{"code":7,"message":"db down"}}`)), plugin.CRITICAL,
			[]string{`server says 'db down'`}, nil},
		{"reason: HTML title", nil, one(answer(u, 502, "<html><head><title>upstream php-fpm is down</title></head><body>x</body></html>")), plugin.CRITICAL,
			[]string{`server says .upstream php-fpm is down.`}, nil},
		{"reason: none when it is the status line", nil, one(answer(u, 403, "<html><title>403 Forbidden</title></html>")), plugin.CRITICAL, nil, []string{"server says"}},
		{"reason: text, sanitised and short", nil, one(answer(u, 500, "über \x1b[31mred\x00 "+strings.Repeat("é", 200))), plugin.CRITICAL,
			[]string{`server says 'über \[31mred éé+\.\.\.'`}, []string{"\x1b", "\x00", "\ufffd"}},
		{"reason: none when OK", []string{"-s", "fine"}, one(answer(u, 200, `{"message":"all fine"}`)), plugin.OK, nil, []string{"server says"}},
		{"reason: none for a JSON 200 missing a string", []string{"-s", "needle"}, one(answer(u, 200, `{"message":"all good"}`)), plugin.CRITICAL, nil, []string{"server says"}},
		{"reason: --jq-message on any problem", []string{"-s", "needle", "--jq-message", ".message"}, one(answer(u, 200, `{"message":"all good"}`)), plugin.CRITICAL, []string{`server says 'all good'`}, nil},
		{"reason: none for a text 200 missing a string", []string{"-s", "needle"}, one(answer(u, 200, "hay")), plugin.CRITICAL, nil, []string{"server says"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, p := parsed(t, append([]string{"-u", u}, tt.args...)...)
			res := judge(o, p, observations{Now: now, URLs: tt.urls})
			out := plugin.Render("HTTP", res, 0)
			if res.State() != tt.code {
				t.Errorf("state %v, want %v\n%s", res.State(), tt.code, out)
			}
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output does not match %q:\n%s", w, out)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(out, a) {
					t.Errorf("output holds %q:\n%s", a, out)
				}
			}
		})
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestPeerOptionValues(t *testing.T) {
	good := [][]string{
		{"-m", "512"}, {"-m", "512:1024"}, {"-m", ":1024"}, {"-M", "90"}, {"-M", "90s"}, {"-M", "30m"}, {"-M", "2h"}, {"-M", "1d"},
		{"-r", "x", "--state-regex", "Critical"}, {"-r", "x", "--state-regex", "warning"}, {"-r", "x", "-l"},
		{"--noproxy", "*"}, {"--noproxy", "300.400.500.600,1.2.3,XYZD:0123::,1::2::3,::/256"}, {"-d", "X-Foo: bar"},
		{"--jq-message", ".reason"},
	}
	for _, args := range good {
		parser, check, _ := plugin.NewParser(Plugin)
		if _, err := parser.ParseArgs(append([]string{"-u", "http://h/"}, args...)); err != nil {
			t.Errorf("%q refused: %v", args, err)
			continue
		}
		if err := check.(*Options).Validate(); err != nil {
			t.Errorf("%q refused: %v", args, err)
		}
	}
	bad := map[string][]string{
		"page size":      {"-m", "x"},
		"page size ":     {"-m", "10:5"},
		"page size  ":    {"--pagesize=-1"},
		"--max-body":     {"-m", "8000000"},
		"invalid age":    {"-M", "1w"},
		"invalid age ":   {"--max-age=-5"},
		"invalid state":  {"-r", "x", "--state-regex", "ok"},
		"needs -r or -R": {"--state-regex", "warning"},
		"-l/--linespan":  {"-l"},
		"--jq-message":   {"--jq-message", ".["},
		"invalid -d":     {"-d", "a\r\nb"},
	}
	for want, args := range bad {
		parser, check, _ := plugin.NewParser(Plugin)
		_, err := parser.ParseArgs(append([]string{"-u", "http://h/"}, args...))
		if err == nil {
			err = check.(*Options).Validate()
		}
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(want)) {
			t.Errorf("%q: got %v, want an error with %q", args, err, want)
		}
	}
}

func TestNoProxyMatch(t *testing.T) {
	tests := []struct {
		list, host string
		want       bool
	}{
		{"*", "anything.example", true},
		{"example.org", "example.org", true},
		{"example.org", "www.example.org", true},
		{".example.org", "www.example.org", true},
		{"example.org", "badexample.org", false},
		{"EXAMPLE.org", "www.Example.ORG", true},
		{"a.example,b.example", "b.example", true},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.1.2.3", false},
		{"[::1]", "::1", true},
		{"::1", "[::1]", true},
		{"fd00::/8", "fd12::1", true},
		{"300.400.500.600,1.2.3", "1.2.3.4", false},
		{"", "example.org", false},
		{"*.example.org", "www.example.org", false}, // curl takes no wildcards inside a name
	}
	for _, tt := range tests {
		if got := noProxyMatch(tt.list, tt.host); got != tt.want {
			t.Errorf("noProxyMatch(%q, %q) = %v, want %v", tt.list, tt.host, got, tt.want)
		}
	}
}
