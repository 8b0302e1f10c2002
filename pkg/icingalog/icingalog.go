// Package icingalog reads what Icinga 2's main log (icinga2.log) says
// about notifications: which were sent with which command, and which
// notification commands failed. The API keeps no record of a failed
// notification command; the log does. It is pure: bytes in, values out.
package icingalog

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/nagiosstatus"
)

// stampLayout is the timestamp Icinga 2 writes at the start of a line:
// "[2026-11-30 09:35:10 +0000]".
const stampLayout = "2006-01-02 15:04:05 -0700"

// Parse reads the lines that are news since the read that left the
// cursor since (see nagiosstatus.Cursor):
//
//	[T] information/Notification: Completed sending 'Problem' notification
//	    'H!S!N' for checkable 'H!S' and user 'U' using command 'C'.
//	[T] warning/PluginNotificationTask: Notification command for object
//	    'H!S' (PID: P, arguments: ...) terminated with exit code 1, output: ...
//
// A failure is named by the command of the latest notification sent for
// the same object; its arguments and output are not kept (they may hold
// a password). Lines it does not know are skipped.
func Parse(data []byte, since nagiosstatus.Cursor) nagiosstatus.Log {
	var l nagiosstatus.Log
	t := nagiosstatus.NewTracker(since)
	command := map[string]string{} // checkable -> command
	user := map[string]string{}
	for ln := range t.Lines(data, stamped) {
		ts, line, s := ln.Time, ln.Text, string(ln.Msg)
		if rest, ok := strings.CutPrefix(s, "information/Notification: Completed sending "); ok {
			obj := quoted(rest, " for checkable '")
			if obj == "" {
				continue
			}
			command[obj] = quoted(rest, " using command '")
			user[obj] = quoted(rest, " and user '")
			if t.News(ts, line) {
				l.Sent++
				l.LastSent = max(l.LastSent, ts)
			}
			continue
		}
		rest, ok := strings.CutPrefix(s, "warning/PluginNotificationTask: Notification command for object '")
		if !ok {
			continue
		}
		obj, tail, _ := strings.Cut(rest, "'")
		_, code, ok := strings.Cut(tail, ") terminated with exit code ")
		if !ok || !t.News(ts, line) {
			continue
		}
		code, _, _ = strings.Cut(code, ",")
		host, service, _ := strings.Cut(obj, "!")
		reason := "exited with return code " + code
		if n, err := strconv.Atoi(code); err == nil && n == 128 {
			reason = "timed out or was killed (exit code 128)"
		}
		l.Failures = append(l.Failures, nagiosstatus.Failure{Time: ts, Command: command[obj], Contact: user[obj],
			Host: host, Service: service, Reason: reason})
	}
	l.First, l.Next = t.Done()
	return l
}

// stamped splits "[2026-11-30 09:35:10 +0000] message".
func stamped(line []byte) (int64, []byte, bool) {
	if len(line) < 28 || line[0] != '[' || line[26] != ']' {
		return 0, nil, false
	}
	t, err := time.Parse(stampLayout, string(line[1:26]))
	if err != nil {
		return 0, nil, false
	}
	return t.Unix(), bytes.TrimLeft(line[27:], " "), true
}

// quoted is the text between after and the next "'" in s.
func quoted(s, after string) string {
	_, rest, ok := strings.Cut(s, after)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "'")
	return v
}
