package plugin

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Masked replaces every secret the sanitiser removes.
const Masked = "xxxxx"

// minSecret is the shortest value RegisterSecret accepts: masking "ab"
// or "0" everywhere would mangle the output more than it protects.
const minSecret = 4

// Sanitizer is the one filter every text passes on its way to stdout:
// summary, finding texts, notes, perfdata labels, usage errors and the
// watchdog's line. It masks
//
//   - the password of anything URL-like, "scheme://user:pass@host" becoming
//     "scheme://user:xxxxx@host", also when the URL is otherwise invalid
//     ("http://user:secret@[::1" in a parse error). A userinfo without a
//     password is masked whole ("https://xxxxx@host"): a lone user name
//     is how tokens are often passed;
//   - the value of every query parameter whose name says it is a secret
//     ("?token=", "&api_key=", "X-Amz-Signature=", see secretParam),
//     "?token=abc&x=1" becoming "?token=xxxxx&x=1": a URL given with -u
//     is printed in the status line and perfdata labels;
//   - every value registered with RegisterSecret, where it appears, also
//     URL-escaped.
//
// The runtime owns one per run; the nil *Sanitizer is valid and masks URL
// userinfo only. It is safe for concurrent use: the watchdog sanitises
// while the check may still be registering.
type Sanitizer struct {
	mu       sync.Mutex
	secrets  map[string]bool
	replacer *strings.Replacer // built on first use after a change
}

// RegisterSecret makes s be masked wherever it appears in the output: a
// password, a token, a header value given on the command line or read
// from a file. Values shorter than 4 bytes are ignored, and so are runs
// of "x" that the mask itself would contain.
func (z *Sanitizer) RegisterSecret(s string) {
	if z == nil {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.secrets == nil {
		z.secrets = map[string]bool{}
	}
	// The variants a secret takes in messages: as given, without the
	// newline it was read from a file with, escaped inside a URL,
	// flattened onto one line, quoted by %q (or JSON) without its quotes.
	t := strings.TrimSpace(s)
	quoted := strconv.Quote(t)
	for _, w := range []string{s, t, url.QueryEscape(t), url.PathEscape(t), url.UserPassword("", t).String()[1:], oneLine(t), quoted[1 : len(quoted)-1]} {
		// A value inside the mask itself would make masking repeat.
		if len(w) >= minSecret && !strings.Contains(Masked, w) && !z.secrets[w] {
			z.secrets[w] = true
			z.replacer = nil
		}
	}
}

// Sanitize returns text with URL passwords and registered secrets masked.
// Sanitising twice changes nothing more, unless a secret holds an "x"
// that the mask next to it could complete.
func (z *Sanitizer) Sanitize(text string) string {
	if r := z.secretReplacer(); r != nil {
		text = r.Replace(text)
	}
	return maskQuery(maskUserinfo(text))
}

func (z *Sanitizer) secretReplacer() *strings.Replacer {
	if z == nil {
		return nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.replacer == nil && len(z.secrets) > 0 {
		// strings.Replacer tries the pairs in argument order at each
		// position: longest first, so "hunter22" is not left as "xxxxx22"
		// when "hunter2" is a secret too.
		vals := make([]string, 0, len(z.secrets))
		for s := range z.secrets {
			vals = append(vals, s)
		}
		sort.Slice(vals, func(i, j int) bool {
			if len(vals[i]) != len(vals[j]) {
				return len(vals[i]) > len(vals[j])
			}
			return vals[i] < vals[j]
		})
		pairs := make([]string, 0, 2*len(vals))
		for _, s := range vals {
			pairs = append(pairs, s, Masked)
		}
		z.replacer = strings.NewReplacer(pairs...)
	}
	return z.replacer
}

// userinfo matches "scheme://userinfo@". The authority ends at the first
// "/", "?", "#" or white space, and within it the last "@" ends the
// userinfo, as in url.Parse; quotes do not end it, so a password holding
// one is still masked. The price is that "'http://h','a@b'" loses "h','a".
// Compiled on first use: most outputs hold no "@".
var userinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#\s]*)@`)
})

func maskUserinfo(text string) string {
	if !strings.Contains(text, "://") || !strings.Contains(text, "@") {
		return text
	}
	return userinfo().ReplaceAllStringFunc(text, func(m string) string {
		i := strings.Index(m, "://") + 3
		info := m[i : len(m)-1]
		if user, _, ok := strings.Cut(info, ":"); ok {
			return m[:i] + user + ":" + Masked + "@"
		}
		return m[:i] + Masked + "@"
	})
}

// queryParam matches "?name=value" or "&name=value" anywhere: a URL may
// be printed without its scheme (-u /path?token=...), inside quotes or
// as a perfdata label. The value ends where a query value, a quoted
// string or a label would.
// Compiled on first use: only a text that may name a secret parameter
// needs it (see maySecretParam).
var queryParam = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([?&;])([A-Za-z0-9_.\-\[\]%]+)=([^&;#\s'"<>|]*)`)
})

func maskQuery(text string) string {
	if !strings.ContainsAny(text, "?&;") || !strings.Contains(text, "=") || !maySecretParam(text) {
		return text
	}
	return queryParam().ReplaceAllStringFunc(text, func(m string) string {
		name, value, _ := strings.Cut(m[1:], "=")
		// Punctuation at the end belongs to the sentence around the URL
		// ("GET /x?token=abc: 200"), not to the value.
		rest := strings.TrimRight(value, ":,.)]")
		if rest == "" || !secretParam(name) {
			return m
		}
		return m[:1] + name + "=" + Masked + value[len(rest):]
	})
}

// secretNames are query parameter names that carry a secret as a whole;
// secretParts make any name holding them one ("access_token",
// "client_secret", "X-Amz-Signature", "X-Goog-Credential").
var (
	secretNames = map[string]bool{"key": true, "pass": true, "passwd": true, "pwd": true, "sig": true, "auth": true, "authorization": true}
	secretParts = []string{"token", "secret", "password", "passwd", "apikey", "api_key", "api-key", "signature", "credential", "private_key", "access_key", "accesskey", "session", "sessionid"}
)

// secretStems are the words one of which every secret parameter name
// holds (see secretNames and secretParts; TestSecretStemsCoverNames).
var secretStems = []string{"key", "pass", "pwd", "sig", "auth", "token", "secret", "credential", "session"}

// maySecretParam is the cheap test before the regexp: perfdata alone
// holds ";" and "=", and seldom a secret's name. A %-escape may hide
// one, so text holding "%" always goes on.
func maySecretParam(text string) bool {
	if strings.Contains(text, "%") {
		return true
	}
	lower := strings.ToLower(text)
	for _, s := range secretStems {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// secretParam reports whether a query parameter called name (in any
// case, possibly %-escaped) is a secret.
func secretParam(name string) bool {
	if u, err := url.QueryUnescape(name); err == nil {
		name = u
	}
	name = strings.ToLower(name)
	if secretNames[name] {
		return true
	}
	for _, p := range secretParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}
