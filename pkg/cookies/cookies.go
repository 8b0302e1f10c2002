// Package cookies is a cookie jar kept in a file in the Netscape format
// curl reads and writes (its --cookie-jar): cookies are matched to
// requests by RFC 6265's rules, and the jar stays bounded however many
// cookies servers send. It knows cookies and the file format, nothing
// of where the file lives: the caller reads and writes the bytes.
package cookies

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds: a jar holds at most MaxCookies, each at most MaxCookieSize
// bytes of name and value (RFC 6265 6.1's minimum a client must keep, and
// what browsers keep), so its file stays under about 1.1 MiB.
const (
	MaxCookies    = 256
	MaxCookieSize = 4096
)

// Cookie is one line of the file.
type Cookie struct {
	Domain   string // lower case, no leading dot
	HostOnly bool   // sent to Domain only, not its subdomains
	Path     string
	Secure   bool
	HTTPOnly bool
	Expires  int64 // Unix seconds; 0 for a session cookie
	Name     string
	Value    string
}

// Jar is a cookie jar; it implements http.CookieJar. Safe for
// concurrent use.
type Jar struct {
	mu      sync.Mutex
	cookies []Cookie
	now     func() time.Time
}

// ErrNotCookieFile is data that is neither empty nor a cookie file: the
// caller must not overwrite the file it came from (a password file
// given by mistake).
var ErrNotCookieFile = errors.New("not a cookie file")

// Parse reads a Netscape cookie file as curl writes it. Comments and
// blank lines are skipped; expired cookies are dropped; at most
// MaxCookies are kept. Data that is not empty, has no header of curl's
// ("# Netscape HTTP Cookie File", "# HTTP Cookie File") and holds a line
// that is not a cookie is ErrNotCookieFile, with an empty jar: curl
// would skip such lines, and then overwrite the file with its jar.
func Parse(data []byte, now func() time.Time) (*Jar, error) {
	j := &Jar{now: now}
	header := hasHeader(data)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 2*MaxCookieSize+1024)
	for sc.Scan() {
		c, ok := parseLine(sc.Text())
		switch {
		case ok && len(c.Name)+len(c.Value) <= MaxCookieSize:
			j.put(c)
		case !ok && !header && !skippable(sc.Text()):
			return &Jar{now: now}, ErrNotCookieFile
		}
	}
	if sc.Err() != nil && !header { // a line longer than any cookie's
		return &Jar{now: now}, ErrNotCookieFile
	}
	return j, nil
}

// hasHeader reports whether data starts with the first line curl writes
// (or older curl and other tools wrote).
func hasHeader(data []byte) bool {
	for _, h := range []string{"# Netscape HTTP Cookie File", "# HTTP Cookie File"} {
		if bytes.HasPrefix(data, []byte(h)) {
			return true
		}
	}
	return false
}

// skippable is a blank line or a comment, which any cookie file may hold.
func skippable(line string) bool {
	line = strings.TrimSpace(line)
	return line == "" || (line[0] == '#' && !strings.HasPrefix(line, "#HttpOnly_"))
}

// parseLine reads one cookie line; false for anything else. A cookie
// too large to keep is still a cookie line (the caller drops it).
func parseLine(line string) (Cookie, bool) {
	line = strings.TrimRight(line, "\r")
	var c Cookie
	if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
		line, c.HTTPOnly = rest, true
	}
	if line == "" || line[0] == '#' {
		return c, false
	}
	f := strings.Split(line, "\t")
	if len(f) == 6 { // a cookie with an empty value, as curl may write it
		f = append(f, "")
	}
	if len(f) != 7 {
		return c, false
	}
	exp, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || f[0] == "" || f[5] == "" {
		return c, false
	}
	c.Domain = strings.ToLower(strings.TrimPrefix(f[0], "."))
	c.HostOnly = !strings.EqualFold(f[1], "TRUE")
	c.Path, c.Secure, c.Expires = f[2], strings.EqualFold(f[3], "TRUE"), exp
	c.Name, c.Value = f[5], f[6]
	if c.Path == "" || c.Path[0] != '/' {
		c.Path = "/"
	}
	return c, true
}

