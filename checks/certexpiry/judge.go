package certexpiry

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/human"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// verdict is one thing said about a certificate. A forecast (days left
// of a certificate still valid, a CRL's next update still ahead) says
// only when something will break; every other verdict says what is wrong
// now or what to do (renewed but not reloaded, a chain, a hostname, a
// revocation). Within one state that is a problem the forecast comes
// last: that is this check's priority order, after the state.
type verdict struct {
	certs.Verdict
	forecast bool
}

// verdicts collects what is said about one certificate; the line leads
// with the worst.
type verdicts []verdict

func (v *verdicts) add(s plugin.State, text string) {
	*v = append(*v, verdict{Verdict: certs.Verdict{State: s, Text: text}})
}

// addForecast adds a verdict on days left that ranks after the others of
// its state.
func (v *verdicts) addForecast(s plugin.State, text string) {
	*v = append(*v, verdict{Verdict: certs.Verdict{State: s, Text: text}, forecast: true})
}

func (v verdicts) state() plugin.State {
	w := plugin.OK
	for _, x := range v {
		if plugin.Worse(x.State, w) {
			w = x.State
		}
	}
	return w
}

// before orders verdicts: the worse state first, then a problem before a
// forecast of the same state. All is well among OK verdicts, and the days
// left lead there, in the check's order.
func (x verdict) before(y verdict) bool {
	if x.State != y.State {
		return plugin.Worse(x.State, y.State)
	}
	return x.State != plugin.OK && !x.forecast && y.forecast
}

// sorted returns the verdicts most severe first, in the check's order
// among equals.
func (v verdicts) sorted() verdicts {
	s := append(verdicts(nil), v...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].before(s[j]) })
	return s
}

func (v verdicts) text() string {
	s := v.sorted()
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.Text
	}
	return strings.Join(parts, "; ")
}

// policy is what the options say about judging, resolved once.
type policy struct {
	dates                                         certs.Policy
	warn, crit                                    threshold.Range
	chainState, hostState, weakState, signerState plugin.State
	policyState                                   plugin.State
}

func policyOf(o *Options) policy {
	return policy{
		dates:       certs.Policy{WarnDays: float64(o.Warning), CritDays: float64(o.Critical), RenewalAt: given(o.RenewalAt)},
		warn:        threshold.MustParseRange(fmtDays(float64(o.Warning)) + ":"),
		crit:        threshold.MustParseRange(fmtDays(float64(o.Critical)) + ":"),
		chainState:  stateOr(o.ChainState, plugin.CRITICAL),
		hostState:   stateOr(o.HostnameState, plugin.CRITICAL),
		weakState:   stateOr(o.WeakState, plugin.CRITICAL),
		signerState: stateOr(o.SignerState, plugin.CRITICAL),
		policyState: stateOr(o.PolicyState, plugin.CRITICAL),
	}
}

// given is a number option's value, 0 when not given (Validate refuses
// an explicit 0 where 0 would mean "off").
func given(n *threshold.Number) float64 {
	if n == nil {
		return 0
	}
	return float64(*n)
}

func stateOr(f plugin.StateFlag, def plugin.State) plugin.State {
	if f.Set {
		return f.State
	}
	return def
}

