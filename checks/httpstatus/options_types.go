package httpstatus

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// StatusSet is a list of status codes, classes and ranges: "200,204",
// "2xx", "200-299", and check_http's "HTTP/1.1 200" spelling. Repeating
// the option adds to the set.
type StatusSet struct {
	spans []span
	text  []string
}

type span struct{ lo, hi int }

// ParseStatusSet parses a comma-separated list.
func ParseStatusSet(s string) (StatusSet, error) {
	var out StatusSet
	return out, out.add(s)
}

func (ss *StatusSet) add(s string) error {
	for _, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		sp, err := parseSpan(tok)
		if err != nil {
			return fmt.Errorf("invalid status %q in %q: use codes (200), classes (2xx) or ranges (200-299)", tok, s)
		}
		ss.spans = append(ss.spans, sp)
		ss.text = append(ss.text, tok)
	}
	if len(ss.spans) == 0 {
		return fmt.Errorf("invalid status list %q: empty", s)
	}
	return nil
}

func parseSpan(tok string) (span, error) {
	// check_http's "HTTP/1.1 200": the code is the second word.
	if f := strings.Fields(tok); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		tok = f[1]
	}
	lower := strings.ToLower(tok)
	if len(lower) == 3 && strings.HasSuffix(lower, "xx") && lower[0] >= '1' && lower[0] <= '5' {
		c := int(lower[0]-'0') * 100
		return span{c, c + 99}, nil
	}
	lo, hi, isRange := strings.Cut(tok, "-")
	a, err := code(lo)
	if err != nil {
		return span{}, err
	}
	if !isRange {
		return span{a, a}, nil
	}
	b, err := code(hi)
	if err != nil || b < a {
		return span{}, fmt.Errorf("bad range")
	}
	return span{a, b}, nil
}

func code(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return 0, fmt.Errorf("bad code")
	}
	return n, nil
}

// IsSet reports whether any code was given.
func (ss StatusSet) IsSet() bool { return len(ss.spans) > 0 }

// Contains reports whether code is in the set.
func (ss StatusSet) Contains(code int) bool {
	for _, s := range ss.spans {
		if code >= s.lo && code <= s.hi {
			return true
		}
	}
	return false
}

func (ss StatusSet) String() string { return strings.Join(ss.text, ",") }

// UnmarshalFlag implements flags.Unmarshaler; repeated options add up.
func (ss *StatusSet) UnmarshalFlag(s string) error { return ss.add(s) }

// MarshalFlag implements flags.Marshaler.
func (ss StatusSet) MarshalFlag() (string, error) { return ss.String(), nil }

// Size is a byte count: "4MiB", "512k", "1048576".
type Size int64

// UnmarshalFlag implements flags.Unmarshaler.
func (z *Size) UnmarshalFlag(s string) error {
	t := strings.TrimSpace(s)
	digits := strings.TrimRight(t, "kKmMgGiIbB ")
	unit := strings.ToLower(strings.TrimSpace(t[len(digits):]))
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || !validUnit(unit) {
		return fmt.Errorf("invalid size %q: use bytes or e.g. 512KiB, 4MiB", s)
	}
	switch unit[:min(1, len(unit))] {
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	}
	if n <= 0 || n > 1<<30 {
		return fmt.Errorf("invalid size %q: must be between 1 byte and 1GiB", s)
	}
	*z = Size(n)
	return nil
}

func validUnit(u string) bool {
	switch u {
	case "", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib":
		return true
	}
	return false
}

// MarshalFlag implements flags.Marshaler.
func (z Size) MarshalFlag() (string, error) { return z.String(), nil }

func (z Size) String() string {
	switch {
	case z >= 1<<20 && z%(1<<20) == 0:
		return strconv.FormatInt(int64(z>>20), 10) + "MiB"
	case z >= 1<<10 && z%(1<<10) == 0:
		return strconv.FormatInt(int64(z>>10), 10) + "KiB"
	}
	return strconv.FormatInt(int64(z), 10) + "B"
}

