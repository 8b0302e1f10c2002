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
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
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
// proxies as configured); ctx of each call bounds the time. A Checker is
// shared by the run's goroutines and asks the network once per run for
// each thing: a CRL once per URL however many certificates name it (a
// directory of a CA's leaves), a certificate once however many times it
// is asked about (one endpoint probed on each of its addresses, an
// intermediate in every chain its CA signed).
type Checker struct {
	Client *http.Client
	Now    time.Time

	crls flights[fetched] // by URL
	asks flights[asked]   // by certificate: issuer and serial
}

// fetched is one CRL download.
type fetched struct {
	body []byte
	err  error
}

// asked is the network's answer about one certificate, and the
// attempts that failed before it.
type asked struct {
	r      Result
	failed []error
}

// flights runs one call per key: later callers wait for the first (or
// their own deadline) and share its value.
type flights[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T]
}

type flight[T any] struct {
	done chan struct{}
	v    T
}

// do returns the value of key, computing it with f when no one has; ok
// is false when ctx ended first.
func (fs *flights[T]) do(ctx context.Context, key string, f func() T) (v T, ok bool) {
	fs.mu.Lock()
	if fs.m == nil {
		fs.m = map[string]*flight[T]{}
	}
	fl, running := fs.m[key]
	if !running {
		fl = &flight[T]{done: make(chan struct{})}
		fs.m[key] = fl
	}
	fs.mu.Unlock()
	if !running {
		fl.v = f()
		close(fl.done)
		return fl.v, true
	}
	select {
	case <-fl.done:
		return fl.v, true
	case <-ctx.Done():
	}
	select { // both ready: the answer wins
	case <-fl.done:
		return fl.v, true
	default:
		return v, false
	}
}

// Pair is a certificate and the certificate that signed it.
type Pair struct {
	Cert, Issuer *x509.Certificate
}

// CheckChain asks about each pair side by side and returns the answers
// in the same order. staple, the OCSP response a server stapled, is
// about the first pair's certificate only: a server staples its leaf's.
func (c *Checker) CheckChain(ctx context.Context, pairs []Pair, staple []byte) []Result {
	out := make([]Result, len(pairs))
	var wg sync.WaitGroup
	for i, p := range pairs {
		var st []byte
		if i == 0 {
			st = staple
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.Check(ctx, p.Cert, p.Issuer, st)
		}()
	}
	wg.Wait()
	return out
}

// Check asks about cert, signed by issuer. staple is the OCSP response
// the server stapled, if any. OCSP comes first (one small round trip);
// the CRL is fetched only when OCSP gives no answer. What the network
// says is shared by every call about the same certificate in the run.
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate, staple []byte) Result {
	var failed []error
	if len(staple) > 0 {
		r := c.judgeOCSP(staple, cert, issuer, stapled)
		if r.Status != Failed {
			return r
		}
		failed = append(failed, r.Err)
	}
	a, ok := c.asks.do(ctx, certKey(cert, issuer), func() asked { return c.ask(ctx, cert, issuer) })
	if !ok {
		a = asked{r: Result{Status: Failed}, failed: []error{fmt.Errorf("%s: no answer in time", firstSource(cert))}}
	}
	r := a.r
	failed = append(failed, a.failed...)
	switch {
	case r.Status == Unchecked && len(failed) > 0:
		return Result{Status: Failed, Err: joined(failed)}
	case r.Status == Failed:
		return Result{Status: Failed, Err: joined(failed)}
	}
	r.Err = joined(failed)
	return r
}

// certKey names a certificate by its issuer (name and key) and serial:
// what OCSP asks about, and what a CRL lists.
func certKey(cert, issuer *x509.Certificate) string {
	h := sha256.New()
	h.Write(issuer.RawSubject)
	h.Write(issuer.RawSubjectPublicKeyInfo)
	return fmt.Sprintf("%x/%x", h.Sum(nil), cert.SerialNumber)
}

// firstSource is where an answer about cert is asked first, for a
// caller that gave up waiting on another's fetch.
func firstSource(cert *x509.Certificate) string {
	if us := httpURLs(cert.OCSPServer); len(us) > 0 {
		return "OCSP responder " + Show(us[0])
	}
	if us := httpURLs(cert.CRLDistributionPoints); len(us) > 0 {
		return "CRL " + Show(us[0])
	}
	return "the network"
}

