// Package route is check_route: a default route per address family in
// the main table (or --table), optionally via an expected gateway and
// interface, the gateway's neighbour entry, and routes to given
// destinations as the kernel resolves them, read through netlink, in the
// host's network namespace or another (--netns).
//
// options.go holds the flags, gather.go does all netlink I/O, judge.go
// turns what was read into the result without touching the host.
package route

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Plugin is check_route.
var Plugin = plugin.Plugin{
	Name:    "check_route",
	Service: "ROUTE",
	Summary: "check the default routes (IPv4, IPv6), their gateways' neighbour entries and routes to given destinations",
	Usage:   "[-4 MODE] [-6 MODE] [--table TABLE] [--gateway ADDR] [--dev IFACE] [--to ADDR]... [--netns NAME] [OPTIONS]",
	Group:   "Route options",
	Help: `For each address family a default route must be in the main table (--table),
of type unicast: no default route, or one that is unreachable, blackhole or
prohibit, is CRITICAL naming the family and the table. -4 and -6 say how each
family is judged: auto (the default) requires it where the host, or the
namespace, has a global address of the family and ignores it elsewhere;
required, optional (judged when there, OK when absent) or ignore.

Of several default routes, the one the kernel prefers (lowest metric) is
judged. --gateway (one per family) and --dev name what it must go through.
The gateway's neighbour entry (ARP, NDP) FAILED is CRITICAL, INCOMPLETE is a
WARNING; no entry yet is fine (nothing has been sent that way).

--to ADDR (repeatable) resolves a destination as "ip route get" does, through
the policy rules; a route that is unreachable, blackhole or prohibit, or no
route at all, is CRITICAL.

--netns NAME looks inside a network namespace made by "ip netns add"
(/run/netns/NAME), or at a path such as /proc/PID/ns/net; reading another
namespace needs root (CAP_SYS_ADMIN). Everything is read through netlink:
nothing is sent on the network, no "ip" is run.

Perfdata per family judged: ipv4_routes (routes in the table),
ipv4_default_routes (unicast ones), ipv4_gateway_neigh (0 usable, 1 no entry
or no gateway, 2 INCOMPLETE, 3 FAILED); the same with ipv6_.

Examples:
  check_route                             the families with a global address
  check_route -6 ignore -g 192.0.2.1 -d eth0   IPv4 only, via this gateway
  check_route --to 198.51.100.10 --to 2001:db8::10   routable destinations
  check_route --netns rtr --table 100     a router namespace, table 100`,
	New: New,
}

// New returns check_route's options, to be filled in by the runtime.
func New() plugin.Check { return &Options{} }

// Run reads the routes through netlink and judges them.
func (o *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	obs, err := gather(ctx, env, o)
	if err != nil {
		return plugin.Result{}, err
	}
	return judge(o, obs), nil
}
