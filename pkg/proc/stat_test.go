package proc

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const tail = " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Stat
		err  bool
	}{
		{name: "plain", line: "300 (df) D 1 300 300 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 47439900 10485760 256" + tail,
			want: Stat{PID: 300, Comm: "df", State: 'D', PPID: 1, PGRP: 300, Session: 300, TPGID: -1, Flags: 4194560, UTime: 10, STime: 5, NumThreads: 1, StartTime: 47439900, VSize: 10485760, RSS: 256, Processor: 0}},
		{name: "processor", line: "300 (df) D 1 300 300 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 47439900 10485760 256 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0",
			want: Stat{PID: 300, Comm: "df", State: 'D', PPID: 1, PGRP: 300, Session: 300, TPGID: -1, Flags: 4194560, UTime: 10, STime: 5, NumThreads: 1, StartTime: 47439900, VSize: 10485760, RSS: 256, Processor: 3}},
		{name: "comm with spaces and parentheses", line: "101 (my (weird) proc) S 1 101 101 0 -1 0 0 0 0 0 1 2 0 0 20 -5 3 0 5 6 7" + tail,
			want: Stat{PID: 101, Comm: "my (weird) proc", State: 'S', PPID: 1, PGRP: 101, Session: 101, TPGID: -1, UTime: 1, STime: 2, Nice: -5, NumThreads: 3, StartTime: 5, VSize: 6, RSS: 7, Processor: 0}},
		{name: "comm of a closing paren and space", line: "7 () ) ) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0" + tail,
			want: Stat{PID: 7, Comm: ") ) ", State: 'Z', PPID: 1, PGRP: 7, Session: 7, TPGID: -1, NumThreads: 1, StartTime: 9, Processor: 0}},
		{name: "old kernel: exactly through rss", line: "5 (a) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 10 11",
			want: Stat{PID: 5, Comm: "a", State: 'S', PPID: 1, PGRP: 5, Session: 5, TPGID: -1, NumThreads: 1, StartTime: 9, VSize: 10, RSS: 11, Processor: -1}},
		{name: "cut short", line: "902 (bad) S 1 2\n", err: true},
		{name: "no comm", line: "902 bad S 1 2\n", err: true},
		{name: "bad pid", line: "x (a) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 10 11", err: true},
		{name: "two-letter state", line: "5 (a) SS 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 10 11", err: true},
		{name: "number out of range", line: "5 (a) S 99999999999999999999 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 10 11", err: true},
		{name: "empty", line: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.line))
			if tt.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("300 (df) D 1 300 300 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 47439900 10485760 256" + tail))
	f.Add([]byte("101 (my (weird) proc) S 1 101 101 0 -1 0 0 0 0 0 1 2 0 0 20 -5 3 0 5 6 7" + tail))
	f.Add([]byte("902 (bad) S 1 2\n"))
	f.Add([]byte("1 (()) - -1 -9223372036854775808 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStat(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if s.PID < 0 || strings.Count(string(b), "(") == 0 {
			t.Fatalf("accepted %q as %+v", b, s)
		}
	})
}

func TestScanFixture(t *testing.T) {
	fs := openTree(t, filepath.Join("..", "..", "testdata", "stuckprocs", "busy", "proc"))
	byPID := map[int]Process{}
	st, err := fs.Scan(func(p *Process) { byPID[p.PID] = *p })
	if err != nil {
		t.Fatal(err)
	}
	if st.Vanished != 1 || st.Unreadable != 1 || st.Malformed != 1 {
		t.Errorf("stats %+v, want 1 vanished, 1 unreadable, 1 malformed", st)
	}
	var d []int
	for pid, p := range byPID {
		for _, t := range p.D {
			d = append(d, pid*1000+t.PID%1000)
		}
	}
	sort.Ints(d)
	want := []int{50050, 300300, 301301, 400402, 500501}
	if len(d) != len(want) {
		t.Fatalf("tasks in D (pid*1000+tid%%1000) = %v, want %v", d, want)
	}
	for i := range d {
		if d[i] != want[i] {
			t.Fatalf("tasks in D (pid*1000+tid%%1000) = %v, want %v", d, want)
		}
	}
	if s := byPID[400].S; len(s) != 2 || s[0].PID != 400 || s[1].PID != 401 {
		t.Errorf("tasks in S of pid 400 = %+v, want the leader 400 and thread 401", s)
	}
	if s := byPID[300].S; s != nil {
		t.Errorf("tasks in S of single-threaded pid 300 = %+v, want none listed", s)
	}
	if byPID[500].Zombie {
		t.Error("a zombie leader with a live thread counted as a zombie")
	}
	if !byPID[601].Zombie {
		t.Error("pid 601 is a zombie")
	}
	if !byPID[3].IsKernelThread() || byPID[1].IsKernelThread() {
		t.Error("kernel thread detection")
	}
	if (Stat{PID: 2, PPID: 1}).IsKernelThread() || (Stat{PID: 7, PPID: 2}).IsKernelThread() {
		t.Error("pid 2 and its children are ordinary processes in a pid namespace")
	}
	self, err := fs.SelfPID()
	if err != nil || self != 4000 {
		t.Errorf("SelfPID = %d, %v", self, err)
	}
	at, err := fs.ExecStart(400, 402)
	if err != nil || at != 999399000 {
		t.Errorf("ExecStart = %v, %v", at, err)
	}
	now, err := fs.SelfExecStart()
	if err != nil || now != 999999000 {
		t.Errorf("SelfExecStart = %v, %v", now, err)
	}
	prog, err := fs.Progress(300, 300)
	if err != nil || prog.Voluntary != 6 || prog.RunNs != 1203300 {
		t.Errorf("Progress = %+v, %v", prog, err)
	}
	if w, _ := fs.Wchan(301, 301); w != "0" {
		t.Errorf("Wchan = %q", w)
	}
	if bt, err := fs.BootTime(); err != nil || bt != 1700000000 {
		t.Errorf("BootTime = %d, %v", bt, err)
	}
	if n, err := fs.HungTaskCount(); err != nil || n != 3 {
		t.Errorf("HungTaskCount = %d, %v", n, err)
	}
	raw, _ := fs.Cmdline(101)
	if a := Args(raw); len(a) != 3 || a[1] != "--flag=a b" {
		t.Errorf("Args = %q", a)
	}
	if name, err := fs.ExeName(700); err != nil || name != "python3.11" {
		t.Errorf("ExeName = %q, %v", name, err)
	}
	if cg, err := fs.Cgroups(200); err != nil || len(cg) != 1 || cg[0] != "/system.slice/nginx.service" {
		t.Errorf("Cgroups = %q, %v", cg, err)
	}
}