// judge turns the observations into findings, perfdata and a summary. It
// is pure: the time is obs.Now.
func judge(o *Options, obs observations) plugin.Result {
	var r plugin.Result
	// lead is each certificate finding's most severe verdict, by index
	// into r.Findings, for the summary.
	lead := map[int]verdict{}
	p := policyOf(o)
	total := 0
	var soonest *certFacts
	soonestName := ""
	for _, s := range obs.Sources {
		for _, n := range s.Notes {
			r.Note(n)
		}
		if s.Err != nil {
			r.Add(s.ErrState, s.Name+": "+s.Err.Error())
			continue
		}
		for i := range s.Certs {
			cert := &s.Certs[i]
			total++
			v := judgeCert(o, p, s, i, cert, obs)
			pos := ""
			if len(s.Certs) > 1 {
				pos = fmt.Sprintf("#%d", i)
			}
			state := v.state()
			lead[len(r.Findings)] = v.sorted()[0]
			r.Add(state, s.Name+pos+" ("+cert.Name+"): "+v.text())
			label, _, _ := strings.Cut(s.Name, " -> ")
			// The state marks items judged non-OK on more than their days
			// left (a chain, a signer), so the runtime keeps them first.
			perf := plugin.NewPerf(fmt.Sprintf("%s#%d", label, i), daysLeft(cert, obs.Now), "").WithThresholds(p.warn, p.crit).WithState(state)
			// One metric family for all sources, in seconds; the perfdata
			// stays in days, as graphs made of it know it.
			perf.Metric = "expires_in_days"
			r.AddPerf(perf)
			if soonest == nil || cert.NotAfter.Before(soonest.NotAfter) {
				soonest, soonestName = cert, s.Name+pos+" ("+cert.Name+")"
			}
		}
	}
	if obs.CompareErr != nil {
		r.Add(plugin.UNKNOWN, obs.CompareErr.Error())
	}
	if obs.Read < obs.Found {
		r.Add(plugin.UNKNOWN, fmt.Sprintf("stopped after %d of %d certificate files at the deadline (%s): the rest are not judged; raise -t or split the files over several checks", obs.Read, obs.Found, obs.Within))
	}
	judgeMembers(o, &r, obs.Sources)
	if o.MinCerts != nil && total < *o.MinCerts {
		r.Add(plugin.WARNING, fmt.Sprintf("only %d certificate(s) found, expected at least %d (--min-certs): a file deleted or moved out of the watched paths?", total, *o.MinCerts))
	}
	if total == 0 && len(r.Findings) == 0 {
		// Nothing was judged: an OK here would be the silent OK that let
		// a moved certificate drop out of monitoring.
		r.Add(plugin.UNKNOWN, "no certificate found in the given files, directories and kubeconfigs")
	}
	leadFirst(&r, lead)
	r.Summary = summary(r, total, soonest, soonestName, obs.Now)
	notes(&r, obs)
	return r
}

// daysLeft is the one number of days the text, the perfdata and the state
// are made from (certs.Days: cut to hundredths, never rounded up).
func daysLeft(c *certFacts, now time.Time) float64 { return certs.Days(c.NotAfter, now) }

// notes is the long output -v asks for: at -v the files a walk or glob
// passed over and why, at -vv each source's chain, at -vvv every
// certificate in full.
func notes(r *plugin.Result, obs observations) {
	if obs.Verbose > 0 {
		for _, c := range obs.Collapsed {
			r.Note(c)
		}
	}
	for _, s := range obs.Skipped {
		r.Note("skipped " + s)
	}
	if obs.Verbose < 2 {
		return
	}
	for _, s := range obs.Sources {
		if len(s.Certs) == 0 {
			continue
		}
		parts := make([]string, len(s.Certs))
		for i, c := range s.Certs {
			parts[i] = fmt.Sprintf("#%d %s (issued by %s)", i, c.Name, c.Issuer)
		}
		r.Note("chain of " + s.Name + ": " + strings.Join(parts, " > "))
		for i, c := range s.Certs {
			if c.Details != "" {
				r.Note(fmt.Sprintf("  #%d %s", i, c.Details))
			}
		}
	}
}

// judgeCert judges one certificate of a source; i is its position.
func judgeCert(o *Options, p policy, s *source, i int, cert *certFacts, obs observations) verdicts {
	var v verdicts
	if cert.CRL {
		judgeCRL(&v, p, cert, obs.Now)
		return v
	}
	d := certs.JudgeValidity(cert.NotBefore, cert.NotAfter, obs.Now, p.dates)
	if obs.Now.Before(cert.NotBefore) || !obs.Now.Before(cert.NotAfter) {
		v.add(d.State, d.Text) // not valid now: broken, not a forecast
	} else {
		v.addForecast(d.State, d.Text)
	}
	for _, w := range cert.Weak {
		v.add(p.weakState, w)
	}
	if cert.Chain != "" {
		v.add(p.chainState, cert.Chain)
	}
	if cert.Hostname != "" {
		v.add(p.hostState, cert.Hostname)
	}
	if s.Kind == kindEndpoint && i == 0 {
		compare(o, &v, cert, obs)
		if !o.Insecure && !certs.Allows(cert.EKU, x509.ExtKeyUsageServerAuth) {
			// curl: "unsuitable certificate purpose"; check_ssl_cert: CRITICAL.
			v.add(p.chainState, "served, but its extended key usage ("+certs.PurposesOf(cert.EKU)+") does not allow server authentication: TLS clients refuse it")
		}
	}
	if leaf := (s.Kind == kindEndpoint && i == 0) || (s.Kind != kindEndpoint && s.Kind != kindKubeCA && !cert.IsCA); leaf {
		judgePolicy(o, p, &v, cert)
	}
	if cert.Signer != "" {
		v.add(p.signerState, "not signed by the CA "+s.SignerName+": "+cert.Signer)
	}
	judgeNet(o, &v, cert.Net)
	if s.ReplacedCA != "" {
		v.add(p.signerState, fmt.Sprintf("a replaced CA, not the current %s: clients trusting only this one reject the API server", s.ReplacedCA))
	}
	return v
}

