package fusetest

import "syscall"

// lazyUnmount detaches a busy mount now and cleans up when it is idle.
const lazyUnmount = syscall.MNT_DETACH
