// Package revocation asks whether a certificate was revoked: from a
// stapled OCSP response, else the OCSP responder its AIA names, else the
// CRL of its distribution point. OCSP is parsed and its signature checked
// by golang.org/x/crypto/ocsp; CRLs by crypto/x509, their signature
// checked against the issuer. Every fetch is bounded in time (the
// caller's context) and in size.
package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Status is what a check found.
type Status int

const (
	// Unchecked: the certificate names no OCSP responder nor CRL.
	Unchecked Status = iota
	// Good: a valid answer says it is not revoked.
	Good
	// Revoked: a valid answer says it is revoked.
	Revoked
	// Failed: no valid answer (unreachable, garbage, bad signature,
	// stale, unknown to the responder).
	Failed
)

// Result is the answer about one certificate.
type Result struct {
	Status Status
	// Via says where the answer came from: "stapled OCSP response",
	// "OCSP responder http://…", "CRL http://…" (URLs without userinfo).
	Via       string
	RevokedAt time.Time
	Reason    string // "keyCompromise"; "" when none was given
	Err       error  // why Failed; with another status, an earlier attempt that failed
}

// Limits on what is read from the network.
const (
	MaxOCSP = 64 << 10 // an OCSP response: a few KiB in practice
	MaxCRL  = 10 << 20 // a CRL: public CAs' largest run to a few MiB
)

// skew is how far thisUpdate may lie in the future: clocks differ.
const skew = 5 * time.Minute

// Checker fetches through Client (its Transport bounds headers, and
// proxies as configured); ctx of each call bounds the time. A CRL is
// fetched once per run and URL however many leaves name it (a directory
// of a CA's leaves), so a Checker is shared by the run's goroutines.
type Checker struct {
	Client *http.Client
	Now    time.Time

	mu   sync.Mutex
	crls map[string]*crlFetch
}

// crlFetch is one CRL download, shared by every leaf that names it.
type crlFetch struct {
	done chan struct{}
	body []byte
	err  error
}

// Check asks about leaf, signed by issuer. staple is the OCSP response
// the server stapled, if any. OCSP comes first (one small round trip);
// the CRL is fetched only when OCSP gives no answer.
func (c *Checker) Check(ctx context.Context, leaf, issuer *x509.Certificate, staple []byte) Result {
	var failed []error
	if len(staple) > 0 {
		r := c.judgeOCSP(staple, leaf, issuer, "stapled OCSP response")
		if r.Status != Failed {
			return r
		}
		failed = append(failed, r.Err)
	}
	for _, u := range httpURLs(leaf.OCSPServer) {
		r := c.askOCSP(ctx, u, leaf, issuer)
		if r.Status != Failed {
			r.Err = joined(failed)
			return r
		}
		failed = append(failed, r.Err)
	}
	for _, u := range httpURLs(leaf.CRLDistributionPoints) {
		r := c.askCRL(ctx, u, leaf, issuer)
		if r.Status != Failed {
			r.Err = joined(failed)
			return r
		}
		failed = append(failed, r.Err)
	}
	if len(failed) == 0 {
		return Result{Status: Unchecked}
	}
	return Result{Status: Failed, Err: joined(failed)}
}

// joined is the errors of the attempts on one line, "; " between them
// (errors.Join puts newlines, which would break a status line); nil for
// none.
func joined(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return &joinedError{text: strings.Join(parts, "; "), errs: errs}
}

type joinedError struct {
	text string
	errs []error
}

func (e *joinedError) Error() string   { return e.text }
func (e *joinedError) Unwrap() []error { return e.errs }

// httpURLs keeps the http(s) URLs: LDAP distribution points are not
// fetched.
func httpURLs(us []string) []*url.URL {
	var out []*url.URL
	for _, s := range us {
		u, err := url.Parse(s)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			out = append(out, u)
		}
	}
	return out
}

// Show is u as shown in messages: no userinfo, no query (a token there
// is no business of a status line).
func Show(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment = nil, "", false, ""
	return v.String()
}

func (c *Checker) askOCSP(ctx context.Context, u *url.URL, leaf, issuer *x509.Certificate) Result {
	via := "OCSP responder " + Show(u)
	fail := func(err error) Result { return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: %w", via, err)} }
	der, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(der))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	req.Header.Set("Accept", "application/ocsp-response")
	body, err := c.fetch(req, MaxOCSP)
	if err != nil {
		return fail(err)
	}
	return c.judgeOCSP(body, leaf, issuer, via)
}

