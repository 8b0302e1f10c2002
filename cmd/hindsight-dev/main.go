// Command hindsight-dev is the developers' tool behind `make demo` and
// `make bench`. It is not packaged. Each plugin registers its demo
// invocations and benchmark rows in a file of its own here (load.go,
// ...), so work on one plugin never touches another's rows.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hindsight-dev demo BINDIR | bench BINDIR [-runs N] [-only NAME] | changelog deb|chglog VERSION EPOCH [CHANGELOG.md]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "demo":
		err = demo(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	case "changelog":
		err = changelog(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hindsight-dev:", err)
		os.Exit(1)
	}
}

// Entry is one plugin's demo invocations and benchmark rows.
type Entry struct {
	Plugin string
	Demo   [][]string
	Bench  []Row
}

var entries []Entry

func register(e Entry) { entries = append(entries, e) }