// judgeCRL judges a CRL on its freshness, as x509-certificate-exporter
// does: past its next update every client that checks it rejects the
// issuer's certificates, so the same -w/-c days apply.
func judgeCRL(v *verdicts, p policy, crl *certFacts, now time.Time) {
	if crl.NotAfter.IsZero() {
		v.add(plugin.OK, "no next update given (issued "+certs.Date(crl.NotBefore)+")")
		return
	}
	left := daysLeft(crl, now)
	when := " (" + certs.Date(crl.NotAfter) + ")"
	switch {
	case !now.Before(crl.NotAfter):
		v.add(plugin.CRITICAL, "stale: its next update was due "+certs.Ago(-left)+" ago"+when+": clients that check it reject the issuer's certificates")
	case left < p.dates.CritDays:
		v.addForecast(plugin.CRITICAL, "next update due in "+certs.Ago(left)+when)
	case left < p.dates.WarnDays:
		v.addForecast(plugin.WARNING, "next update due in "+certs.Ago(left)+when)
	default:
		v.addForecast(plugin.OK, "next update due in "+certs.Ago(left)+when)
	}
}

// judgePolicy applies --require-purpose, --maximum-validity, --issuer,
// --fingerprint and --serial to a leaf.
func judgePolicy(o *Options, p policy, v *verdicts, cert *certFacts) {
	for _, name := range o.RequirePurpose {
		if u, _ := certs.Purpose(name); !certs.Allows(cert.EKU, u) {
			v.add(p.policyState, fmt.Sprintf("its extended key usage (%s) does not allow %s (--require-purpose)", certs.PurposesOf(cert.EKU), certs.PurposeName(u)))
		}
	}
	if o.MaximumValidity != nil {
		if life := cert.NotAfter.Sub(cert.NotBefore).Hours() / 24; life > float64(*o.MaximumValidity) {
			v.add(p.policyState, fmt.Sprintf("valid for %.0f days in all, more than %s (--maximum-validity)", math.Floor(life), fmtDays(float64(*o.MaximumValidity))))
		}
	}
	if o.issuerRE != nil && !o.issuerRE.MatchString(cert.Issuer) && !o.issuerRE.MatchString(cert.IssuerDN) {
		v.add(p.policyState, fmt.Sprintf("issuer %q does not match --issuer %s", cert.IssuerDN, o.Issuer))
	}
	if len(o.fingerprints) > 0 && !slices.Contains(o.fingerprints, hex.EncodeToString(cert.SHA256[:])) {
		v.add(p.policyState, fmt.Sprintf("SHA-256 fingerprint %X is not one given with --fingerprint", cert.SHA256))
	}
	if len(o.serials) > 0 && !slices.Contains(o.serials, cert.Serial) {
		v.add(p.policyState, fmt.Sprintf("serial %s is not one given with --serial", cert.Serial))
	}
}

// compare judges the served leaf against --compare-file.
func compare(o *Options, v *verdicts, served *certFacts, obs observations) {
	disk := obs.Compare
	if disk == nil {
		return
	}
	switch {
	case served.SHA256 == disk.SHA256:
		v.add(plugin.OK, "same as "+o.CompareFile)
	case disk.NotBefore.After(served.NotBefore):
		st := plugin.WARNING
		if daysLeft(served, obs.Now) < float64(o.Critical) {
			st = plugin.CRITICAL
		}
		v.add(st, fmt.Sprintf("renewed but not reloaded: %s holds a certificate issued %s and valid until %s, the server still serves the one valid until %s",
			o.CompareFile, certs.Date(disk.NotBefore), certs.Date(disk.NotAfter), certs.Date(served.NotAfter)))
	default:
		v.add(plugin.WARNING, fmt.Sprintf("not the certificate in %s (issued %s, valid until %s): the server is configured with another file?",
			o.CompareFile, certs.Date(disk.NotBefore), certs.Date(disk.NotAfter)))
	}
}

