package certexpiry

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/certs"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/threshold"
)

// verdicts collects what is said about one certificate; the line leads
// with the worst.
type verdicts []certs.Verdict

func (v *verdicts) add(s plugin.State, text string) {
	*v = append(*v, certs.Verdict{State: s, Text: text})
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

func (v verdicts) text() string {
	s := append(verdicts(nil), v...)
	sort.SliceStable(s, func(i, j int) bool { return plugin.Worse(s[i].State, s[j].State) })
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.Text
	}
	return strings.Join(parts, "; ")
}

// judge turns the gathered sources into findings, perfdata and a summary.
func (c *Check) judge(sources []*source, cfg *config, now time.Time) plugin.Result {
	var r plugin.Result
	warn := threshold.MustParseRange(fmtDays(c.Warning) + ":")
	crit := threshold.MustParseRange(fmtDays(c.Critical) + ":")
	total := 0
	var soonest *x509.Certificate
	soonestName := ""
	for _, s := range sources {
		if s.err != nil {
			r.Add(s.errState, s.name+": "+s.err.Error())
			continue
		}
		caOK := len(s.expectCA) == 0 || containsAny(s.certs, s.expectCA)
		for i, cert := range s.certs {
			total++
			v := c.judgeCert(s, i, cert, cfg, now)
			if !caOK && s.kind == kindKubeCA {
				v.add(cfg.signerState, fmt.Sprintf("a replaced CA, not the current %s: clients trusting only this one reject the API server", s.caName))
			}
			pos := ""
			if len(s.certs) > 1 {
				pos = fmt.Sprintf("#%d", i)
			}
			r.Add(v.state(), fmt.Sprintf("%s%s (%s): %s", s.name, pos, certs.Name(cert), v.text()))
			label, _, _ := strings.Cut(s.name, " -> ")
			r.AddPerf(plugin.NewPerf(fmt.Sprintf("%s#%d", label, i), math.Round(certs.DaysLeft(cert, now)*100)/100, "").WithThresholds(warn, crit))
			if soonest == nil || cert.NotAfter.Before(soonest.NotAfter) {
				soonest, soonestName = cert, s.name+pos+" ("+certs.Name(cert)+")"
			}
		}
	}
	if cfg.compareErr != nil {
		r.Add(plugin.UNKNOWN, cfg.compareErr.Error())
	}
	c.judgeMembers(&r, sources)
	if c.MinCerts > 0 && total < c.MinCerts {
		r.Add(plugin.WARNING, fmt.Sprintf("only %d certificate(s) found, expected at least %d (--min-certs): a file deleted or moved out of the watched paths?", total, c.MinCerts))
	}
	if total == 0 && len(r.Findings) == 0 {
		// Nothing was judged: an OK here would be the silent OK that let
		// a moved certificate drop out of monitoring.
		r.Add(plugin.UNKNOWN, "no certificate found in the given files, directories and kubeconfigs")
	}
	r.Summary = summary(r, total, soonest, soonestName, now)
	return r
}

// judgeCert judges one certificate of a source; i is its position.
func (c *Check) judgeCert(s *source, i int, cert *x509.Certificate, cfg *config, now time.Time) verdicts {
	var v verdicts
	d := certs.JudgeDates(cert, now, cfg.policy)
	v.add(d.State, d.Text)
	for _, w := range certs.Weaknesses(cert) {
		v.add(cfg.weakState, w)
	}
	leaf := i == 0
	switch {
	case s.kind == kindEndpoint && leaf:
		if !c.Insecure {
			if err := certs.VerifyChain(s.certs, cfg.roots, now); err != nil {
				v.add(cfg.chainState, err.Error())
			}
			if !c.IgnoreHostname {
				if err := certs.VerifyHostname(cert, s.host); err != nil {
					v.add(cfg.hostState, err.Error())
				}
			}
		}
		c.compare(&v, cert, cfg, now)
	case s.kind != kindEndpoint && s.kind != kindKubeCA && leaf && cfg.rootsGiven && !cert.IsCA:
		if err := certs.VerifyChain(s.certs, cfg.roots, now); err != nil {
			v.add(cfg.chainState, err.Error())
		}
	}
	if len(s.signers) > 0 && !cert.IsCA && s.kind != kindKubeCA {
		if why := certs.SignedBy(cert, s.signers, s.certs); why != "" {
			v.add(cfg.signerState, "not signed by the CA "+s.signerName+": "+why)
		}
	}
	return v
}

// compare judges the served leaf against --compare-file.
func (c *Check) compare(v *verdicts, served *x509.Certificate, cfg *config, now time.Time) {
	disk := cfg.compare
	if disk == nil {
		return
	}
	switch {
	case bytes.Equal(served.Raw, disk.Raw):
		v.add(plugin.OK, "same as "+c.CompareFile)
	case disk.NotBefore.After(served.NotBefore):
		st := plugin.WARNING
		if certs.DaysLeft(served, now) <= c.Critical {
			st = plugin.CRITICAL
		}
		v.add(st, fmt.Sprintf("renewed but not reloaded: %s holds a certificate issued %s and valid until %s, the server still serves the one valid until %s",
			c.CompareFile, certs.Date(disk.NotBefore), certs.Date(disk.NotAfter), certs.Date(served.NotAfter)))
	default:
		v.add(plugin.WARNING, fmt.Sprintf("not the certificate in %s (issued %s, valid until %s): the server is configured with another file?",
			c.CompareFile, certs.Date(disk.NotBefore), certs.Date(disk.NotAfter)))
	}
}

// judgeMembers compares the addresses behind one name (--all-addresses):
// a member serving a different certificate is a renewal applied to only
// part of a pool.
func (c *Check) judgeMembers(r *plugin.Result, sources []*source) {
	if !c.AllAddresses {
		return
	}
	type group struct {
		addrs []string
		cert  *x509.Certificate
	}
	byName := map[string][]*group{}
	var names []string
	for _, s := range sources {
		base, addr, ok := strings.Cut(s.name, " via ")
		if !ok || s.kind != kindEndpoint || s.err != nil || len(s.certs) == 0 {
			continue
		}
		if _, seen := byName[base]; !seen {
			names = append(names, base)
			byName[base] = nil
		}
		fp := sha256.Sum256(s.certs[0].Raw)
		var g *group
		for _, x := range byName[base] {
			if sha256.Sum256(x.cert.Raw) == fp {
				g = x
			}
		}
		if g == nil {
			g = &group{cert: s.certs[0]}
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

func containsAny(have, want []*x509.Certificate) bool {
	for _, h := range have {
		for _, w := range want {
			if bytes.Equal(h.Raw, w.Raw) {
				return true
			}
		}
	}
	return false
}

// summary is the pager line: counts and the worst problems, or when all
// is well the certificate that expires first.
func summary(r plugin.Result, total int, soonest *x509.Certificate, soonestName string, now time.Time) string {
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
			return plugin.JoinSummary(r.Problems(), 200)
		}
		if total == 1 {
			return r.Findings[0].Text
		}
		return fmt.Sprintf("%d certificates OK, first to expire: %s in %s (%s)", total, soonestName, certs.Ago(certs.DaysLeft(soonest, now)), certs.Date(soonest.NotAfter))
	}
	problems := r.Problems()
	if len(problems) == 1 {
		// Nagios 4 turns ";" in the first line into ":".
		return strings.ReplaceAll(problems[0], "; ", " / ")
	}
	// With several problems each gets its worst verdict only, so that
	// more of them fit on the pager line.
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
	return head + plugin.JoinSummary(problems, 230-len(head))
}
