package icingalog

import (
	"reflect"
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
	got := Parse([]byte(sample), 0)
	want := nagiosstatus.Log{Sent: 1, LastSent: t0, Newest: t0 + 50, Failures: []nagiosstatus.Failure{
		{Time: t0, Command: "broken", Contact: "ops", Host: "localhost", Service: "watched", Reason: "exited with return code 1"},
		{Time: t0 + 50, Host: "db1", Reason: "timed out or was killed (exit code 128)"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := Parse([]byte(sample), t0); got.Sent != 0 || len(got.Failures) != 1 || got.Failures[0].Host != "db1" {
		t.Errorf("since the failure's second: %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, data []byte) { Parse(data, 0) })
}
