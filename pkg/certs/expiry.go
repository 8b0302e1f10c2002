// Package certs loads certificates and judges them: days left, lifetime
// used, signer. check_cert_expiry and check_http_status -C share it, so a
// certificate is judged the same way whichever plugin looks at it.
package certs

import (
	"crypto/x509"
	"fmt"
	"math"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Policy is how dates are judged.
type Policy struct {
	WarnDays, CritDays float64 // fewer days left than these are WARNING, CRITICAL (Nagios' "DAYS:" range)
	// RenewalAt is the fraction of the lifetime after which an automated
	// renewal should have replaced the certificate (certbot and the
	// kubelet renew around 2/3 to 0.7-0.9); past it is WARNING. 0 is off.
	RenewalAt float64
}

// Verdict is a judgement of one aspect of a certificate.
type Verdict struct {
	State plugin.State
	Text  string
}

// DaysLeft is the time to NotAfter in days, negative once expired.
func DaysLeft(c *x509.Certificate, now time.Time) float64 {
	return Days(c.NotAfter, now)
}

// Days is the time from now to t in days, cut to hundredths (toward
// zero: 1.999 days ago is "1.9 days ago", not 2):
// the one number the text, the perfdata and the state are all made
// from, so that 13.999 days left is 13.99 in the perfdata, "13 days" in
// the text and below a threshold of 14 in the state, never 14.
func Days(t, now time.Time) float64 {
	return math.Trunc(t.Sub(now).Hours()/24*100) / 100
}

func lifetimeUsed(notBefore, notAfter, now time.Time) float64 {
	life := notAfter.Sub(notBefore)
	if life <= 0 {
		return 1
	}
	return float64(now.Sub(notBefore)) / float64(life)
}

// JudgeDates judges validity dates: not yet valid and expired are
// CRITICAL, days left (Days) against the thresholds as Nagios ranges
// "W:" and "C:" read them (fewer days left is a problem), then renewal
// overdue.
func JudgeDates(c *x509.Certificate, now time.Time, p Policy) Verdict {
	return JudgeValidity(c.NotBefore, c.NotAfter, now, p)
}

// JudgeValidity is JudgeDates on the validity period alone, for callers
// that keep the dates of many certificates rather than the certificates.
func JudgeValidity(notBefore, notAfter, now time.Time, p Policy) Verdict {
	left := Days(notAfter, now)
	switch {
	case now.Before(notBefore):
		return Verdict{plugin.CRITICAL, "not valid until " + notBefore.UTC().Format(time.DateTime) + " UTC"}
	case !now.Before(notAfter):
		return Verdict{plugin.CRITICAL, "expired " + Ago(-left) + " ago (" + Date(notAfter) + ")"}
	case left < p.CritDays:
		return Verdict{plugin.CRITICAL, "expires in " + Ago(left) + " (" + Date(notAfter) + ")"}
	case left < p.WarnDays:
		return Verdict{plugin.WARNING, "expires in " + Ago(left) + " (" + Date(notAfter) + ")"}
	}
	if p.RenewalAt > 0 {
		if used := lifetimeUsed(notBefore, notAfter, now); used >= p.RenewalAt {
			life := notAfter.Sub(notBefore).Hours() / 24
			return Verdict{plugin.WARNING, fmt.Sprintf("renewal overdue: %.0f%% of its %.0f-day lifetime used (renewal due at %.0f%%), expires in %s (%s)",
				math.Floor(used*100), life, p.RenewalAt*100, Ago(left), Date(notAfter))}
		}
	}
	return Verdict{plugin.OK, "expires in " + Ago(left) + " (" + Date(notAfter) + ")"}
}

// Ago prints a span of days for people: "10.0 days", "5h", "42m".
func Ago(days float64) string {
	switch h := days * 24; {
	case h < 1:
		return fmt.Sprintf("%.0fm", math.Floor(h*60))
	case days < 1:
		return fmt.Sprintf("%.0fh", math.Floor(h))
	case days < 10:
		return fmt.Sprintf("%.1f days", math.Floor(days*10)/10)
	default:
		return fmt.Sprintf("%.0f days", math.Floor(days))
	}
}

// Date prints a certificate date: "2026-12-01".
func Date(t time.Time) string { return t.UTC().Format(time.DateOnly) }
