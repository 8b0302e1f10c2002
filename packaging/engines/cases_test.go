package engines

// cases are what every engine runs: each plugin needs at least one OK and
// one non-OK case. ADDING A PLUGIN IS ADDING ITS ENTRIES HERE (plus
// `make generate` for its shipped definitions, which the Nagios and
// Icinga 2 tests load).
//
// Args are the plugin's arguments. Use long option names (--warning, not
// -w): the Icinga 2 test maps them onto the shipped CheckCommand's custom
// variables. In an argument, {testdata} is a copy of the repository's
// testdata/ that the nagios user can read (only the top directories the
// cases name are copied), {lab} is the lab directory, and {NAME} is
// lab.Vars["NAME"] as set by Setup (which may start servers on loopback and
// must register their cleanup with t.Cleanup). Output that is not the same
// from one run to the next (timings) needs Volatile: digits are then not
// compared.
var cases = []Case{
	{Plugin: "check_load", Name: "ok", State: 0,
		Args: []string{"--procfs", "{testdata}/load/idle-2cpu/proc", "--sysfs", "{testdata}/load/idle-2cpu/sys"}},
	{Plugin: "check_load", Name: "warning", State: 1,
		Args: []string{"--warning", "0.25", "--critical", "5,4,3", "--procfs", "{testdata}/load/idle-2cpu/proc", "--sysfs", "{testdata}/load/idle-2cpu/sys"}},
	{Plugin: "check_load", Name: "critical_quota", State: 2,
		Args: []string{"--verbose", "--procfs", "{testdata}/load/container-v2-quota/proc", "--sysfs", "{testdata}/load/container-v2-quota/sys"}},
	{Plugin: "check_load", Name: "bad_option", State: 3,
		Args: []string{"--warning", "five", "--procfs", "{testdata}/load/idle-2cpu/proc"}},
	// Devices named explicitly, so no mount of this machine is probed; the
	// state file is /dev/null so every run compares with nothing, as the first.
	{Plugin: "check_blockdev", Name: "ok", State: 0,
		Args: []string{"--device", "sda", "--device", "vda", "--procfs", "{testdata}/blockdev/healthy/proc", "--sysfs", "{testdata}/blockdev/healthy/sys",
			"--fstab", "{testdata}/blockdev/healthy/fstab", "--kmsg", "/dev/null", "--state-file", "/dev/null"}},
	{Plugin: "check_blockdev", Name: "offline_disk", State: 2,
		Args: []string{"--device", "sda", "--device", "sdb", "--procfs", "{testdata}/blockdev/faulty/proc", "--sysfs", "{testdata}/blockdev/faulty/sys",
			"--fstab", "{testdata}/blockdev/healthy/fstab", "--kmsg", "/dev/null", "--state-file", "/dev/null"}},
	// Fixture process tables; no state file, so every run is a first run.
	// Process ages are measured against the real clock: Volatile.
	{Plugin: "check_stuck_procs", Name: "ok", State: 0, Volatile: true,
		Args: []string{"--procfs", "{testdata}/stuckprocs/healthy/proc", "--no-state-file", "--kmsg", "/dev/null"}},
	{Plugin: "check_stuck_procs", Name: "stuck_in_d", State: 2, Volatile: true,
		Args: []string{"--procfs", "{testdata}/stuckprocs/busy/proc", "--no-state-file", "--kmsg", "/dev/null", "--zombie-warning", "2"}},
	{Plugin: "check_stuck_procs", Name: "bad_option", State: 3,
		Args: []string{"--state", "Q", "--procfs", "{testdata}/stuckprocs/healthy/proc"}},
}
