package kmsg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/human"
)

// The kernel's count of OOM kills is what tells that the OOM killer ran
// since a last look even when its log, which names the victims, is
// closed to the reader (dmesg_restrict): checks compare it between runs.

// ErrNoOOMCounter is matched by errors.Is for a vmstat without oom_kill
// (Linux before 4.13).
var ErrNoOOMCounter = errors.New("no oom_kill")

// ErrMalformedVmstat is matched for an oom_kill that is no number.
var ErrMalformedVmstat = errors.New("malformed")

// OOMKills reads oom_kill, the OOM kills since boot, from vmstat in proc
// (a procfs root, read through the runtime's bounded reads).
func OOMKills(proc *files.Dir) (uint64, error) {
	path := proc.Path("vmstat")
	data, err := proc.ReadFile("vmstat")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || name != "oom_kill" {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w oom_kill %q in %s", ErrMalformedVmstat, human.Truncate(strings.TrimSpace(v), 40), path)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w in %s (Linux before 4.13)", ErrNoOOMCounter, path)
}

// BootID is the kernel's boot id under proc, "" when there is none (a
// fixture tree): a count compared across a reboot is not a count of
// kills since the last look.
func BootID(proc *files.Dir) string {
	data, err := proc.ReadFile("sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
