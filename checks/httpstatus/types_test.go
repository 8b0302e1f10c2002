package httpstatus

import (
	"strings"
	"testing"
)

func TestStatusSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		yes  []int
		no   []int
		fail bool
	}{
		{in: "200", yes: []int{200}, no: []int{201, 20, 520}},
		{in: "200,204", yes: []int{200, 204}, no: []int{201}},
		{in: "2xx", yes: []int{200, 299}, no: []int{300, 199}},
		{in: "2XX, 301", yes: []int{250, 301}, no: []int{302}},
		{in: "200-299", yes: []int{200, 250, 299}, no: []int{300}},
		{in: "HTTP/1.1 200 OK", yes: []int{200}, no: []int{201}},
		{in: "HTTP/2 204", yes: []int{204}},
		{in: "20", fail: true},
		{in: "abc", fail: true},
		{in: "299-200", fail: true},
		{in: "6xx", fail: true},
		{in: "", fail: true},
	} {
		ss, err := ParseStatusSet(tc.in)
		if (err != nil) != tc.fail {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		for _, c := range tc.yes {
			if !ss.Contains(c) {
				t.Errorf("%q should contain %d", tc.in, c)
			}
		}
		for _, c := range tc.no {
			if ss.Contains(c) {
				t.Errorf("%q should not contain %d", tc.in, c)
			}
		}
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{"1": 1, "512k": 512 << 10, "4MiB": 4 << 20, "4 MB": 4 << 20, "1g": 1 << 30, "100B": 100} {
		var z Size
		if err := z.UnmarshalFlag(in); err != nil || z != want {
			t.Errorf("%q: %d, %v; want %d", in, z, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "0", "-1", "2g", "4x", "k"} {
		var z Size
		if err := z.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted as %d", bad, z)
		}
	}
}

func TestCertDays(t *testing.T) {
	var c CertDays
	if err := c.UnmarshalFlag("30,14"); err != nil || c.Warn != 30 || c.Crit != 14 {
		t.Errorf("30,14: %+v %v", c, err)
	}
	if err := c.UnmarshalFlag("30"); err != nil || c.Crit != 0 {
		t.Errorf("30: %+v %v", c, err)
	}
	if err := c.UnmarshalFlag("13960,14000"); err != nil || c.Warn != 13960 || c.Crit != 14000 {
		t.Errorf("13960,14000 (CRIT above WARN, as the peers): %+v %v", c, err)
	}
	for _, bad := range []string{"x", "-1", "30,x", "30,-1"} {
		if err := c.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseResolve(t *testing.T) {
	hp, addr, err := parseResolve("www.example.org:443:[2001:db8::1]")
	if err != nil || hp != "www.example.org:443" || addr != "2001:db8::1" {
		t.Errorf("got %s %s %v", hp, addr, err)
	}
	for _, bad := range []string{"x:80", "x:http:127.0.0.1", "x:80:notanip", ":80:127.0.0.1"} {
		if _, _, err := parseResolve(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPort(t *testing.T) {
	for in, want := range map[string]Port{"1": 1, "80": 80, "65535": 65535, "00443": 443} {
		var p Port
		if err := p.UnmarshalFlag(in); err != nil || p != want {
			t.Errorf("%q: %d, %v; want %d", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "0", "65536", "99999999999999999999", "-1", "+80", " 80", "80 ", "0x50", "8_0", "http", "80.0"} {
		var p Port
		if err := p.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted as %d", bad, p)
		}
	}
}

// -I takes what check_http's -I takes, an IP address or a name ("IP
// address or name (use numeric address if possible to bypass DNS
// lookup)"), and refuses only what cannot be either.
func TestAddress(t *testing.T) {
	for _, good := range []string{"192.0.2.10", "192.0.2.10:8080", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443", "fe80::1%eth0",
		"not.an.ip", "www.example.org", "www.example.org.", "localhost:8080", "my_host.internal", "xn--bcher-kva.example", "bücher.example", "a1.b2.c3.4a"} {
		var a Address
		if err := a.UnmarshalFlag(good); err != nil || string(a) != good {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "[::1", "::1]", "[::1]]", "[192.0.2.1]", "[www.example.org]:80", "192.0.2.300", "1.2.3", "300", "host:0", "host:65536",
		"host:", ":80", "host:http", "-host", "host-.example", "a..b", "host name", "host/path", "http://host/", "host\n", "2001:db8::1:80:90:1:2:3:4",
		"[2001:db8::1]:0", strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 127) + "example"} {
		var a Address
		if err := a.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMethod(t *testing.T) {
	for _, good := range []string{"GET", "post", "PROPFIND", "M-SEARCH"} {
		var m Method
		if err := m.UnmarshalFlag(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", " ", "GE T", "GET ", "GET\r\nX: y", "GET\x00", "GÉT", "(GET)"} {
		var m Method
		if err := m.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCertDaysStrict(t *testing.T) {
	for _, bad := range []string{"", "30 ", " 30", "30, 14", "inf", "nan", "0x1e", "3_0", "30%", "30,", ",14"} {
		var c CertDays
		if err := c.UnmarshalFlag(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, c)
		}
	}
}
