package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// The address families, as netlink numbers them.
const (
	v4 = netlink.FAMILY_V4
	v6 = netlink.FAMILY_V6
)

// observations are what gather read through netlink, all judge needs.
type observations struct {
	Families []famObs
	Dests    []destObs
	Verbose  int
}

// famObs is one address family: a global address, and the routes of
// the table.
type famObs struct {
	Family   int
	Global   netip.Addr // a global address of the family, if any (decides auto)
	Routes   int        // routes of the family in the table
	Defaults []defRoute // default routes, preferred (lowest metric) first
}

// defRoute is one default route.
type defRoute struct {
	Type   string // unicast, unreachable, blackhole, prohibit, throw
	Metric int
	Hops   []hop // one, or several for a multipath route
}

// hop is one next hop of a route.
type hop struct {
	Gateway netip.Addr // invalid for a route straight onto a link
	Dev     string
	Neigh   string // the gateway's neighbour state, "" for no entry
}

// destObs is a --to destination as the kernel resolves it.
type destObs struct {
	To      netip.Addr
	Refused string // unreachable, blackhole, prohibit, or "" when routed
	Err     string // a lookup that failed otherwise
	Via     hop
	Src     netip.Addr
}

// gather reads addresses, routes and neighbours through netlink, in the
// --netns namespace when one is given.
func gather(ctx context.Context, env *plugin.Env, o *Options) (observations, error) {
	obs := observations{Verbose: env.Verbose}
	done := env.Begin("opening a netlink socket")
	h, err := openHandle(ctx, env.Files(), o.Netns)
	done()
	if err != nil {
		return obs, err
	}
	defer h.Close()
	links, err := linkNames(h)
	if err != nil {
		return obs, err
	}
	for _, fam := range []int{v4, v6} {
		if err := ctx.Err(); err != nil {
			return obs, err
		}
		done := env.Begin("reading the " + familyName(fam) + " routes")
		f, err := gatherFamily(h, links, o, fam)
		done()
		if err != nil {
			return obs, err
		}
		obs.Families = append(obs.Families, f)
	}
	for _, to := range o.To {
		done := env.Begin("resolving the route to " + to.String())
		obs.Dests = append(obs.Dests, routeTo(h, links, to.Addr))
		done()
	}
	return obs, nil
}

// openHandle returns a netlink handle in the current network namespace,
// or in the one at --netns. The handle's sockets are opened inside that
// namespace by a locked OS thread (netlink.NewHandleAt): no other
// goroutine, and nothing after, runs in it.
func openHandle(ctx context.Context, src *files.Source, name string) (*netlink.Handle, error) {
	if name == "" {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil, fmt.Errorf("open netlink socket: %w", err)
		}
		return h, nil
	}
	path, err := netnsPath(name)
	if err != nil {
		return nil, err
	}
	// A namespace file lives on nsfs, bound under a local /run/netns: a
	// path on a network or FUSE mount could hang the open in the kernel,
	// and a FIFO would block it, so both are refused before it.
	if err := src.CheckLocal(ctx, path); err != nil {
		return nil, fmt.Errorf("--netns %s: %w", name, err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--netns %s: %s: %w", name, path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := isNetns(f); err != nil {
		return nil, fmt.Errorf("--netns %s: %s %w", name, path, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("--netns %s: open netlink socket in %s: %w", name, path, err)
	}
	return h, nil
}

// isNetns checks that an open file is a network namespace: on nsfs (a
// name under /run/netns that "ip netns" left unmounted is a plain empty
// file) and of the network type.
func isNetns(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	if st.Type != unix.NSFS_MAGIC {
		return errors.New("is not a namespace (not an nsfs file)")
	}
	t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("namespace type: %w", err)
	}
	if t != unix.CLONE_NEWNET {
		return errors.New("is not a network namespace")
	}
	return nil
}

func linkNames(h *netlink.Handle) (map[int]string, error) {
	list, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make(map[int]string, len(list))
	for _, l := range list {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	return names, nil
}

// gatherFamily reads one family: a global address (for auto), the routes
// of the table, and the neighbour entries of the default gateways.
func gatherFamily(h *netlink.Handle, links map[int]string, o *Options, fam int) (famObs, error) {
	f := famObs{Family: fam}
	addrs, err := h.AddrList(nil, fam)
	if err != nil {
		return f, fmt.Errorf("list %s addresses: %w", familyName(fam), err)
	}
	for _, a := range addrs {
		if a.Scope == unix.RT_SCOPE_UNIVERSE {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				f.Global = ip.Unmap()
				break
			}
		}
	}
	routes, err := h.RouteListFiltered(fam, &netlink.Route{Table: o.Table.ID}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return f, fmt.Errorf("list %s routes in table %s: %w", familyName(fam), o.Table.Name, err)
	}
	f.Routes = len(routes)
	for _, r := range routes {
		if !isDefault(r.Dst) {
			continue
		}
		d := defRoute{Type: routeType(r.Type), Metric: r.Priority}
		if len(r.MultiPath) == 0 {
			d.Hops = []hop{newHop(h, links, fam, r.Gw, r.LinkIndex)}
		}
		for _, nh := range r.MultiPath {
			d.Hops = append(d.Hops, newHop(h, links, fam, nh.Gw, nh.LinkIndex))
		}
		f.Defaults = append(f.Defaults, d)
	}
	sort.SliceStable(f.Defaults, func(i, j int) bool { return f.Defaults[i].Metric < f.Defaults[j].Metric })
	return f, nil
}

