package main

import (
	"os"
	"path/filepath"
)

// worstInputMaxRSS is the bound on a plugin's peak RSS against the
// fault matrix's worst input with default limits: a file read is bounded,
// so a 1 GB file or /dev/zero costs at most a limit's worth.
const worstInputMaxRSS = 64 << 10 // KiB

// worstInputRows are, per plugin, the runs against the fault matrix's
// worst input: a 1 GB sparse file behind a path option (or an endless
// device), where an unbounded read would take the host's memory.
func worstInputRows(plugin string) []Row {
	huge := func(rel string) func(l *Lab) error {
		return func(l *Lab) error { return sparseFile(filepath.Join(l.Dir, rel), 1<<30) }
	}
	row := func(name string, setup func(*Lab) error, args ...string) Row {
		return Row{Name: plugin + " worst input: " + name, Ours: append([]string{"{bin}/" + plugin}, args...),
			Setup: setup, MaxRSS: worstInputMaxRSS}
	}
	switch plugin {
	case "check_load":
		return []Row{row("1 GB loadavg", huge("hugeproc/loadavg"), "--procfs", "{dir}/hugeproc")}
	case "check_cert_expiry":
		return []Row{
			row("1 GB -f", huge("huge.pem"), "-f", "{dir}/huge.pem"),
			row("1 GB --password-file", huge("huge.pass"), "-f", "{dir}/huge.pem", "--password-file", "{dir}/huge.pass"),
		}
	case "check_http_status":
		return []Row{row("1 GB --data-file", huge("huge.body"), "-u", "http://127.0.0.1:9/", "--data-file", "{dir}/huge.body")}
	case "check_stuck_procs":
		return []Row{row("1 GB procfs stat", huge("hugeproc/stat"), "--procfs", "{dir}/hugeproc", "--no-state-file")}
	case "check_monitoring":
		return []Row{row("1 GB --nagios-status", huge("huge.dat"), "--nagios-status", "{dir}/huge.dat", "--no-state-file")}
	case "check_blockdev":
		return []Row{
			row("--kmsg /dev/zero", nil, "--kmsg", "/dev/zero", "--state-file", "/dev/null"),
			row("1 GB mountinfo", huge("hugeproc/self/mountinfo"), "--procfs", "{dir}/hugeproc", "--state-file", "/dev/null"),
		}
	}
	return nil
}

// sparseFile makes a file of size bytes that takes no disk.
func sparseFile(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
