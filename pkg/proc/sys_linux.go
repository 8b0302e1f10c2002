package proc

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// openRoot opens a procfs root for the *at reads, and tells whether it
// is a real procfs (a fixture tree is not).
func openRoot(root string) (fd int, procfs bool, err error) {
	fd, err = unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, err
	}
	var sf unix.Statfs_t
	return fd, unix.Fstatfs(fd, &sf) == nil && sf.Type == unix.PROC_SUPER_MAGIC, nil
}

// onCPU runs read on the given CPU when we may run there, and says
// whether the reading was skewed (taken wherever we happened to be).
func onCPU(cpu int, read func() (float64, error)) (at float64, skewed bool, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil || !old.IsSet(cpu) {
		at, err = read()
		return at, true, err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		at, err = read()
		return at, true, err
	}
	defer unix.SchedSetaffinity(0, &old)
	at, err = read() // the kernel moved us before returning: our clock is fresh there
	return at, false, err
}
