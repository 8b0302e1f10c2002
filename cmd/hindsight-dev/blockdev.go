package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/fusetest"
)

func init() {
	register(Entry{
		Plugin: "check_blockdev",
		Demo: [][]string{
			{},
			{"-v"},
			{"-p", "/", "-v"},
			{"--all"},
			{"-d", "vda", "--sample-interval", "1s"},
		},
		Bench: []Row{{
			Name:     "check_blockdev defaults vs check_disk -A (healthy mounts)",
			Ours:     []string{"{bin}/check_blockdev", "--state-file", "{dir}/blockdev-healthy.json"},
			Peer:     []string{"/usr/lib/nagios/plugins/check_disk", "-w", "1%", "-c", "1%", "-A"},
			MaxRatio: 1.0,
		}, {
			// Every run detects the hang afresh: the state file cannot be
			// kept, so the shortcut for a known-hung mount never applies.
			// check_disk is not run: on this mount it never returns.
			Name: "check_blockdev with one hung FUSE mount (1s budget; first detection)",
			Ours: []string{"{bin}/check_blockdev", "--mount-timeout", "1s",
				"--state-file", "{dir}/not-a-dir/blockdev.json"},
			Setup:   hungMount,
			MaxWall: time.Second + 100*time.Millisecond,
		}},
	})
}

// hungMount mounts a fusetest filesystem whose statfs never answers, the
// df-hangs mount of postmortem 000; released and unmounted afterwards.
func hungMount(l *Lab) error {
	if why := fusetest.Available(); why != "" {
		return fmt.Errorf("hung mount: %s", why)
	}
	backing, mnt := filepath.Join(l.Dir, "fuse-backing"), filepath.Join(l.Dir, "fuse-mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// A regular file where the state directory would be: no state is kept.
	if err := os.WriteFile(filepath.Join(l.Dir, "not-a-dir"), nil, 0o644); err != nil {
		return err
	}
	fs, err := fusetest.Mount(backing, mnt)
	if err != nil {
		return err
	}
	fs.Set(fusetest.OpStatfs, fusetest.Hang)
	l.Cleanup(func() { fs.Close() })
	return nil
}