// Marshal writes the jar in the Netscape format, session cookies
// included (as curl does), expired ones left out.
func (j *Jar) Marshal() []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n# Written by check_http_status --cookie-jar.\n\n")
	now := j.now().Unix()
	for _, c := range j.cookies {
		if c.Expires != 0 && c.Expires <= now {
			continue
		}
		if c.HTTPOnly {
			b.WriteString("#HttpOnly_")
		}
		domain, sub := c.Domain, "FALSE"
		if !c.HostOnly {
			domain, sub = "."+c.Domain, "TRUE"
		}
		b.WriteString(strings.Join([]string{domain, sub, c.Path, upper(c.Secure), strconv.FormatInt(c.Expires, 10), c.Name, c.Value}, "\t"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func upper(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// Values returns every cookie value, for the caller to treat as secrets.
func (j *Jar) Values() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, c.Value)
	}
	return out
}

// Cookies implements http.CookieJar: the cookies to send to u, longest
// path first.
func (j *Jar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	host, now := canonicalHost(u), j.now().Unix()
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	var match []Cookie
	for _, c := range j.cookies {
		if c.Expires != 0 && c.Expires <= now || c.Secure && u.Scheme != "https" ||
			!domainMatch(c, host) || !pathMatch(path, c.Path) {
			continue
		}
		match = append(match, c)
	}
	sort.SliceStable(match, func(a, b int) bool { return len(match[a].Path) > len(match[b].Path) })
	out := make([]*http.Cookie, len(match))
	for i, c := range match {
		out[i] = &http.Cookie{Name: c.Name, Value: c.Value, Quoted: strings.ContainsAny(c.Value, " ,")}
	}
	return out
}

// SetCookies implements http.CookieJar: it stores what a response from u
// set, refusing a Domain attribute u's host does not belong to, and
// deletes what it expired.
func (j *Jar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	host, now := canonicalHost(u), j.now()
	for _, hc := range cs {
		c, ok := fromHTTP(hc, u, host)
		if !ok {
			continue
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = -1
		case hc.MaxAge > 0:
			c.Expires = now.Unix() + int64(hc.MaxAge)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires.Unix()
		}
		if c.Expires != 0 && c.Expires <= now.Unix() {
			j.remove(c)
			continue
		}
		j.put(c)
	}
}

func fromHTTP(hc *http.Cookie, u *url.URL, host string) (Cookie, bool) {
	c := Cookie{Name: hc.Name, Value: hc.Value, Secure: hc.Secure, HTTPOnly: hc.HttpOnly, Domain: host, HostOnly: true}
	if c.Name == "" || len(c.Name)+len(c.Value) > MaxCookieSize {
		return c, false
	}
	if d := strings.ToLower(strings.TrimPrefix(hc.Domain, ".")); d != "" {
		// A domain cookie is for the host's own domain: never an IP
		// address's neighbours, never a top-level domain alone.
		ip := net.ParseIP(host) != nil
		if d != host && (ip || !strings.HasSuffix(host, "."+d) || !strings.Contains(d, ".")) {
			return c, false
		}
		c.Domain, c.HostOnly = d, ip
	}
	c.Path = hc.Path
	if c.Path == "" || c.Path[0] != '/' {
		c.Path = defaultPath(u.EscapedPath())
	}
	return c, true
}

// put adds c or replaces the cookie of the same name, domain and path;
// a jar at MaxCookies takes no new cookie.
func (j *Jar) put(c Cookie) {
	for i, old := range j.cookies {
		if same(old, c) {
			j.cookies[i] = c
			return
		}
	}
	if len(j.cookies) < MaxCookies {
		j.cookies = append(j.cookies, c)
	}
}

func (j *Jar) remove(c Cookie) {
	for i, old := range j.cookies {
		if same(old, c) {
			j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			return
		}
	}
}

func same(a, b Cookie) bool { return a.Name == b.Name && a.Domain == b.Domain && a.Path == b.Path }

func canonicalHost(u *url.URL) string {
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

func domainMatch(c Cookie, host string) bool {
	if c.HostOnly {
		return host == c.Domain
	}
	return host == c.Domain || strings.HasSuffix(host, "."+c.Domain) && net.ParseIP(host) == nil
}

// pathMatch is RFC 6265 5.1.4.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// defaultPath is RFC 6265 5.1.4's default-path: the request path up to,
// not including, its last slash.
func defaultPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
