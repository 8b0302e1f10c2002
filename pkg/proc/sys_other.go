//go:build !linux

package proc

// openRoot: without Linux's O_PATH there is no descriptor to read at;
// every read goes through the files.Dir, as for a root that can hang.
// check_monitoring, the one plugin built for other systems that links
// this package, reads a Linux /proc only when given one.
func openRoot(string) (fd int, procfs bool, err error) { return -1, false, nil }

// onCPU cannot pin the thread here: the reading is taken where we are.
func onCPU(_ int, read func() (float64, error)) (at float64, skewed bool, err error) {
	at, err = read()
	return at, true, err
}
