package httpstatus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// reasonMax bounds the server's reason on the first line: enough for
// "There are alarms in effect in the cluster", short of a page.
const reasonMax = 100

// reasonFields are the JSON fields health endpoints put their reason in,
// in the order tried: RabbitMQ's "reason", Spring's and most APIs'
// "message", and "error" (a string, or an object with a message).
var reasonFields = []string{"reason", "message", "error"}

// serverReason is why the server says the answer is not OK, in its own
// words, for the first line of a run whose state is not OK: --jq-message
// when given; else, for an error status or a failed --jq, the reason
// field of a JSON body or an excerpt of a text one (an HTML page's
// title). "" when the
// body says nothing usable. It is an excerpt: sanitised (one line, no
// control characters, valid UTF-8) and short. jqErr is why --jq-message
// gave no reason, when it failed.
func (o judgement) serverReason(r *httpprobe.Response, jqFailed bool, jqDoc int) (why string, jqErr error) {
	if len(r.Body) == 0 || r.Truncated && o.jqMsg == nil {
		return "", nil
	}
	why, jqErr = o.bodyReason(r, jqFailed, jqDoc)
	// An error page whose words are its status line ("403 Forbidden")
	// says nothing the first line does not.
	if strings.EqualFold(why, r.StatusLine) || strings.EqualFold(why, http.StatusText(r.Status)) {
		return "", jqErr
	}
	return why, jqErr
}

// bodyReason reads the reason from the JSON value numbered jqDoc, the one
// --jq failed on: in a body of several, another says nothing about it.
func (o judgement) bodyReason(r *httpprobe.Response, jqFailed bool, jqDoc int) (string, error) {
	doc, isJSON := parseJSON(r.Body, jqDoc)
	var jqErr error
	if isJSON && o.jqMsg != nil {
		s, err := o.jqString(doc)
		if s != "" {
			return excerpt(s), nil
		}
		jqErr = err
	}
	// A body that passed its checks but for a -s, say, on a 200 has no
	// reason to give: only an error status or a failed --jq asks why.
	switch {
	case r.Status < 400 && !jqFailed:
		return "", jqErr
	case isJSON:
		return excerpt(jsonReason(doc)), jqErr
	}
	return excerpt(textOf(r.Body)), jqErr
}

// parseJSON is the JSON body's value numbered n (from 0; the first when
// there are fewer), when the whole body is JSON (one value or several,
// as --jq reads it).
func parseJSON(body []byte, n int) (any, bool) {
	docs, err := jsonValues(body)
	if err != nil {
		return nil, false
	}
	return docs[min(n, len(docs)-1)], true
}

// jqString runs --jq-message: its first value, a string as it is, any
// other value as JSON; "" when it yields nothing or null, or fails (the
// error says why, the expression named).
func (o judgement) jqString(doc any) (string, error) {
	expr := human.Truncate(string(o.JQMsg), 40)
	vals, err := runJQ(o.jqContext(), o.jqMsg, doc, func(any) bool { return true })
	if err != nil {
		return "", fmt.Errorf("--jq-message '%s' %w", expr, err)
	}
	if len(vals) == 0 || vals[0] == nil {
		return "", nil
	}
	if err, isErr := vals[0].(error); isErr {
		return "", fmt.Errorf("--jq-message '%s': %s", expr, human.Truncate(err.Error(), 80))
	}
	if s, isStr := vals[0].(string); isStr {
		return s, nil
	}
	b, _ := json.Marshal(vals[0])
	return string(b), nil
}

// jsonReason is the first of reasonFields a JSON object holds as a
// string (or as an object with a string "message").
func jsonReason(doc any) string {
	m, ok := doc.(map[string]any)
	if !ok {
		return ""
	}
	for _, f := range reasonFields {
		switch v := m[f].(type) {
		case string:
			if strings.TrimSpace(v) != "" {
				return v
			}
		case map[string]any:
			if s, ok := v["message"].(string); ok && strings.TrimSpace(s) != "" {
				return s
			}
		}
	}
	return ""
}

// Compiled on first use: only a failed check with an HTML body needs them.
var (
	htmlTitle = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })
	htmlTag   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })
)

// textOf is the readable text of a body: an HTML page's title, or its
// text without tags; any other body as it is.
func textOf(body []byte) string {
	b := body[:min(len(body), 64<<10)] // an error page's words are at its top
	if !bytes.Contains(b, []byte("<")) {
		return string(b)
	}
	if m := htmlTitle().FindSubmatch(b); m != nil && len(bytes.TrimSpace(m[1])) > 0 {
		return string(m[1])
	}
	return htmlTag().ReplaceAllString(string(b), " ")
}

// excerpt makes a server's text fit one line of a status: valid UTF-8,
// control characters and runs of white space as one space, at most
// reasonMax bytes, never cutting a character.
func excerpt(s string) string {
	s = strings.ToValidUTF8(human.Truncate(s, 4*reasonMax), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return human.Truncate(strings.Join(strings.Fields(s), " "), reasonMax)
}

// sizePerf is the body size, with -m's range as its warning threshold.
func (o judgement) sizePerf(r *httpprobe.Response) plugin.Perf {
	p := plugin.NewPerf("size", float64(len(r.Body)), "B").WithBounds(0, math.NaN())
	if !o.Pages.Set {
		return p
	}
	spec := o.Pages.String()
	if !o.Pages.HasMax {
		spec += ":"
	}
	warn, err := threshold.ParseRange(spec)
	if err != nil {
		return p
	}
	return p.WithThresholds(warn, threshold.Range{})
}
