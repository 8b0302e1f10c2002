package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Row is one benchmark: our command against a peer's, both run as whole
// processes, alternately, the way Nagios runs them.
type Row struct {
	Name     string
	Ours     []string // argv; "{bin}" is replaced by the plugin directory
	Peer     []string // argv of the C counterpart; nil for none
	Setup    func(l *Lab) error
	MaxRatio float64 // target: our median / peer median; 0 for none
	MaxRSS   int64   // target: our peak RSS in KiB; 0 for none
	MaxWall  time.Duration
	MaxSize  int64 // target: stripped binary size in bytes; 0 for none
	// Observe, when set, is called after Setup and before the runs; the
	// function it returns, after the runs, says what it saw, as a note
	// under the table (what a peer server spent, for instance).
	Observe func(l *Lab) func() string
}

// Lab is what setups share: the plugin directory, a scratch directory,
// variables substituted as {name} in argv, and cleanups.
type Lab struct {
	Bin      string
	Dir      string
	Vars     map[string]string
	cleanups []func()
}

// Cleanup registers f to run after the plugin's rows.
func (l *Lab) Cleanup(f func()) { l.cleanups = append(l.cleanups, f) }

// reset runs the cleanups, newest first, and forgets the variables that
// setups set.
func (l *Lab) reset() {
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
	l.cleanups = nil
	l.Vars = map[string]string{"bin": l.Bin, "dir": l.Dir}
}

type sample struct {
	wall time.Duration
	rss  int64 // KiB
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	runs := fs.Int("runs", 100, "runs of each command per row")
	only := fs.String("only", "", "run only rows whose name contains this")
	if len(args) < 1 {
		return errors.New("bench needs the directory of the built plugins")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	bin, _ := filepath.Abs(args[0])
	dir, err := os.MkdirTemp("", "hindsight-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lab := &Lab{Bin: bin, Dir: dir}
	defer lab.reset()

	sort.Slice(entries, func(i, j int) bool { return entries[i].Plugin < entries[j].Plugin })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ROW\tOURS median\tPEER median\tRATIO\tOURS peak RSS\tPEER peak RSS\tTARGET\tBINARY\t")
	var notes []string
	for _, e := range entries {
		// Each plugin's rows start from a clean machine: a hung mount set up
		// for one plugin's row leaves tasks in D that would tax the others.
		lab.reset()
		size := binarySize(filepath.Join(bin, e.Plugin))
		for _, row := range append(e.Bench, worstInputRows(e.Plugin)...) {
			if *only != "" && !strings.Contains(row.Name, *only) {
				continue
			}
			line, note, err := benchRow(lab, row, *runs, filepath.Join(bin, e.Plugin))
			if err != nil {
				fmt.Fprintf(tw, "%s\tskipped: %v\t\t\t\t\t\t\t\n", row.Name, err)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", row.Name, line, size)
			if note != "" {
				notes = append(notes, row.Name+": "+note)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Println("note: " + n)
	}
	return nil
}

func benchRow(lab *Lab, row Row, runs int, exe string) (line, note string, err error) {
	if row.Setup != nil {
		if err := row.Setup(lab); err != nil {
			return "", "", err
		}
	}
	ours := expand(row.Ours, lab.Vars)
	var peer []string
	if row.Peer != nil {
		peer = expand(row.Peer, lab.Vars)
		if _, err := os.Stat(peer[0]); err != nil {
			return "", "", fmt.Errorf("peer %s not installed", peer[0])
		}
	}
	var observed func() string
	if row.Observe != nil {
		observed = row.Observe(lab)
	}
	var a, b []sample
	for i := 0; i < runs+1; i++ { // alternate, so drift hits both alike
		sa, err := measure(ours)
		if err != nil {
			return "", "", err
		}
		if i > 0 { // the first run of each warms caches
			a = append(a, sa)
		}
		if peer != nil {
			sb, err := measure(peer)
			if err != nil {
				return "", "", err
			}
			if i > 0 {
				b = append(b, sb)
			}
		}
	}
	if observed != nil {
		note = observed()
	}
	ma, ra := median(a), peakRSS(ours, a)
	out := fmt.Sprintf("%s\t", ms(ma))
	ratio := 0.0
	if peer != nil {
		mb := median(b)
		ratio = float64(ma) / float64(mb)
		out += fmt.Sprintf("%s\t%.2fx\t%s\t%s", ms(mb), ratio, kib(ra), kib(peakRSS(peer, b)))
	} else {
		out += fmt.Sprintf("-\t-\t%s\t-", kib(ra))
	}
	var size int64
	if fi, err := os.Stat(exe); err == nil {
		size = fi.Size()
	}
	out += "\t" + verdict(row, ratio, ma, ra, size)
	return out, note, nil
}

func verdict(row Row, ratio float64, med time.Duration, rss, size int64) string {
	var goals []string
	ok := true
	if row.MaxRatio > 0 {
		goals = append(goals, fmt.Sprintf("<=%.2fx", row.MaxRatio))
		ok = ok && ratio <= row.MaxRatio
	}
	if row.MaxWall > 0 {
		goals = append(goals, "<="+ms(row.MaxWall))
		ok = ok && med <= row.MaxWall
	}
	if row.MaxRSS > 0 {
		goals = append(goals, "RSS<"+kib(row.MaxRSS))
		ok = ok && rss < row.MaxRSS
	}
	if row.MaxSize > 0 {
		goals = append(goals, fmt.Sprintf("size<%.0fMiB", float64(row.MaxSize)/(1<<20)))
		ok = ok && size < row.MaxSize
	}
	if len(goals) == 0 {
		return "-"
	}
	mark := "met"
	if !ok {
		mark = "MISSED"
	}
	return strings.Join(goals, " ") + " " + mark
}

// measure runs argv once; wall time is from fork to the exit of the
// process, peak RSS from its rusage. Output is discarded.
func measure(argv []string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return sample{}, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss
	}
	return sample{wall: wall, rss: rss}, nil
}

// peakRSS measures peak RSS through GNU time, a small C program: a
// child forked by this Go harness starts with the harness's own RSS as
// its high-water mark, which would hide the plugin's. Falls back to the
// rusage of the timed runs when time(1) is missing.
func peakRSS(argv []string, timed []sample) int64 {
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return peak(timed)
	}
	var m int64
	for i := 0; i < 5; i++ {
		f, err := os.CreateTemp("", "rss")
		if err != nil {
			return peak(timed)
		}
		f.Close()
		exec.Command(gnuTime, append([]string{"-f", "%M", "-o", f.Name()}, argv...)...).Run()
		data, _ := os.ReadFile(f.Name())
		os.Remove(f.Name())
		var k int64
		fmt.Sscan(strings.TrimSpace(lastLine(string(data))), &k)
		m = max(m, k)
	}
	if m == 0 {
		return peak(timed)
	}
	return m
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func expand(argv []string, vars map[string]string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "{"+k+"}", v)
		}
		out[i] = a
	}
	return out
}

func median(s []sample) time.Duration {
	w := make([]time.Duration, len(s))
	for i, x := range s {
		w[i] = x.wall
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	return w[len(w)/2]
}

func peak(s []sample) int64 {
	var m int64
	for _, x := range s {
		m = max(m, x.rss)
	}
	return m
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
func kib(k int64) string        { return fmt.Sprintf("%.1fMiB", float64(k)/1024) }
func binarySize(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("%.1fMiB", float64(fi.Size())/(1<<20))
}