// CertDays is -C WARN[,CRIT] in days; CRIT defaults to 0 as check_http.
// Days left below CRIT are CRITICAL, else below WARN WARNING.
type CertDays struct {
	Warn, Crit float64
	Set        bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (c *CertDays) UnmarshalFlag(s string) error {
	w, cr, hasCrit := strings.Cut(s, ",")
	wf, err := threshold.ParseNumber(w)
	if err != nil || wf < 0 {
		return fmt.Errorf("invalid certificate days %q: use WARN[,CRIT], e.g. 30,14", s)
	}
	out := CertDays{Warn: wf, Set: true}
	if hasCrit {
		cf, err := threshold.ParseNumber(cr)
		// CRIT above WARN is accepted, as the peers do ("-C 13960,14000"):
		// fewer days than CRIT is CRITICAL, whatever WARN says.
		if err != nil || cf < 0 {
			return fmt.Errorf("invalid certificate days %q: use WARN[,CRIT], e.g. 30,14", s)
		}
		out.Crit = cf
	}
	*c = out
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (c CertDays) MarshalFlag() (string, error) {
	if !c.Set {
		return "", nil
	}
	return strconv.FormatFloat(c.Warn, 'f', -1, 64) + "," + strconv.FormatFloat(c.Crit, 'f', -1, 64), nil
}

// Port is -p: 1-65535, decimal digits only. A plain int would take "-p 0"
// for "no -p" and "+80" or "0x50" as numbers.
type Port int

// UnmarshalFlag implements flags.Unmarshaler.
func (p *Port) UnmarshalFlag(s string) error {
	n, err := parsePort(s)
	if err != nil {
		return err
	}
	*p = Port(n)
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (p Port) MarshalFlag() (string, error) {
	if p == 0 {
		return "", nil
	}
	return strconv.Itoa(int(p)), nil
}

func parsePort(s string) (int, error) {
	n := 0
	for i := 0; i < len(s) && n <= 65535; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("invalid port %q: use 1-65535", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	if s == "" || n < 1 || n > 65535 {
		return 0, fmt.Errorf("invalid port %q: use 1-65535", s)
	}
	return n, nil
}

// Address is -I, where connections go: an IP address or, as check_http's
// -I ("IP address or name"), a host name, either with an optional :PORT;
// IPv6 with a port in brackets. Only what cannot be an address is refused:
// an empty value, a bad port, unbalanced brackets, a name with a character
// or label DNS does not allow, or a dotted number that is no IPv4 address.
type Address string

// UnmarshalFlag implements flags.Unmarshaler.
func (a *Address) UnmarshalFlag(s string) error {
	if err := checkAddress(s); err != nil {
		return fmt.Errorf("invalid address %q: %w", redactRaw(s), err)
	}
	*a = Address(s)
	return nil
}

// checkAddress accepts HOST, HOST:PORT, IPv6, [IPv6] and [IPv6]:PORT,
// HOST being an IP address or a host name (IPv6 zones included).
func checkAddress(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if strings.Contains(s, "@") { // and the message must not quote what may be a password
		return errors.New("a host has no user or password: give credentials with --auth-file")
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return checkIPv6(s[1 : len(s)-1])
	}
	if !strings.ContainsAny(s, ":[]") {
		return checkHostName(s)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("use ADDRESS, ADDRESS:PORT or [IPv6]:PORT")
	}
	if _, err := parsePort(port); err != nil {
		return err
	}
	if strings.HasPrefix(s, "[") {
		return checkIPv6(host)
	}
	return checkHostName(host)
}

func checkIPv6(s string) error {
	if a, err := netip.ParseAddr(s); err != nil || !a.Is6() {
		return fmt.Errorf("%q in brackets is not an IPv6 address", s)
	}
	return nil
}

// checkHostName accepts an IPv4 address or a DNS name: labels of 1-63
// letters, digits, "-" (not first or last), "_" (found in internal names,
// and Go's resolver takes it) and non-ASCII bytes (names in Unicode, which
// the HTTP client turns into punycode), 253 bytes at most, the last label
// not all digits (RFC 3696: "192.0.2.300" is a mistyped address).
func checkHostName(h string) error {
	if a, err := netip.ParseAddr(h); err == nil && a.Is4() {
		return nil
	}
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%q is not an IP address or host name", h)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return fmt.Errorf("%q is not an IP address or host name", h)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Errorf("%q is not an IP address", h)
	}
	return nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
			return false
		}
	}
	return true
}

// Method is -j: an HTTP method, which is a token (RFC 9110 5.6.2): no
// spaces, no control characters, not empty ("-j ”" would otherwise pass
// for no -j at all).
type Method string

// UnmarshalFlag implements flags.Unmarshaler.
func (m *Method) UnmarshalFlag(s string) error {
	if s == "" {
		return errors.New(`invalid method "": empty`)
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return fmt.Errorf("invalid method %q: a token such as GET or PROPFIND, without spaces or control characters", s)
		}
	}
	*m = Method(s)
	return nil
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Expr is --jq's expression; empty is refused, because "--jq ”" would
// otherwise pass for no --jq at all. The syntax is checked by Validate.
type Expr string

// UnmarshalFlag implements flags.Unmarshaler.
func (e *Expr) UnmarshalFlag(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("invalid jq expression %q: empty", s)
	}
	*e = Expr(s)
	return nil
}

// badHeaderValue reports whether v cannot be sent in a header: a control
// character other than tab, CR and LF above all, which would end the
// header line (as Go's net/http refuses at request time, too late for a
// message naming the option).
func badHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}
