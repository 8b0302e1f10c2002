package httpstatus

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// verdict collects the problems found with one answer.
type verdict struct {
	state    plugin.State
	problems []string
}

func (v *verdict) add(s plugin.State, text string) {
	if plugin.Worse(s, v.state) {
		v.state = s
	}
	v.problems = append(v.problems, text)
}

// judge turns what gather saw into the result: one finding per URL,
// worst first. It is a pure function of the options, their plan and the
// observations.
func judge(o *Options, p *plan, obs observations) plugin.Result {
	j := judgement{Options: o, plan: p, now: obs.Now, verbose: obs.Verbose}
	if !obs.JQBy.IsZero() {
		ctx, cancel := context.WithDeadline(context.Background(), obs.JQBy)
		defer cancel()
		j.jqCtx = ctx
	}
	outs := make([]outcome, len(p.targets))
	for i, t := range p.targets {
		f := obs.URLs[i]
		if o.certOnly() {
			outs[i] = j.judgeCertOnly(t, f)
		} else {
			outs[i] = j.judgeAnswer(t, f.Chain, f.Fail)
		}
	}
	res := j.assemble(outs)
	if obs.Verbose > 0 && obs.ProxyNote != "" {
		res.Note(obs.ProxyNote)
	}
	judgeJar(&res, obs.Jar)
	return res
}

// judgement is the options, their plan and the few observations every
// part of the judgement needs.
type judgement struct {
	*Options
	*plan
	now     time.Time
	verbose int
	jqCtx   context.Context // ends when jq expressions must be done
}

// outcome is one URL's judgement.
type outcome struct {
	target   target
	state    plugin.State
	text     string
	perf     []plugin.Perf
	notes    []string
	total    time.Duration
	answered bool
}

// judgeAnswer turns the responses of one URL (and the failure that ended
// it) into one line: "URL STATUS[ - problem...] - N bytes in Ts".
func (o judgement) judgeAnswer(t target, chain []*httpprobe.Response, fail *failure) outcome {
	out := outcome{target: t}
	var total time.Duration
	for _, r := range chain {
		total += r.Timing.Total
	}
	out.total = total
	out.notes = o.chainNotes(chain)
	if fail != nil {
		if fail.Partial { // the body that did not complete: its time is in fail.Elapsed
			total -= chain[len(chain)-1].Timing.Total
		}
		total += fail.Elapsed
		out.total = total
		out.state = plugin.CRITICAL
		if fail.Unknown {
			out.state = plugin.UNKNOWN
		}
		out.text = t.url.Redacted() + " - " + fail.Text
		out.perf = o.perfFor(t, nil, total)
		return out
	}
	final := chain[len(chain)-1]
	out.answered = true
	var v verdict
	o.judgeStatus(&v, final)
	o.judgeTime(&v, total)
	o.judgeHeaders(&v, final)
	o.judgePeer(&v, final)
	jqFailed, jqDoc := o.judgeBody(&v, final)
	if o.Certificate.Set {
		if cs := firstTLS(chain); cs != nil {
			verdict := o.judgeCert(cs.PeerCertificates[0])
			if verdict.State != plugin.OK {
				v.add(verdict.State, verdict.Text)
			}
			out.perf = append(out.perf, o.certPerf(t, cs.PeerCertificates[0]))
		}
	}
	out.state = v.state
	parts := []string{t.url.Redacted(), final.StatusLine}
	if len(chain) > 1 {
		parts[1] += fmt.Sprintf(" (after %s to %s)", human.Plural(len(chain)-1, "redirect", "redirects"), final.URL.Redacted())
	}

	line := strings.Join(parts, " ")
	for _, p := range v.problems {
		line += " - " + p
	}
	if v.state != plugin.OK {
		why, jqErr := o.serverReason(final, jqFailed, jqDoc)
		switch {
		case jqStopped(jqErr): // a finding: the state stays the answer's
			line += " - " + jqErr.Error()
		case jqErr != nil && o.verbose > 0:
			out.notes = append(out.notes, jqErr.Error()+" (no reason shown)")
		}
		if why != "" {
			line += " - server says '" + why + "'"
		}
	}
	size := fmt.Sprintf("%d bytes", len(final.Body))
	if final.Truncated {
		size = "over " + o.MaxBody.String() + " (read no further)"
	}
	out.text = line + " - " + size + " in " + seconds(total)
	out.perf = append(o.perfFor(t, final, total), out.perf...)
	return out
}

