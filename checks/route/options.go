package route

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Options are check_route's options: flags only.
type Options struct {
	IPv4    Family `short:"4" long:"ipv4" default:"auto" value-name:"auto|required|optional|ignore" description:"IPv4: auto (required when a global IPv4 address exists), required, optional (judged if there), ignore" unquote:"false"`
	IPv6    Family `short:"6" long:"ipv6" default:"auto" value-name:"auto|required|optional|ignore" description:"IPv6: auto (required when a global IPv6 address exists), required, optional (judged if there), ignore" unquote:"false"`
	Table   Table  `short:"T" long:"table" default:"main" value-name:"TABLE" description:"Routing table holding the default routes: main, default, local or a number" unquote:"false"`
	Gateway []Addr `short:"g" long:"gateway" value-name:"ADDR" description:"Expected gateway of the default route (one per family, repeatable)" unquote:"false"`
	Dev     string `short:"d" long:"dev" value-name:"IFACE" description:"Expected outgoing interface of the default routes" unquote:"false"`
	To      []Addr `long:"to" value-name:"ADDR" description:"A destination that must be routable, resolved as 'ip route get' does (repeatable)" unquote:"false"`
	Netns   string `short:"N" long:"netns" value-name:"NAME|PATH" description:"Look inside this network namespace: a name under /run/netns, or a path such as /proc/PID/ns/net" unquote:"false"`
}

// Addr is an IP address given on the command line.
type Addr struct{ netip.Addr }

// UnmarshalFlag parses an IPv4 or IPv6 address (no zone, no prefix).
func (a *Addr) UnmarshalFlag(s string) error {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return fmt.Errorf("invalid address %q: not an IPv4 or IPv6 address", s)
	}
	a.Addr = ip.Unmap()
	return nil
}

// Family is how one address family is judged.
type Family string

// The modes of -4 and -6.
const (
	Auto     Family = "auto"
	Required Family = "required"
	Optional Family = "optional"
	Ignore   Family = "ignore"
)

// UnmarshalFlag accepts the four modes.
func (f *Family) UnmarshalFlag(s string) error {
	switch Family(s) {
	case Auto, Required, Optional, Ignore:
		*f = Family(s)
		return nil
	}
	return fmt.Errorf("invalid family mode %q: use auto, required, optional or ignore", s)
}

// Table is a routing table, by name or number.
type Table struct {
	ID   int
	Name string
}

// Kernel names of the fixed tables (include/uapi/linux/rtnetlink.h).
var tableNames = map[string]int{"main": 254, "default": 253, "local": 255}

// UnmarshalFlag accepts main, default, local, or a number from 1 to 2^32-1.
func (t *Table) UnmarshalFlag(s string) error {
	if id, ok := tableNames[s]; ok {
		*t = Table{ID: id, Name: s}
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("invalid table %q: use main, default, local or a number from 1 to 4294967295", s)
	}
	*t = Table{ID: int(n), Name: s}
	for name, id := range tableNames {
		if id == int(n) {
			t.Name = name
		}
	}
	return nil
}

// MarshalFlag gives the table as it was named.
func (t Table) MarshalFlag() (string, error) { return t.Name, nil }

// Validate rejects what go-flags cannot see.
func (o *Options) Validate() error {
	seen := map[int]bool{}
	for _, gw := range o.Gateway {
		if !gw.IsValid() || gw.IsUnspecified() {
			return fmt.Errorf("invalid --gateway %s", gw)
		}
		fam := familyOf(gw.Addr)
		if seen[fam] {
			return fmt.Errorf("--gateway given twice for %s", familyName(fam))
		}
		seen[fam] = true
	}
	for _, to := range o.To {
		if !to.IsValid() {
			return fmt.Errorf("invalid --to %s", to)
		}
	}
	if strings.ContainsRune(o.Dev, '/') || len(o.Dev) > 15 {
		return fmt.Errorf("invalid --dev %q: not an interface name", o.Dev)
	}
	if o.Netns != "" {
		if _, err := netnsPath(o.Netns); err != nil {
			return err
		}
	}
	return nil
}

// mode is how a family is judged; auto is decided by gather.
func (o *Options) mode(fam int) Family {
	if fam == v6 {
		return o.IPv6
	}
	return o.IPv4
}

// gateway is the expected gateway for a family, if any.
func (o *Options) gateway(fam int) (netip.Addr, bool) {
	for _, gw := range o.Gateway {
		if familyOf(gw.Addr) == fam {
			return gw.Addr, true
		}
	}
	return netip.Addr{}, false
}

// netnsPath is where a --netns value points: a bare name is one made by
// "ip netns add", under /run/netns.
func netnsPath(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "/"):
		return s, nil
	case s == "." || s == ".." || strings.ContainsRune(s, '/'):
		return "", fmt.Errorf("invalid --netns %q: a name under /run/netns or an absolute path", s)
	}
	return "/run/netns/" + s, nil
}
