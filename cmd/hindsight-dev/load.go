package main

func init() {
	register(Entry{
		Plugin: "check_load",
		Demo: [][]string{
			{"-w", "5,4,3", "-c", "10,8,6"},
			{"-r", "-v"},
			{"--psi-warning", "io=20", "--psi-critical", "io=50"},
		},
		Bench: []Row{{
			Name:     "check_load -w 5,4,3 -c 10,8,6",
			Ours:     []string{"{bin}/check_load", "-w", "5,4,3", "-c", "10,8,6"},
			Peer:     []string{"/usr/lib/nagios/plugins/check_load", "-w", "5,4,3", "-c", "10,8,6"},
			MaxRatio: 0.8,
			MaxRSS:   6 << 10,
			MaxSize:  4 << 20,
		}},
	})
}