func (o judgement) judgeStatus(v *verdict, r *httpprobe.Response) {
	code := r.Status
	redirect := code >= 300 && code < 400
	switch {
	case o.WarnStatus.Contains(code) && !o.Expect.Contains(code):
		v.add(plugin.WARNING, "status "+itoa(code)+" is in --warn-status "+o.WarnStatus.String())
	case o.Expect.IsSet():
		if !o.Expect.Contains(code) {
			v.add(plugin.CRITICAL, "expected "+o.Expect.String())
		}
	case code < 100 || code > 599:
		v.add(plugin.CRITICAL, "invalid status code")
	case code == http.StatusSwitchingProtocols && !o.asksUpgrade():
		v.add(plugin.CRITICAL, "switching protocols, but no upgrade was asked for")
	case code < 200 && code != http.StatusSwitchingProtocols:
		v.add(plugin.CRITICAL, "an informational answer, not a final one")
	case redirect && isRedirectCode(code) && r.Header.Get("Location") == "":
		v.add(plugin.CRITICAL, "redirect without a Location")
	case code >= 400:
		v.add(plugin.CRITICAL, statusClass(code))
	case redirect:
		switch o.OnRedirect {
		case "warning":
			v.add(plugin.WARNING, "redirect to "+r.Header.Get("Location"))
		case "critical":
			v.add(plugin.CRITICAL, "redirect to "+r.Header.Get("Location"))
		}
	}
}

