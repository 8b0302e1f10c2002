package httpstatus

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// judgePeer judges what the peers' -d, -m and -M ask of an answer.
func (o judgement) judgePeer(v *verdict, r *httpprobe.Response) {
	if o.Header != "" && !strings.Contains(strings.ToLower(headerText(r)), strings.ToLower(o.Header)) {
		v.add(plugin.CRITICAL, fmt.Sprintf("header '%s' not found", human.Truncate(o.Header, 30)))
	}
	if n := int64(len(r.Body)); o.Pages.Outside(n) || r.Truncated && o.Pages.HasMax {
		size := fmt.Sprintf("%d bytes", n)
		if r.Truncated {
			size = "over " + o.MaxBody.String()
		}
		v.add(plugin.WARNING, "page size "+size+" outside -m "+o.Pages.String())
	}
	if o.MaxAge.Set {
		if s, text := documentAge(r.Header, o.now, o.MaxAge.D); s != plugin.OK {
			v.add(s, text)
		}
	}
}

// headerText is the response head as -d searches it: the status line as
// curl shows it ("HTTP/2 200") and one "Name: value" line per header.
func headerText(r *httpprobe.Response) string {
	var b strings.Builder
	b.WriteString(r.Head() + "\n")
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, val := range r.Header[k] {
			b.WriteString(k + ": " + val + "\n")
		}
	}
	return b.String()
}

// futureSlack is how far in the future a Last-Modified may be before it
// is a problem, as check_curl's 30 seconds.
const futureSlack = 30 * time.Second

// documentAge judges -M as check_curl does: the age is Last-Modified
// measured against the server's own Date (no clock skew between us and
// the server counts); a document from the future, or a date that does
// not parse, is CRITICAL. Without Last-Modified, the response is aged by
// its Date against our clock (a cache serving a stale copy); the peers
// make a missing Last-Modified CRITICAL.
func documentAge(h http.Header, now time.Time, max time.Duration) (plugin.State, string) {
	lm, date := h.Get("Last-Modified"), h.Get("Date")
	if lm == "" && date == "" {
		return plugin.CRITICAL, "document age unknown: no Last-Modified or Date header"
	}
	doc, ref, what := lm, date, "last modified"
	if lm == "" {
		doc, ref, what = date, "", "dated"
	}
	docT, err := http.ParseTime(doc)
	if err != nil {
		return plugin.CRITICAL, fmt.Sprintf("document date '%s' unparsable", human.Truncate(doc, 40))
	}
	refT := now
	if ref != "" {
		if refT, err = http.ParseTime(ref); err != nil {
			return plugin.CRITICAL, fmt.Sprintf("server date '%s' unparsable", human.Truncate(ref, 40))
		}
	}
	age := refT.Sub(docT)
	switch {
	case age < -futureSlack:
		return plugin.CRITICAL, "document is " + human.Duration(-age) + " in the future"
	case age > max:
		return plugin.CRITICAL, what + " " + human.Duration(age) + " ago (-M " + human.Duration(max) + ")"
	}
	return plugin.OK, ""
}