// judgeMembers compares the addresses behind one name (--all-addresses):
// a member serving a different certificate is a renewal applied to only
// part of a pool.
func judgeMembers(o *Options, r *plugin.Result, sources []*source) {
	if !o.AllAddresses {
		return
	}
	type group struct {
		addrs []string
		cert  *certFacts
	}
	byName := map[string][]*group{}
	var names []string
	for _, s := range sources {
		base, addr, ok := strings.Cut(s.Name, " via ")
		if !ok || s.Kind != kindEndpoint || s.Err != nil || len(s.Certs) == 0 {
			continue
		}
		if _, seen := byName[base]; !seen {
			names = append(names, base)
			byName[base] = nil
		}
		var g *group
		for _, x := range byName[base] {
			if x.cert.SHA256 == s.Certs[0].SHA256 {
				g = x
			}
		}
		if g == nil {
			g = &group{cert: &s.Certs[0]}
			byName[base] = append(byName[base], g)
		}
		g.addrs = append(g.addrs, addr)
	}
	for _, n := range names {
		gs := byName[n]
		if len(gs) < 2 {
			continue
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i].cert.NotAfter.Before(gs[j].cert.NotAfter) })
		var parts []string
		for _, g := range gs {
			parts = append(parts, fmt.Sprintf("%s serve(s) one valid until %s", strings.Join(g.addrs, ", "), certs.Date(g.cert.NotAfter)))
		}
		r.Add(plugin.WARNING, fmt.Sprintf("%s: its addresses serve %d different certificates: %s", n, len(gs), strings.Join(parts, "; ")))
	}
}

// summary is the pager line: counts and the worst problems, or when all
// is well the certificate that expires first. The findings come in
// leadFirst's order: the most severe verdict of all certificates leads.
func summary(r plugin.Result, total int, soonest *certFacts, soonestName string, now time.Time) string {
	var crit, warn, unk int
	for _, f := range r.Findings {
		switch f.State {
		case plugin.CRITICAL:
			crit++
		case plugin.WARNING:
			warn++
		case plugin.UNKNOWN:
			unk++
		}
	}
	if crit+warn+unk == 0 {
		if soonest == nil {
			return human.JoinSummary(r.Problems(), 200)
		}
		if total == 1 {
			return r.Findings[0].Text
		}
		return fmt.Sprintf("%d certificates OK, first to expire: %s in %s (%s)", total, soonestName, certs.Ago(daysLeft(soonest, now)), certs.Date(soonest.NotAfter))
	}
	problems := r.Problems()
	if len(problems) == 1 {
		// Nagios 4 turns ";" in the first line into ":".
		return strings.ReplaceAll(problems[0], "; ", " / ")
	}
	// With several problems each gets its most severe verdict only, so
	// that more of them fit on the pager line.
	for i, p := range problems {
		problems[i], _, _ = strings.Cut(p, "; ")
	}
	var counts []string
	for _, x := range []struct {
		n    int
		name string
	}{{crit, "critical"}, {warn, "warning"}, {unk, "unknown"}} {
		if x.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	head := strings.Join(counts, ", ") + fmt.Sprintf(" of %d checked: ", len(r.Findings))
	return head + human.JoinSummary(problems, 230-len(head))
}

// leadFirst orders the findings by their most severe verdict: the worse
// state first, then a finding led by a problem before one led by a
// forecast, then the check's order. A finding that is not a
// certificate's (an unreadable source) counts as a problem. The runtime
// orders findings by state only, keeping this order among equals, so the
// first line and the long output both lead with the most severe verdict
// of all certificates.
func leadFirst(r *plugin.Result, lead map[int]verdict) {
	rank := make([]verdict, len(r.Findings))
	for i, f := range r.Findings {
		rank[i] = verdict{Verdict: certs.Verdict{State: f.State}}
		if v, ok := lead[i]; ok {
			rank[i] = v
		}
	}
	idx := make([]int, len(r.Findings))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rank[idx[a]].before(rank[idx[b]]) })
	out := make([]plugin.Finding, len(idx))
	for k, i := range idx {
		out[k] = r.Findings[i]
	}
	r.Findings = out
}