// isRedirectCode reports the statuses that must carry a Location (300
// and 304 need not).
func isRedirectCode(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// asksUpgrade reports whether -k asked the server to switch protocols.
func (o judgement) asksUpgrade() bool {
	for _, h := range o.Headers {
		if name, _, _ := strings.Cut(h, ":"); strings.EqualFold(strings.TrimSpace(name), "Upgrade") {
			return true
		}
	}
	return false
}

func statusClass(code int) string {
	if code >= 500 {
		return "server error"
	}
	return "client error"
}

func (o judgement) judgeTime(v *verdict, total time.Duration) {
	secs := total.Seconds()
	switch {
	case o.Critical.Alerts(secs):
		v.add(plugin.CRITICAL, "took "+seconds(total)+" (critical "+o.Critical.String()+")")
	case o.Warning.Alerts(secs):
		v.add(plugin.WARNING, "took "+seconds(total)+" (warning "+o.Warning.String()+")")
	}
}

func (o judgement) judgeHeaders(v *verdict, r *httpprobe.Response) {
	for _, rule := range o.expectH {
		values, ok := r.Header[rule.name]
		if !ok {
			v.add(plugin.CRITICAL, "header "+rule.name+" missing")
			continue
		}
		if rule.re == nil {
			continue
		}
		matched := false
		for _, val := range values {
			matched = matched || rule.re.MatchString(val)
		}
		if !matched {
			v.add(plugin.CRITICAL, fmt.Sprintf("header %s: '%s' does not match '%s'", rule.name, human.Truncate(strings.Join(values, ", "), 60), rule.re.String()))
		}
	}
}

// judgeBody judges -s, -r/-R and --jq; it reports whether --jq failed on
// a JSON body, whose reason the first line then shows.
// judgeBody judges the body; jqFailed says --jq failed, on the JSON value
// numbered jqDoc (from 0) of the body.
func (o judgement) judgeBody(v *verdict, r *httpprobe.Response) (jqFailed bool, jqDoc int) {
	where := ""
	if r.Truncated {
		where = " in the first " + o.MaxBody.String()
	}
	if o.String != "" && !bytes.Contains(r.Body, []byte(o.String)) {
		v.add(plugin.CRITICAL, fmt.Sprintf("string '%s' not found%s", human.Truncate(o.String, 30), where))
	}
	if o.regex != nil {
		found := o.regex.re.Match(r.Body)
		switch {
		case !found && !o.Invert:
			v.add(o.regexState(), fmt.Sprintf("pattern '%s' not found%s", human.Truncate(o.regex.text, 30), where))
		case found && o.Invert:
			v.add(o.regexState(), fmt.Sprintf("pattern '%s' found (--invert-regex)", human.Truncate(o.regex.text, 30)))
		}
	}
	if o.jq != nil {
		if r.Truncated {
			v.add(plugin.CRITICAL, "--jq: body larger than --max-body "+o.MaxBody.String()+", not evaluated")
			return false, 0
		}
		if state, why, doc := o.evalJQ(r.Body); state != plugin.OK {
			v.add(state, why)
			return state == plugin.CRITICAL, doc
		}
	}
	return false, 0
}

// evalJQ runs --jq on the body; every value it yields must be true. A
// body of several JSON values (JSON lines, say) is judged value by
// value, as jq reads its input, and every result of each must be true
// (jq -e looks at the last result only, which would let a false one
// pass). An expression that does not finish in its budget is UNKNOWN,
// not a verdict on the answer.
func (o judgement) evalJQ(body []byte) (state plugin.State, why string, doc int) {
	docs, err := jsonValues(body)
	if err != nil {
		return plugin.CRITICAL, fmt.Sprintf("--jq: body is not JSON (%s)", human.Truncate(err.Error(), 60)), 0
	}
	expr := human.Truncate(string(o.JQ), 40)
	for i, doc := range docs {
		where := ""
		if len(docs) > 1 {
			where = fmt.Sprintf(" for JSON value %d of %d", i+1, len(docs))
		}
		vals, err := runJQ(o.jqContext(), o.jq, doc, func(v any) bool { b, ok := v.(bool); return !ok || !b })
		if err != nil {
			return plugin.UNKNOWN, fmt.Sprintf("--jq '%s' %s", expr, err), i
		}
		for _, val := range vals {
			if err, isErr := val.(error); isErr {
				return plugin.CRITICAL, fmt.Sprintf("--jq '%s'%s: %s", expr, where, human.Truncate(err.Error(), 80)), i
			}
			if b, isBool := val.(bool); !isBool || !b {
				got, _ := json.Marshal(val)
				return plugin.CRITICAL, fmt.Sprintf("--jq '%s' gave %s%s, not true", expr, human.Truncate(string(got), 60), where), i
			}
		}
		if len(vals) == 0 {
			return plugin.CRITICAL, fmt.Sprintf("--jq '%s' gave no value%s", expr, where), i
		}
	}
	return plugin.OK, "", 0
}

// jqMaxInputs bounds the JSON values of a body judged by --jq.
const jqMaxInputs = 1000

// jsonValues decodes a body of one JSON value or several separated by
// white space, as jq reads its input. Anything else after a value is an
// error, never ignored: `{"a":1} <html>` is not JSON.
func jsonValues(body []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var docs []any
	for {
		var doc any
		err := dec.Decode(&doc)
		switch {
		case err == io.EOF && len(docs) > 0:
			return docs, nil
		case err == io.EOF:
			return nil, errors.New("empty")
		case err != nil && len(docs) > 0:
			return nil, fmt.Errorf("after %d JSON value(s): %w", len(docs), err)
		case err != nil:
			return nil, err
		case len(docs) == jqMaxInputs:
			return nil, fmt.Errorf("more than %d JSON values", jqMaxInputs)
		}
		docs = append(docs, doc)
	}
}

// jqContext bounds jq expressions: by the run's jq deadline, none when
// the observations set none.
func (o judgement) jqContext() context.Context {
	if o.jqCtx == nil {
		return context.Background()
	}
	return o.jqCtx
}

func (o judgement) judgeCert(leaf *x509.Certificate) certs.Verdict {
	v := certs.JudgeDates(leaf, o.now, certs.Policy{WarnDays: o.Certificate.Warn, CritDays: o.Certificate.Crit})
	v.Text = "certificate '" + certLabel(leaf.Subject.CommonName, leaf.DNSNames) + "' " + v.Text
	return v
}

func certLabel(cn string, names []string) string {
	if cn != "" {
		return cn
	}
	if len(names) > 0 {
		return names[0]
	}
	return "(no name)"
}

// certPerf is the days left of a URL's certificate; with several URLs the
// label names the URL, as the other items', not the same "cert_days" for all.
func (o judgement) certPerf(t target, leaf *x509.Certificate) plugin.Perf {
	days := o.Certificate
	left := certs.DaysLeft(leaf, o.now)
	// left is the same number as the text and the state (certs.Days).
	p := plugin.NewPerf(o.label(t, "cert_days"), left, "").
		WithThresholds(threshold.MustParseRange(threshold.FormatNumber(days.Warn)+":"), threshold.MustParseRange(threshold.FormatNumber(days.Crit)+":"))
	p.Metric = "cert_expires_in_days" // seconds as a metric, days in the perfdata
	return p
}

func firstTLS(chain []*httpprobe.Response) *tls.ConnectionState {
	for _, r := range chain {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			return r.TLS
		}
	}
	return nil
}

