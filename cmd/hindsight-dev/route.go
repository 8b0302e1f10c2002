package main

func init() {
	register(Entry{
		Plugin: "check_route",
		// Each row reads this machine's routes through netlink: nothing
		// is sent, nothing changed.
		Demo: [][]string{
			{"-v"},
			{"-6", "optional", "--to", "192.0.2.1"},
			{"--table", "local", "-v"},
		},
		Bench: []Row{{
			Name:    "check_route (both families)",
			Ours:    []string{"{bin}/check_route", "-4", "optional", "-6", "optional"},
			Peer:    []string{"/usr/sbin/ip", "route", "show", "default"},
			MaxRSS:  8 << 10,
			MaxSize: 6 << 20,
		}},
	})
}
