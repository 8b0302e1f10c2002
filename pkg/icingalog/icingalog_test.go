package icingalog

import (
	"hash/fnv"
	"reflect"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
)

const sample = `[2026-11-30 09:35:08 +0000] information/ApiListener: Started new listener on '[127.0.0.1]:5665'
[2026-11-30 09:35:10 +0000] information/Notification: Sending 'Problem' notification 'localhost!watched!page' for user 'ops'
[2026-11-30 09:35:10 +0000] information/Notification: Completed sending 'Problem' notification 'localhost!watched!page' for checkable 'localhost!watched' and user 'ops' using command 'broken'.
[2026-11-30 09:35:10 +0000] warning/PluginNotificationTask: Notification command for object 'localhost!watched' (PID: 4242, arguments: '/bin/false' 'password=hunter2') terminated with exit code 1, output: <Terminated>
[2026-11-30 09:36:00 +0000] warning/PluginNotificationTask: Notification command for object 'db1' (PID: 4250, arguments: '/x') terminated with exit code 128, output: <Timeout exceeded.>
garbage line
`

func TestParse(t *testing.T) {
	t0 := int64(1796031310) // 2026-11-30 09:35:10 UTC
	got := Parse([]byte(sample), nagiosstatus.Cursor{})
	at50 := nagiosstatus.Cursor{Time: t0 + 50, Seen: hashes("[2026-11-30 09:36:00 +0000] warning/PluginNotificationTask: Notification command for object 'db1' (PID: 4250, arguments: '/x') terminated with exit code 128, output: <Timeout exceeded.>")}
	want := nagiosstatus.Log{Sent: 1, LastSent: t0, First: t0 - 2, Next: at50, Failures: []nagiosstatus.Failure{
		{Time: t0, Command: "broken", Contact: "ops", Host: "localhost", Service: "watched", Reason: "exited with return code 1"},
		{Time: t0 + 50, Host: "db1", Reason: "timed out or was killed (exit code 128)"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := Parse([]byte(sample), nagiosstatus.Cursor{Time: t0 + 50}); got.Sent != 0 || len(got.Failures) != 1 || got.Failures[0].Host != "db1" {
		t.Errorf("since the failure's second, it not seen: %+v", got)
	}
	if got := Parse([]byte(sample), at50); got.Sent != 0 || len(got.Failures) != 0 || !reflect.DeepEqual(got.Next, at50) {
		t.Errorf("since the failure's second, it seen: %+v", got)
	}
}

func hashes(lines ...string) []uint64 {
	var out []uint64
	for _, l := range lines {
		h := fnv.New64a()
		h.Write([]byte(l))
		out = append(out, h.Sum64())
	}
	return out
}

// Reads one after the other of a growing log: a notification and its
// failure logged in the second the last read ended on are news, once.
func TestParseReads(t *testing.T) {
	event := func(command string) string {
		return "[2026-11-30 09:35:10 +0000] information/Notification: Completed sending 'Problem' notification 'web1!http!page' for checkable 'web1!http' and user 'ops' using command '" + command + "'.\n" +
			"[2026-11-30 09:35:10 +0000] warning/PluginNotificationTask: Notification command for object 'web1!http' (PID: 42, arguments: '/x') terminated with exit code 1, output: x\n"
	}
	a, b := event("notify-A"), event("notify-B")
	tests := []struct {
		name  string
		reads []string
		want  [][]string
	}{
		{"appended in the same second", []string{a, a + b, a + b}, [][]string{{"notify-A"}, {"notify-B"}, nil}},
		{"line half written", []string{a[:len(a)-5], a}, [][]string{nil, {"notify-A"}}},
		{"later second", []string{a, a + strings.ReplaceAll(b, "09:35:10", "09:35:11")}, [][]string{{"notify-A"}, {"notify-B"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var since nagiosstatus.Cursor
			for i, data := range tc.reads {
				l := Parse([]byte(data), since)
				var got []string
				for _, f := range l.Failures {
					got = append(got, f.Command)
				}
				if !reflect.DeepEqual(got, tc.want[i]) {
					t.Errorf("read %d: failed %q, want %q", i+1, got, tc.want[i])
				}
				since = l.Next
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, data []byte) { Parse(data, nagiosstatus.Cursor{}) })
}