// judgeCertOnly is -C without --continue-after-certificate: the
// handshake's certificate, no request.
func (o judgement) judgeCertOnly(t target, f fetched) outcome {
	out := outcome{target: t}
	if t.url.Scheme != "https" {
		out.state, out.text = plugin.UNKNOWN, t.url.Redacted()+" - -C needs an https URL"
		return out
	}
	if f.Fail != nil {
		out.state, out.text = plugin.CRITICAL, t.url.Redacted()+" - "+f.Fail.Text
		return out
	}
	out.total = f.Took
	leaf := f.Cert.Chain[0]
	v := o.judgeCert(leaf)
	out.state, out.text, out.answered = v.State, t.url.Redacted()+" - "+v.Text, true
	out.perf = []plugin.Perf{o.certPerf(t, leaf), o.timePerf(t, "time", f.Took)}
	if o.verbose > 0 {
		out.notes = append(out.notes, tlsNote(t, f.Cert.Version, f.Cert.Cipher, leaf)+"; from "+f.Cert.Addr)
	}
	return out
}

func (o judgement) chainNotes(chain []*httpprobe.Response) []string {
	if o.verbose == 0 {
		return nil
	}
	var notes []string
	for i, r := range chain {
		n := fmt.Sprintf("%s %s from %s; dns %s connect %s tls %s first byte %s total %s",
			r.URL.Redacted(), r.Head(), r.RemoteAddr,
			seconds(r.Timing.DNS), seconds(r.Timing.Connect), seconds(r.Timing.TLS), seconds(r.Timing.FirstByte), seconds(r.Timing.Total))
		if i < len(chain)-1 {
			n += " -> " + r.Header.Get("Location")
		}
		notes = append(notes, n)
		if cs := r.TLS; cs != nil {
			var leaf *x509.Certificate
			if len(cs.PeerCertificates) > 0 {
				leaf = cs.PeerCertificates[0]
			}
			notes = append(notes, tlsNote(target{url: r.URL}, tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), leaf))
		}
		if o.verbose > 1 {
			keys := make([]string, 0, len(r.Header))
			for k := range r.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				notes = append(notes, "  "+k+": "+human.Truncate(strings.Join(r.Header[k], ", "), 200))
			}
		}
		if o.verbose > 2 && len(r.Body) > 0 {
			notes = append(notes, "  body: "+human.Truncate(string(r.Body), 500))
		}
	}
	return notes
}

