package nagiosstatus

import (
	"bytes"
	"fmt"
)

// ParseLock reads the pid in the engine's lock file (lock_file in
// nagios.cfg): Nagios and Naemon write it as a decimal line at start and
// remove the file when they stop. Anything else is ErrMalformed.
func ParseLock(data []byte) (int, error) {
	text := bytes.TrimSpace(data)
	pid, ok := parsePID(text)
	if !ok {
		return 0, fmt.Errorf("%w lock file: %s is no pid", ErrMalformed, quote(text))
	}
	return pid, nil
}