// ask goes to the network: each OCSP responder, then each CRL, until one
// gives an answer.
func (c *Checker) ask(ctx context.Context, cert, issuer *x509.Certificate) asked {
	var failed []error
	for _, u := range httpURLs(cert.OCSPServer) {
		r := c.askOCSP(ctx, u, cert, issuer)
		if r.Status != Failed {
			return asked{r: r, failed: failed}
		}
		failed = append(failed, r.Err)
	}
	for _, u := range httpURLs(cert.CRLDistributionPoints) {
		r := c.askCRL(ctx, u, cert, issuer)
		if r.Status != Failed {
			return asked{r: r, failed: failed}
		}
		failed = append(failed, r.Err)
	}
	if len(failed) == 0 {
		return asked{r: Result{Status: Unchecked}}
	}
	return asked{r: Result{Status: Failed}, failed: failed}
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

func (c *Checker) askOCSP(ctx context.Context, u *url.URL, cert, issuer *x509.Certificate) Result {
	via := "OCSP responder " + Show(u)
	fail := func(err error) Result { return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: %w", via, err)} }
	der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
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
	return c.judgeOCSP(body, cert, issuer, via)
}

func (c *Checker) judgeOCSP(der []byte, cert, issuer *x509.Certificate, via string) Result {
	fail := func(err error) Result { return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: %w", via, err)} }
	resp, err := parseOCSP(der, cert, issuer)
	var re ocsp.ResponseError
	switch {
	case errors.As(err, &re):
		return fail(fmt.Errorf("the responder answered %q", re.Status.String()))
	case isASN1(err) && via == stapled:
		return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s: not OCSP (%s)", via, asn1Reason(err))}
	case isASN1(err):
		// A captive portal, a proxy's error page, a web server at the
		// responder's address: say so, without asn1's dump of Go structs.
		return Result{Status: Failed, Via: via, Err: fmt.Errorf("%s sent a response that is not OCSP (%s)", via, asn1Reason(err))}
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

// stapled is the Via of a response the server stapled to its handshake.
const stapled = "stapled OCSP response"

// isASN1 reports whether err is encoding/asn1's: the bytes are not an
// OCSP response at all, not a response that says something wrong.
func isASN1(err error) bool {
	var se asn1.StructuralError
	var sy asn1.SyntaxError
	return errors.As(err, &se) || errors.As(err, &sy)
}

// asn1Reason is an asn1 error as a user can read it: "asn1: structure
// error: tags don't match", without the Go struct dumps, field names and
// offsets encoding/asn1 appends ("(16 vs {class:0 tag:28 ...}) {optional:false
// ...} responseASN1 @2").
func asn1Reason(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "({"); i > 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// parseOCSP parses an OCSP response about cert and checks it was signed
// by issuer or a responder issuer delegated to. x/crypto/ocsp takes a
// certificate embedded in the response for a delegated responder and
// wants it signed by the issuer; a responder signing with the issuer's
// own key and embedding the issuer (`openssl ocsp -rsigner CA.pem`, as
// many private CAs run it) fails that for any issuer but a self-signed
// root. Such a response is taken when the embedded certificate is the
// issuer (same name and key): its signature was checked against it.
func parseOCSP(der []byte, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err == nil {
		return resp, nil
	}
	r, err2 := ocsp.ParseResponseForCert(der, cert, nil)
	if err2 == nil && r.Certificate != nil && bytes.Equal(r.Certificate.RawSubject, issuer.RawSubject) &&
		bytes.Equal(r.Certificate.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo) {
		return r, nil
	}
	return nil, err
}

func (c *Checker) askCRL(ctx context.Context, u *url.URL, cert, issuer *x509.Certificate) Result {
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
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
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
	f, ok := c.crls.do(ctx, u.String(), func() fetched {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fetched{err: err}
		}
		body, err := c.fetch(req, MaxCRL)
		return fetched{body: body, err: err}
	})
	if !ok {
		return nil, errors.New("no answer in time")
	}
	return f.body, f.err
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
