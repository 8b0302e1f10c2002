package certs

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

func TestJudgeDates(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	cert := func(bornDaysAgo, lifeDays float64) *x509.Certificate {
		nb := now.Add(-time.Duration(bornDaysAgo * 24 * float64(time.Hour)))
		return &x509.Certificate{NotBefore: nb, NotAfter: nb.Add(time.Duration(lifeDays * 24 * float64(time.Hour)))}
	}
	p := Policy{WarnDays: 28, CritDays: 14}
	renew := Policy{WarnDays: 28, CritDays: 14, RenewalAt: 0.67}
	tests := []struct {
		name  string
		c     *x509.Certificate
		p     Policy
		state plugin.State
		text  string
	}{
		{"fresh", cert(1, 90), p, plugin.OK, "expires in 89 days"},
		{"60 days left", cert(30, 90), p, plugin.OK, "expires in 60 days"},
		{"20 days left", cert(70, 90), p, plugin.WARNING, "expires in 20 days"},
		{"10 days left", cert(80, 90), p, plugin.CRITICAL, "expires in 10 days"},
		{"3 days left", cert(87, 90), p, plugin.CRITICAL, "expires in 3.0 days"},
		{"expired", cert(92, 90), p, plugin.CRITICAL, "expired 2.0 days ago"},
		{"not yet valid", cert(-1, 90), p, plugin.CRITICAL, "not valid until"},
		{"postmortem 000: day 70 of 90, renewal hung", cert(70, 90), Policy{WarnDays: 14, CritDays: 7, RenewalAt: 0.67}, plugin.WARNING, "renewal overdue: 77% of its 90-day lifetime used"},
		{"day 50 of 90, renewal not due", cert(50, 90), renew, plugin.OK, "expires in 40 days"},
		// One rounding (Days) for text, perfdata and state: 13.999 days
		// left is below 14, "13 days"; exactly 14 is not below 14.
		{"13.999 days left, -w 14", cert(90-13.999, 90), Policy{WarnDays: 14, CritDays: 7}, plugin.WARNING, "expires in 13 days"},
		{"14 days left, -w 14", cert(90-14, 90), Policy{WarnDays: 14, CritDays: 7}, plugin.OK, "expires in 14 days"},
		{"1.999 days ago", cert(91.999, 90), p, plugin.CRITICAL, "expired 1.9 days ago"},
		{"kubeadm leaf day 300 of 365", cert(300, 365), Policy{WarnDays: 28, CritDays: 14, RenewalAt: 0.8}, plugin.WARNING, "renewal overdue"},
	}
	for _, tt := range tests {
		v := JudgeDates(tt.c, now, tt.p)
		if v.State != tt.state || !strings.Contains(v.Text, tt.text) {
			t.Errorf("%s: %v %q, want %v containing %q", tt.name, v.State, v.Text, tt.state, tt.text)
		}
	}
}
