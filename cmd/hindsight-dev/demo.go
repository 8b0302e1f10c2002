package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// demo runs every registered invocation of every built plugin against
// this machine and prints a table of exit codes and status lines.
func demo(args []string) error {
	if len(args) < 1 {
		return errors.New("demo needs the directory of the built plugins")
	}
	bin := args[0]
	sort.Slice(entries, func(i, j int) bool { return entries[i].Plugin < entries[j].Plugin })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMAND\tEXIT\tSTATUS LINE")
	for _, e := range entries {
		exe := filepath.Join(bin, e.Plugin)
		if _, err := os.Stat(exe); err != nil {
			fmt.Fprintf(tw, "%s\t-\tnot built\n", e.Plugin)
			continue
		}
		for _, a := range e.Demo {
			code, first := runOnce(exe, a)
			fmt.Fprintf(tw, "%s %s\t%s\t%s\n", e.Plugin, strings.Join(a, " "), code, first)
		}
	}
	return tw.Flush()
}

func runOnce(exe string, args []string) (code, first string) {
	cmd := exec.Command(exe, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.WaitDelay = time.Second
	err := cmd.Start()
	if err != nil {
		return "-", err.Error()
	}
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	timer.Stop()
	code = "0"
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = fmt.Sprint(exit.ExitCode())
	} else if err != nil {
		code = "-"
	}
	first, _, _ = strings.Cut(out.String(), "\n")
	if len(first) > 160 {
		first = first[:157] + "..."
	}
	return code, first
}