func (c *Checker) judgeOCSP(der []byte, leaf, issuer *x509.Certificate, via string) Result {
	fail := func(err error) Result { return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: %w", via, err)} }
	resp, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	var re ocsp.ResponseError
	switch {
	case errors.As(err, &re):
		return fail(fmt.Errorf("the responder answered %q", re.Status.String()))
	case err != nil:
		return fail(fmt.Errorf("not a valid OCSP response: %w", err))
	case resp.ThisUpdate.After(c.Now.Add(skew)):
		return fail(fmt.Errorf("the response is dated %s, in the future", resp.ThisUpdate.UTC().Format(time.RFC3339)))
	case !resp.NextUpdate.IsZero() && resp.NextUpdate.Before(c.Now):
		return fail(fmt.Errorf("the response is stale: its next update was due %s", resp.NextUpdate.UTC().Format(time.RFC3339)))
	}
	switch resp.Status {
	case ocsp.Good:
		return Result{Status: Good, Via: via}
	case ocsp.Revoked:
		r := Result{Status: Revoked, Via: via, RevokedAt: resp.RevokedAt}
		if resp.RevocationReason != ocsp.Unspecified {
			r.Reason = reasonName(resp.RevocationReason)
		}
		return r
	}
	return fail(errors.New("the responder does not know the certificate"))
}

func (c *Checker) askCRL(ctx context.Context, u *url.URL, leaf, issuer *x509.Certificate) Result {
	via := "CRL " + Show(u)
	fail := func(err error) Result { return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: %w", via, err)} }
	body, err := c.crl(ctx, u)
	if err != nil {
		return fail(err)
	}
	if b, _ := pem.Decode(body); b != nil && b.Type == "X509 CRL" {
		body = b.Bytes
	}
	crl, err := x509.ParseRevocationList(body)
	switch {
	case err != nil:
		return fail(fmt.Errorf("not a valid CRL: %w", err))
	case crl.CheckSignatureFrom(issuer) != nil:
		return fail(fmt.Errorf("not signed by the issuer %q", issuer.Subject.CommonName))
	case !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(c.Now):
		return fail(fmt.Errorf("the CRL is stale: its next update was due %s", crl.NextUpdate.UTC().Format(time.RFC3339)))
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			r := Result{Status: Revoked, Via: via, RevokedAt: e.RevocationTime}
			if e.ReasonCode != ocsp.Unspecified {
				r.Reason = reasonName(e.ReasonCode)
			}
			return r
		}
	}
	return Result{Status: Good, Via: via}
}

// crl fetches the CRL at u once: later callers wait for the first
// fetch (or their own deadline) and share its answer.
func (c *Checker) crl(ctx context.Context, u *url.URL) ([]byte, error) {
	c.mu.Lock()
	if c.crls == nil {
		c.crls = map[string]*crlFetch{}
	}
	f, ok := c.crls[u.String()]
	if !ok {
		f = &crlFetch{done: make(chan struct{})}
		c.crls[u.String()] = f
	}
	c.mu.Unlock()
	if !ok {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			f.body, f.err = c.fetch(req, MaxCRL)
		} else {
			f.err = err
		}
		close(f.done)
	}
	select {
	case <-f.done:
		return f.body, f.err
	case <-ctx.Done():
		return nil, errors.New("no answer in time")
	}
}

// fetch sends req and reads at most limit bytes of a 200 answer.
func (c *Checker) fetch(req *http.Request, limit int64) ([]byte, error) {
	resp, err := c.Client.Do(req)
	if err != nil {
		return nil, describe(req.Context(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return nil, describe(req.Context(), err)
	case int64(len(body)) > limit:
		return nil, fmt.Errorf("answer larger than %d KiB", limit>>10)
	}
	return body, nil
}

// describe shortens a transport error: the URL is already named.
func describe(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer in time")
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s, "dial ") {
		s = s[i+2:]
	}
	return errors.New(s)
}

var reasons = []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}

// reasonName is the RFC 5280 name of a CRLReason.
func reasonName(code int) string {
	if code >= 0 && code < len(reasons) && reasons[code] != "" {
		return reasons[code]
	}
	return fmt.Sprintf("reason %d", code)
}
