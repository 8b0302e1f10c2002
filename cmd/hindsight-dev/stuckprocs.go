package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

func init() {
	register(Entry{
		Plugin: "check_stuck_procs",
		Demo: [][]string{
			{},
			{"-v"},
			{"-s", "D", "-w", "5", "-c", "20"},
			{"-C", "ansible-playbook", "--max-age", "2h", "-w", "1:"},
			{"--zombie-warning", "5", "--zombie-critical", "50"},
			{"-m", "RSS", "-w", "500000", "-c", "1000000"},
		},
		Bench: []Row{
			{
				Name:     "check_stuck_procs -s D",
				Ours:     []string{"{bin}/check_stuck_procs", "-s", "D"},
				Peer:     []string{"/usr/lib/nagios/plugins/check_procs", "-s", "D"},
				MaxRatio: 0.5,
				MaxSize:  4 << 20,
			},
			{
				Name:     "check_stuck_procs -C NAME -w 1:",
				Ours:     []string{"{bin}/check_stuck_procs", "-C", "hs-bench-job", "-w", "1:"},
				Peer:     []string{"/usr/lib/nagios/plugins/check_procs", "-C", "hs-bench-job", "-w", "1:"},
				Setup:    startNamedProcess("hs-bench-job"),
				MaxRatio: 0.5,
			},
			{
				Name:    "check_stuck_procs on 10,000 fixture processes",
				Ours:    []string{"{bin}/check_stuck_procs", "--procfs", "{stuck10k}", "--no-state-file"},
				Setup:   stuckFixture(10000),
				MaxWall: 60 * time.Millisecond,
				MaxRSS:  16 << 10,
			},
		},
	})
}

// startNamedProcess runs a copy of sleep under name for the rows.
func startNamedProcess(name string) func(l *Lab) error {
	return func(l *Lab) error {
		exe := filepath.Join(l.Dir, name)
		if err := copyFile("/bin/sleep", exe, 0o755); err != nil {
			return err
		}
		cmd := exec.Command(exe, "3600")
		if err := cmd.Start(); err != nil {
			return err
		}
		l.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return nil
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// stuckFixture writes a procfs tree of n processes into the lab: one in
// a hundred with four threads, two in D, one in a thousand a zombie: a
// big host on a bad day.
func stuckFixture(n int) func(l *Lab) error {
	return func(l *Lab) error {
		root := filepath.Join(l.Dir, "stuck10k", "proc")
		l.Vars["stuck10k"] = root
		const btime = 1700000000
		files := map[string]string{
			"stat":                              fmt.Sprintf("cpu  1 2 3 4 5 6 7 0 0 0\nbtime %d\n", btime),
			"thread-self/sched":                 "se.exec_start : 999999000.000000\n",
			"sys/kernel/hung_task_detect_count": "0\n",
		}
		for rel, data := range files {
			if err := writeFixture(filepath.Join(root, rel), data); err != nil {
				return err
			}
		}
		if err := os.Symlink(strconv.Itoa(n+100), filepath.Join(root, "self")); err != nil {
			return err
		}
		for i := 1; i <= n+100; i++ {
			state, threads := "S", 1
			switch {
			case i%5000 == 7:
				state = "D"
			case i%1000 == 9:
				state = "Z"
			}
			if i%100 == 3 {
				threads = 4
			}
			if err := fixtureProcess(root, i, state, threads); err != nil {
				return err
			}
		}
		return nil
	}
}

func fixtureProcess(root string, pid int, state string, threads int) error {
	dir := filepath.Join(root, strconv.Itoa(pid))
	stat := func(tid int, st string) string {
		return fmt.Sprintf("%d (worker-%d) %s 1 %d %d 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 %d 0 %d 10485760 256 "+
			"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", tid, pid%50, st, pid, pid, threads, 1000+pid)
	}
	task := func(d string, tid int, st string) error {
		if err := writeFixture(filepath.Join(d, "stat"), stat(tid, st)); err != nil {
			return err
		}
		if st != "D" {
			return nil
		}
		for name, data := range map[string]string{
			"sched":     "se.exec_start : 999000000.000000\n",
			"schedstat": "1203300 0 1\n",
			"wchan":     "request_wait_answer",
			"status":    "Name:\tworker\nUid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n",
		} {
			if err := writeFixture(filepath.Join(d, name), data); err != nil {
				return err
			}
		}
		return nil
	}
	if err := task(dir, pid, state); err != nil {
		return err
	}
	if err := writeFixture(filepath.Join(dir, "cmdline"), fmt.Sprintf("/usr/bin/worker\x00--id\x00%d\x00", pid)); err != nil {
		return err
	}
	for t := 1; t < threads; t++ {
		tid := 1000000 + pid*10 + t
		if err := task(filepath.Join(dir, "task", strconv.Itoa(tid)), tid, "S"); err != nil {
			return err
		}
	}
	return nil
}

func writeFixture(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(data), 0o644)
}
