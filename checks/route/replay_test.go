package route

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// lab is a router namespace with forwarding between an upstream
// namespace (its default gateway) and a service namespace behind it, all
// on documentation addresses, made by "ip netns" for one test.
type lab struct {
	t            *testing.T
	rtr, up, svc string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces (ip netns add)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2) to make network namespaces: " + err.Error())
	}
	id := os.Getpid() % 100000
	l := &lab{t: t, rtr: fmt.Sprintf("hs-rtr-%d", id), up: fmt.Sprintf("hs-up-%d", id), svc: fmt.Sprintf("hs-svc-%d", id)}
	for _, ns := range []string{l.rtr, l.up, l.svc} {
		l.ip("netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		l.in(ns, "link", "set", "lo", "up")
	}
	// upstream <-> router: 192.0.2.0/24, 2001:db8:0::/64; router <-> service:
	// 198.51.100.0/24, 2001:db8:1::/64.
	l.ip("link", "add", "hsr-up", "netns", l.rtr, "type", "veth", "peer", "name", "hsu-rtr", "netns", l.up)
	l.ip("link", "add", "hsr-svc", "netns", l.rtr, "type", "veth", "peer", "name", "hss-rtr", "netns", l.svc)
	l.addr(l.up, "hsu-rtr", "192.0.2.1/24", "2001:db8::1/64")
	l.addr(l.rtr, "hsr-up", "192.0.2.2/24", "2001:db8::2/64")
	l.addr(l.rtr, "hsr-svc", "198.51.100.1/24", "2001:db8:1::1/64")
	l.addr(l.svc, "hss-rtr", "198.51.100.2/24", "2001:db8:1::2/64")
	l.ip("netns", "exec", l.rtr, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	l.in(l.svc, "route", "add", "default", "via", "198.51.100.1")
	l.in(l.svc, "-6", "route", "add", "default", "via", "2001:db8:1::1")
	l.defaults("add")
	return l
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (l *lab) in(ns string, args ...string) {
	l.t.Helper()
	l.ip(append([]string{"-n", ns}, args...)...)
}

func (l *lab) addr(ns, dev, a4, a6 string) {
	l.t.Helper()
	l.in(ns, "addr", "add", a4, "dev", dev)
	l.in(ns, "addr", "add", a6, "dev", dev, "nodad")
	l.in(ns, "link", "set", dev, "up")
}

// defaults adds or deletes the router's default routes.
func (l *lab) defaults(verb string) {
	l.t.Helper()
	l.in(l.rtr, "route", verb, "default", "via", "192.0.2.1", "dev", "hsr-up")
	l.in(l.rtr, "-6", "route", verb, "default", "via", "2001:db8::1", "dev", "hsr-up")
}

func runCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := plugin.Runner{Args: args, Stdout: &out, Exit: func(int) { t.Fatal("watchdog fired") }}.Run(Plugin)
	return code, out.String()
}

// Postmortem 003: the active router came back from a reboot without its
// default gateway. One run inside its namespace says so, naming family
// and table; restoring the route makes the next run OK.
func TestPostmortem003Replay(t *testing.T) {
	l := newLab(t)
	steps := []struct {
		name   string
		change func()
		args   []string
		code   int
		has    []string
	}{
		{"healthy router", func() {}, []string{"--netns", l.rtr}, 0,
			[]string{"ROUTE OK - IPv4 default route via 192.0.2.1 dev hsr-up in table main; IPv6 default route via 2001:db8::1 dev hsr-up in table main |",
				"ipv4_default_routes=1;;;0", "ipv6_default_routes=1;;;0"}},
		{"expected gateway and dev", func() {}, []string{"--netns", l.rtr, "--gateway", "192.0.2.1", "--gateway", "2001:db8::1", "--dev", "hsr-up"}, 0, nil},
		{"the service reaches beyond the router", func() {}, []string{"--netns", l.svc, "--to", "203.0.113.9", "--to", "2001:db8:ff::9"}, 0,
			[]string{"[OK] route to 203.0.113.9 via 198.51.100.1 dev hss-rtr src 198.51.100.2", "[OK] route to 2001:db8:ff::9 via 2001:db8:1::1 dev hss-rtr"}},
		{"default routes gone after the reboot", func() { l.defaults("del") }, []string{"--netns", l.rtr}, 2,
			[]string{"ROUTE CRITICAL - 2 CRITICAL: no default route for IPv4 in table main / no default route for IPv6 in table main |",
				"ipv4_default_routes=0;;;0"}},
		{"and --to says where it hurts", func() {}, []string{"--netns", l.rtr, "-6", "ignore", "--to", "203.0.113.9"}, 2,
			[]string{"ROUTE CRITICAL - 2 CRITICAL: no default route for IPv4 in table main / route to 203.0.113.9: unreachable (no route) |"}},
		{"restored", func() { l.defaults("add") }, []string{"--netns", l.rtr}, 0, []string{"ROUTE OK - IPv4 default route via 192.0.2.1"}},
		{"a wrong gateway", func() {}, []string{"--netns", l.rtr, "--gateway", "192.0.2.254"}, 2,
			[]string{"ROUTE CRITICAL - IPv4 default route via 192.0.2.1 dev hsr-up in table main, expected gateway 192.0.2.254 |"}},
		{"blackhole, unreachable and prohibit destinations", func() {
			l.in(l.rtr, "route", "add", "blackhole", "203.0.113.0/26")
			l.in(l.rtr, "route", "add", "unreachable", "203.0.113.64/26")
			l.in(l.rtr, "route", "add", "prohibit", "203.0.113.128/26")
		}, []string{"--netns", l.rtr, "--to", "203.0.113.1", "--to", "203.0.113.65", "--to", "203.0.113.129", "--to", "203.0.113.200"}, 2,
			[]string{"[CRITICAL] route to 203.0.113.1: blackhole\n", "[CRITICAL] route to 203.0.113.65: unreachable\n",
				"[CRITICAL] route to 203.0.113.129: prohibit\n", "[OK] route to 203.0.113.200 via 192.0.2.1 dev hsr-up src 192.0.2.2\n"}},
		{"another table", func() {}, []string{"--netns", l.rtr, "--table", "100"}, 2,
			[]string{"no default route for IPv4 in table 100 / no default route for IPv6 in table 100"}},
		{"a name that is no namespace", func() {}, []string{"--netns", l.rtr + "-none"}, 3,
			[]string{"ROUTE UNKNOWN - --netns " + l.rtr + "-none: /run/netns/" + l.rtr + "-none: no such file or directory"}},
	}
	for _, s := range steps {
		s.change()
		code, out := runCheck(t, s.args...)
		if code != s.code {
			t.Errorf("%s: exit %d, want %d\n%s", s.name, code, s.code, out)
		}
		for _, h := range s.has {
			if !strings.Contains(out, h) {
				t.Errorf("%s: output lacks %q\n%s", s.name, h, out)
			}
		}
	}
}

// The host's own namespace is untouched: the test's namespaces were read
// through handles bound to them, never by moving this process.
func TestNetnsLeavesProcessAlone(t *testing.T) {
	l := newLab(t)
	before, _ := os.Readlink("/proc/self/ns/net")
	for range 20 {
		runCheck(t, "--netns", l.rtr)
	}
	after, _ := os.Readlink("/proc/thread-self/ns/net")
	if self, _ := os.Readlink("/proc/self/ns/net"); self != before || after != before {
		t.Errorf("network namespace moved: %s -> %s (thread %s)", before, self, after)
	}
}