// tlsNote is the -v line of a handshake: version, cipher and leaf
// (nil: none presented).
func tlsNote(t target, version, cipher string, leaf *x509.Certificate) string {
	s := fmt.Sprintf("%s %s %s", t.url.Host, version, cipher)
	if c := leaf; c != nil {
		s += fmt.Sprintf("; certificate '%s' issued by '%s', valid until %s", certLabel(c.Subject.CommonName, c.DNSNames), c.Issuer.CommonName, certs.Date(c.NotAfter))
	}
	return s
}

// perURLPerfMax is how many URLs get perfdata of their own; beyond it
// only the aggregates are written, so the findings still fit the output.
const perURLPerfMax = 10

// perfFor is the perfdata of one URL: every phase for a single URL, the
// total and status for each of a few (the output must stay bounded).
func (o judgement) perfFor(t target, r *httpprobe.Response, total time.Duration) []plugin.Perf {
	var out []plugin.Perf
	if len(o.targets) > perURLPerfMax {
		return nil
	}
	out = append(out, o.timePerf(t, "time", total).WithThresholds(o.Warning, o.Critical))
	if r == nil {
		return out
	}
	if len(o.targets) == 1 {
		out = append(out,
			o.timePerf(t, "time_dns", r.Timing.DNS),
			o.timePerf(t, "time_connect", r.Timing.Connect),
			o.timePerf(t, "time_tls", r.Timing.TLS),
			o.timePerf(t, "time_firstbyte", r.Timing.FirstByte),
			o.sizePerf(r))
	}
	if len(o.targets) <= perURLPerfMax {
		status := plugin.NewPerf(o.label(t, "http_status"), float64(r.Status), "")
		status.Metric = "status_code"
		out = append(out, status)
	}
	return out
}

// timePerf is a duration of a URL; with several URLs the label names the
// URL, and the metric (one family per phase for all URLs) the phase.
func (o judgement) timePerf(t target, name string, d time.Duration) plugin.Perf {
	p := plugin.NewPerf(o.label(t, name), math.Round(d.Seconds()*1e6)/1e6, "s").WithBounds(0, math.NaN())
	p.Metric = name
	return p
}

func (o judgement) label(t target, name string) string {
	if len(o.targets) == 1 {
		return name
	}
	return t.name + " " + name
}

// assemble makes the result: one finding per URL, worst first; the
// first line names the failing URLs.
func (o judgement) assemble(outs []outcome) plugin.Result {
	var res plugin.Result
	for _, oc := range outs {
		res.Add(oc.state, oc.text)
		if len(outs) <= perURLPerfMax {
			res.AddPerf(oc.perf...)
		}
		for _, n := range oc.notes {
			res.Note(n)
		}
	}
	if len(outs) == 1 {
		res.Summary = outs[0].text
		return res
	}
	bad := res.Problems()
	var slowest time.Duration
	for _, oc := range outs {
		slowest = max(slowest, oc.total)
	}
	res.AddPerf(
		plugin.NewPerf("urls_not_ok", float64(len(bad)), "").WithBounds(0, float64(len(outs))),
		plugin.NewPerf("time_max", math.Round(slowest.Seconds()*1e6)/1e6, "s").WithThresholds(o.Warning, o.Critical).WithBounds(0, math.NaN()))
	if len(bad) == 0 {
		slowest := outs[0]
		for _, oc := range outs[1:] {
			if oc.total > slowest.total {
				slowest = oc
			}
		}
		res.Summary = fmt.Sprintf("all %d URLs OK, slowest %s in %s", len(outs), slowest.target.url.Redacted(), seconds(slowest.total))
		return res
	}
	res.Summary = fmt.Sprintf("%d of %d URLs not OK: %s", len(bad), len(outs), human.JoinSummary(bad, 200))
	return res
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func itoa(n int) string { return fmt.Sprint(n) }
