package route

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// opts builds options as go-flags would from the given arguments.
func opts(t *testing.T, args ...string) *Options {
	t.Helper()
	o := &Options{IPv4: Auto, IPv6: Auto}
	if err := o.Table.UnmarshalFlag("main"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(args); i += 2 {
		var err error
		switch v := args[i+1]; args[i] {
		case "-4":
			err = o.IPv4.UnmarshalFlag(v)
		case "-6":
			err = o.IPv6.UnmarshalFlag(v)
		case "--table":
			err = o.Table.UnmarshalFlag(v)
		case "--gateway":
			var a Addr
			err = a.UnmarshalFlag(v)
			o.Gateway = append(o.Gateway, a)
		case "--dev":
			o.Dev = v
		default:
			t.Fatalf("opts: unknown %s", args[i])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return o
}

var (
	ip    = netip.MustParseAddr
	v4Gw  = hop{Gateway: ip("192.0.2.1"), Dev: "eth0", Neigh: "REACHABLE"}
	v6Gw  = hop{Gateway: ip("fe80::1"), Dev: "eth0"}
	v4Fam = famObs{Family: v4, Global: ip("192.0.2.2"), Routes: 3,
		Defaults: []defRoute{{Type: "unicast", Hops: []hop{v4Gw}}}}
	v6Fam = famObs{Family: v6, Global: ip("2001:db8::2"), Routes: 4,
		Defaults: []defRoute{{Type: "unicast", Metric: 1024, Hops: []hop{v6Gw}}}}
	v6None = famObs{Family: v6, Routes: 1}
)

// with returns a copy of a family with other default routes.
func with(f famObs, d ...defRoute) famObs {
	f.Defaults = d
	return f
}

// judge is a pure function: every case is options and observations in,
// the whole rendered output (or the parts named) out, no host involved.
func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		o    *Options
		obs  observations
		want []string // each held by the rendered output
	}{
		{"both families OK", opts(t), observations{Families: []famObs{v4Fam, v6Fam}},
			[]string{"ROUTE OK - IPv4 default route via 192.0.2.1 dev eth0 in table main, gateway neighbour REACHABLE; IPv6 default route via fe80::1 dev eth0 in table main | " +
				"ipv4_routes=3;;;0 ipv4_default_routes=1;;;0 ipv4_gateway_neigh=0;;;0;3 ipv6_routes=4;;;0 ipv6_default_routes=1;;;0 ipv6_gateway_neigh=1;;;0;3\n"}},
		{"the postmortem: IPv4 default route gone", opts(t), observations{Families: []famObs{with(v4Fam), v6Fam}},
			[]string{"ROUTE CRITICAL - no default route for IPv4 in table main |", "ipv4_default_routes=0;;;0", "[OK] IPv6 default route"}},
		{"auto ignores a family without a global address", opts(t), observations{Families: []famObs{v4Fam, v6None}, Verbose: 1},
			[]string{"ROUTE OK - IPv4 default route via 192.0.2.1", "IPv6 not checked: no global IPv6 address", "IPv4 required: global address 192.0.2.2"}},
		{"required without a global address", opts(t, "-6", "required"), observations{Families: []famObs{v4Fam, v6None}},
			[]string{"ROUTE CRITICAL - no default route for IPv6 in table main |"}},
		{"optional and absent is OK", opts(t, "-4", "optional"), observations{Families: []famObs{with(v4Fam), v6Fam}},
			[]string{"ROUTE OK - no default route for IPv4 in table main (optional); IPv6 default route"}},
		{"ignore", opts(t, "-4", "ignore", "-6", "ignore"), observations{Families: []famObs{with(v4Fam), with(v6Fam)}},
			[]string{"ROUTE OK - nothing to check\n"}},
		{"another table is named", opts(t, "--table", "100"), observations{Families: []famObs{with(v4Fam), v6Fam}},
			[]string{"no default route for IPv4 in table 100"}},
		{"a blackhole default routes nothing", opts(t), observations{Families: []famObs{with(v4Fam, defRoute{Type: "blackhole"}), v6Fam}},
			[]string{"ROUTE CRITICAL - default route for IPv4 in table main is blackhole |"}},
		{"gateway neighbour FAILED", opts(t), observations{Families: []famObs{with(v4Fam, defRoute{Type: "unicast", Hops: []hop{{Gateway: ip("10.0.0.1"), Dev: "eth0", Neigh: "FAILED"}}}), v6None}},
			[]string{"ROUTE CRITICAL - IPv4 default route via 10.0.0.1 dev eth0 in table main, gateway neighbour FAILED |", "ipv4_gateway_neigh=3;;;0;3"}},
		{"gateway neighbour INCOMPLETE", opts(t), observations{Families: []famObs{with(v4Fam, defRoute{Type: "unicast", Hops: []hop{{Gateway: ip("10.0.0.1"), Dev: "eth0", Neigh: "INCOMPLETE"}}}), v6None}},
			[]string{"ROUTE WARNING - IPv4 default route via 10.0.0.1 dev eth0 in table main, gateway neighbour INCOMPLETE |"}},
		{"unexpected gateway", opts(t, "--gateway", "192.0.2.254"), observations{Families: []famObs{v4Fam, v6Fam}},
			[]string{"ROUTE CRITICAL - IPv4 default route via 192.0.2.1 dev eth0 in table main, expected gateway 192.0.2.254 |"}},
		{"expected gateway of each family", opts(t, "--gateway", "192.0.2.1", "--gateway", "fe80::1", "--dev", "eth0"), observations{Families: []famObs{v4Fam, v6Fam}},
			[]string{"ROUTE OK - "}},
		{"unexpected dev", opts(t, "--dev", "eth1"), observations{Families: []famObs{v4Fam, v6None}},
			[]string{"ROUTE CRITICAL - IPv4 default route via 192.0.2.1 dev eth0 in table main, expected dev eth1 |"}},
		{"the preferred of two defaults is judged, the other noted", opts(t), observations{Verbose: 1, Families: []famObs{
			with(v4Fam, defRoute{Type: "unicast", Hops: []hop{v4Gw}}, defRoute{Type: "unicast", Metric: 200, Hops: []hop{{Gateway: ip("192.0.2.9"), Dev: "eth1"}}}), v6None}},
			[]string{"ROUTE OK - IPv4 default route via 192.0.2.1", "ipv4_default_routes=2;;;0", "also IPv4 default route via 192.0.2.9 dev eth1 metric 200"}},
		{"multipath: the worst neighbour", opts(t), observations{Families: []famObs{
			with(v4Fam, defRoute{Type: "unicast", Hops: []hop{v4Gw, {Gateway: ip("192.0.2.3"), Dev: "eth1", Neigh: "FAILED"}}}), v6None}},
			[]string{"ROUTE CRITICAL - IPv4 default route via 192.0.2.1 dev eth0 and via 192.0.2.3 dev eth1 in table main, gateway neighbour FAILED"}},
		{"destinations", opts(t), observations{Families: []famObs{v4Fam, v6None}, Dests: []destObs{
			{To: ip("192.0.2.10"), Refused: "unreachable"},
			{To: ip("198.51.100.7"), Via: v4Gw, Src: ip("192.0.2.2")},
			{To: ip("2001:db8::9"), Err: "operation not permitted"}}},
			[]string{"ROUTE CRITICAL - 1 CRITICAL, 1 UNKNOWN: route to 192.0.2.10: unreachable / route to 2001:db8::9: lookup failed: operation not permitted |",
				"[UNKNOWN] route to 2001:db8::9: lookup failed: operation not permitted\n",
				"[OK] route to 198.51.100.7 via 192.0.2.1 dev eth0 src 192.0.2.2\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := plugin.Render("ROUTE", judge(tt.o, tt.obs), 0)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q\n%s", w, out)
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	bad := []struct {
		o    Options
		want string
	}{
		{Options{Gateway: []Addr{{ip("192.0.2.1")}, {ip("192.0.2.2")}}}, "--gateway given twice for IPv4"},
		{Options{Dev: "../x"}, `invalid --dev "../x"`},
		{Options{Netns: "a/b"}, `invalid --netns "a/b"`},
		{Options{Netns: ".."}, `invalid --netns ".."`},
	}
	for _, tt := range bad {
		if err := tt.o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
	var tb Table
	for s, want := range map[string]int{"main": 254, "local": 255, "100": 100, "254": 254} {
		if err := tb.UnmarshalFlag(s); err != nil || tb.ID != want {
			t.Errorf("table %s: %v %d", s, err, tb.ID)
		}
	}
	if tb.UnmarshalFlag("254"); tb.Name != "main" {
		t.Errorf("table 254 named %q", tb.Name)
	}
	for _, s := range []string{"0", "x", "-1", "4294967296"} {
		if err := tb.UnmarshalFlag(s); err == nil {
			t.Errorf("table %q accepted", s)
		}
	}
	var a Addr
	for _, s := range []string{"1.2.3", "fe80::1%eth0", "192.0.2.0/24", ""} {
		if err := a.UnmarshalFlag(s); err == nil {
			t.Errorf("address %q accepted", s)
		}
	}
	if err := a.UnmarshalFlag("::ffff:192.0.2.1"); err != nil || !a.Is4() {
		t.Errorf("mapped address: %v %v", a, err)
	}
}