func isDefault(dst *net.IPNet) bool {
	if dst == nil {
		return true
	}
	ones, _ := dst.Mask.Size()
	return ones == 0
}

func newHop(h *netlink.Handle, links map[int]string, fam int, gw net.IP, index int) hop {
	hp := hop{Dev: links[index]}
	if ip, ok := netip.AddrFromSlice(gw); ok {
		hp.Gateway = ip.Unmap()
		hp.Neigh = neighState(h, fam, index, hp.Gateway)
	}
	return hp
}

// neighState is the state of the gateway's neighbour entry, "" for none
// (no packet has gone that way yet) or when it cannot be read.
func neighState(h *netlink.Handle, fam, index int, gw netip.Addr) string {
	list, err := h.NeighList(index, fam)
	if err != nil {
		return ""
	}
	for _, n := range list {
		if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == gw {
			return nudName(n.State)
		}
	}
	return ""
}

// routeTo resolves a destination as "ip route get" does: through the
// policy rules, the way a packet from this host would go.
func routeTo(h *netlink.Handle, links map[int]string, to netip.Addr) destObs {
	d := destObs{To: to}
	routes, err := h.RouteGet(to.AsSlice())
	if err != nil {
		if d.Refused = refusal(err); d.Refused == "" {
			d.Err = err.Error()
		}
		return d
	}
	if len(routes) == 0 {
		d.Err = "the kernel answered with no route"
		return d
	}
	r := routes[0]
	switch t := routeType(r.Type); t {
	case "unreachable", "blackhole", "prohibit", "throw":
		d.Refused = t
		return d
	}
	d.Via = hop{Dev: links[r.LinkIndex]}
	if ip, ok := netip.AddrFromSlice(r.Gw); ok {
		d.Via.Gateway = ip.Unmap()
	}
	if ip, ok := netip.AddrFromSlice(r.Src); ok {
		d.Src = ip.Unmap()
	}
	return d
}

// refusal names the route type behind the errors RTM_GETROUTE answers
// with (net/ipv4/route.c, fib_props): EINVAL for blackhole, EHOSTUNREACH
// for unreachable, EACCES for prohibit, ENETUNREACH for no route at all.
func refusal(err error) string {
	switch {
	case errors.Is(err, unix.EINVAL):
		return "blackhole"
	case errors.Is(err, unix.EHOSTUNREACH):
		return "unreachable"
	case errors.Is(err, unix.EACCES):
		return "prohibit"
	case errors.Is(err, unix.ENETUNREACH):
		return "unreachable (no route)"
	}
	return ""
}

func routeType(t int) string {
	switch t {
	case unix.RTN_UNICAST, unix.RTN_UNSPEC:
		return "unicast"
	case unix.RTN_LOCAL:
		return "local"
	case unix.RTN_BLACKHOLE:
		return "blackhole"
	case unix.RTN_UNREACHABLE:
		return "unreachable"
	case unix.RTN_PROHIBIT:
		return "prohibit"
	case unix.RTN_THROW:
		return "throw"
	}
	return fmt.Sprintf("type %d", t)
}

// nudName names a neighbour state as "ip neigh" does.
func nudName(s int) string {
	switch s {
	case netlink.NUD_NONE:
		return "NONE"
	case netlink.NUD_INCOMPLETE:
		return "INCOMPLETE"
	case netlink.NUD_REACHABLE:
		return "REACHABLE"
	case netlink.NUD_STALE:
		return "STALE"
	case netlink.NUD_DELAY:
		return "DELAY"
	case netlink.NUD_PROBE:
		return "PROBE"
	case netlink.NUD_FAILED:
		return "FAILED"
	case netlink.NUD_NOARP:
		return "NOARP"
	case netlink.NUD_PERMANENT:
		return "PERMANENT"
	}
	return fmt.Sprintf("0x%x", s)
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return v4
	}
	return v6
}

func familyName(fam int) string {
	if fam == v6 {
		return "IPv6"
	}
	return "IPv4"
}
