package revocation

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"golang.org/x/crypto/ocsp"
)

// responder is an OCSP responder and CRL server in one: answers are
// chosen per test through its fields.
type responder struct {
	ca      *certtest.Cert
	revoked map[string]time.Time // serial -> revocation time
	mu      sync.Mutex           // a hanging handler of one case outlives it
	ocsp    func(w http.ResponseWriter, r *http.Request)
	crl     func(w http.ResponseWriter, r *http.Request)
	// hits counts the requests by path: what a run asked the network.
	hits map[string]int
	// embed puts the CA's certificate in OCSP responses, as `openssl
	// ocsp -rsigner CA.pem` does.
	embed bool
}

func (rs *responder) hitsOf(path string) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.hits[path]
}

func (rs *responder) set(o, c func(http.ResponseWriter, *http.Request)) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.ocsp, rs.crl = rs.goodOCSP, rs.goodCRL
	if o != nil {
		rs.ocsp = o
	}
	if c != nil {
		rs.crl = c
	}
}

func newResponder(t *testing.T, ca *certtest.Cert) (*responder, string) {
	rs := &responder{ca: ca, revoked: map[string]time.Time{}, hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		o, c := rs.ocsp, rs.crl
		rs.hits[r.URL.Path]++
		rs.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/crl") {
			c(w, r)
			return
		}
		o(w, r)
	}))
	t.Cleanup(srv.Close)
	rs.ocsp, rs.crl = rs.goodOCSP, rs.goodCRL
	return rs, srv.URL
}

func (rs *responder) response(t testing.TB, leaf *x509.Certificate, signer *certtest.Cert, next time.Time) []byte {
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.SerialNumber, ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: next}
	if at, ok := rs.revoked[leaf.SerialNumber.String()]; ok {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(rs.ca.Cert, signer.Cert, tmpl, signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (rs *responder) goodOCSP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, "bad request", 400)
		return
	}
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}
	if at, ok := rs.revoked[req.SerialNumber.String()]; ok {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	}
	if rs.embed {
		tmpl.Certificate = rs.ca.Cert
	}
	der, _ := ocsp.CreateResponse(rs.ca.Cert, rs.ca.Cert, tmpl, rs.ca.Key)
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

func (rs *responder) crlBytes(signer *certtest.Cert, next time.Time) []byte {
	var entries []x509.RevocationListEntry
	for s, at := range rs.revoked {
		n, _ := new(big.Int).SetString(s, 10)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: at, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour),
		NextUpdate: next, RevokedCertificateEntries: entries}, signer.Cert, signer.Key)
	if err != nil {
		panic(err)
	}
	return der
}

func (rs *responder) goodCRL(w http.ResponseWriter, r *http.Request) {
	w.Write(rs.crlBytes(rs.ca, time.Now().Add(time.Hour)))
}

func TestCheck(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "Rev CA", CA: true})
	other := certtest.New(t, certtest.Spec{CN: "Other CA", CA: true})
	rs, base := newResponder(t, ca)
	dead := "http://" + closedAddr(t)
	leafs := func(ocspURL, crlURL string) (good, revoked *x509.Certificate) {
		var o, c []string
		if ocspURL != "" {
			o = []string{ocspURL}
		}
		if crlURL != "" {
			c = []string{crlURL}
		}
		g := certtest.New(t, certtest.Spec{CN: "good.test", Parent: ca, OCSP: o, CRL: c}).Cert
		r := certtest.New(t, certtest.Spec{CN: "revoked.test", Parent: ca, OCSP: o, CRL: c}).Cert
		rs.revoked[r.SerialNumber.String()] = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
		return g, r
	}
	ocspGood, ocspRevoked := leafs(base+"/ocsp", "")
	crlGood, crlRevoked := leafs("", base+"/crl")
	both, _ := leafs(dead, base+"/crl")
	none, _ := leafs("", "")
	unreachable, _ := leafs(dead, "")
	garbage := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>proxy error</html>")) }
	huge := func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, MaxOCSP+10)) }
	stale := func(w http.ResponseWriter, r *http.Request) { w.Write(rs.crlBytes(ca, time.Now().Add(-time.Minute))) }
	forged := func(w http.ResponseWriter, r *http.Request) { w.Write(rs.crlBytes(other, time.Now().Add(time.Hour))) }
	hang := func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Second) }
	status500 := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }

	tests := []struct {
		name       string
		leaf       *x509.Certificate
		staple     []byte
		ocsp, crl  func(http.ResponseWriter, *http.Request)
		want       Status
		via, inErr string
	}{
		{name: "OCSP good", leaf: ocspGood, want: Good, via: "OCSP responder " + base + "/ocsp"},
		{name: "OCSP revoked", leaf: ocspRevoked, want: Revoked, via: "OCSP responder " + base + "/ocsp"},
		{name: "stapled good, no fetch", leaf: ocspGood, staple: rs.response(t, ocspGood, ca, time.Now().Add(time.Hour)), ocsp: hang, want: Good, via: "stapled OCSP response"},
		{name: "stapled revoked", leaf: ocspRevoked, staple: rs.response(t, ocspRevoked, ca, time.Now().Add(time.Hour)), want: Revoked, via: "stapled OCSP response"},
		{name: "stale staple, responder asked", leaf: ocspGood, staple: rs.response(t, ocspGood, ca, time.Now().Add(-time.Minute)), want: Good, via: "OCSP responder", inErr: "the response is stale"},
		{name: "staple for another CA", leaf: ocspGood, staple: rs.response(t, ocspGood, other, time.Now().Add(time.Hour)), ocsp: garbage, want: Failed, inErr: "stapled OCSP response: not a valid OCSP response"},
		{name: "responder answers garbage", leaf: ocspGood, ocsp: garbage, want: Failed, inErr: "OCSP responder " + base + "/ocsp sent a response that is not OCSP (asn1: structure error: tags don't match)"},
		{name: "responder answers 500", leaf: ocspGood, ocsp: status500, want: Failed, inErr: "HTTP 500 Internal Server Error"},
		{name: "responder answer too large", leaf: ocspGood, ocsp: huge, want: Failed, inErr: "answer larger than 64 KiB"},
		{name: "responder hangs", leaf: ocspGood, ocsp: hang, want: Failed, inErr: "no answer in time"},
		{name: "responder unreachable", leaf: unreachable, want: Failed, inErr: "connection refused"},
		{name: "CRL good", leaf: crlGood, want: Good, via: "CRL " + base + "/crl"},
		{name: "CRL revoked", leaf: crlRevoked, want: Revoked, via: "CRL " + base + "/crl"},
		{name: "CRL stale", leaf: crlGood, crl: stale, want: Failed, inErr: "the CRL is stale"},
		{name: "CRL signed by another CA", leaf: crlRevoked, crl: forged, want: Failed, inErr: `not signed by the issuer "Rev CA"`},
		{name: "CRL garbage", leaf: crlGood, crl: garbage, want: Failed, inErr: "not a valid CRL"},
		{name: "OCSP unreachable, CRL answers", leaf: both, want: Good, via: "CRL", inErr: "connection refused"},
		{name: "nothing to ask", leaf: none, want: Unchecked},
		{name: "OCSP and CRL fail: both named on one line", leaf: both, crl: status500, want: Failed,
			inErr: "OCSP responder " + dead + ": connection refused; CRL " + base + "/crl: HTTP 500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs.set(tt.ocsp, tt.crl)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			c := &Checker{Client: &http.Client{Transport: &http.Transport{Proxy: nil}}, Now: time.Now()}
			r := c.Check(ctx, tt.leaf, ca.Cert, tt.staple)
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d (%+v)", r.Status, tt.want, r)
			}
			if !strings.HasPrefix(r.Via, tt.via) {
				t.Errorf("via %q, want %q", r.Via, tt.via)
			}
			if r.Err != nil && strings.Contains(r.Err.Error(), "\n") {
				t.Errorf("error spans lines: %q", r.Err)
			}
			if tt.inErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.inErr)) {
				t.Errorf("error %v, want %q", r.Err, tt.inErr)
			}
			if r.Status == Revoked && (!r.RevokedAt.Equal(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)) || r.Reason != "keyCompromise") {
				t.Errorf("revoked at %s reason %q", r.RevokedAt, r.Reason)
			}
		})
	}
}

// TestNotOCSP: bytes that are not an OCSP response at all (a proxy's
// error page, a certificate, truncated DER) are named as such, with
// asn1's reason and never its dump of Go structs.
func TestNotOCSP(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "Rev CA", CA: true})
	leaf := certtest.New(t, certtest.Spec{CN: "leaf.test", Parent: ca}).Cert
	tests := []struct {
		name, via string
		der       []byte
		want      string
	}{
		{"an HTML page", "OCSP responder http://ocsp.test", []byte("<html>proxy error</html>"),
			"OCSP responder http://ocsp.test sent a response that is not OCSP (asn1: structure error: tags don't match)"},
		{"a certificate", "OCSP responder http://ocsp.test", ca.Cert.Raw,
			"OCSP responder http://ocsp.test sent a response that is not OCSP (asn1: structure error: tags don't match)"},
		{"empty", "OCSP responder http://ocsp.test", nil,
			"OCSP responder http://ocsp.test sent a response that is not OCSP (asn1: syntax error: sequence truncated)"},
		{"indefinite length", "OCSP responder http://ocsp.test", []byte{0x30, 0x80},
			"OCSP responder http://ocsp.test sent a response that is not OCSP (asn1: syntax error: indefinite length found)"},
		{"a stapled HTML page", stapled, []byte("<html>"), "stapled OCSP response: not OCSP (asn1: structure error: tags don't match)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Checker{Now: time.Now()}
			r := c.judgeOCSP(tt.der, leaf, ca.Cert, tt.via)
			if r.Status != Failed || r.Err == nil || r.Err.Error() != tt.want {
				t.Fatalf("got %d %v\nwant %q", r.Status, r.Err, tt.want)
			}
			for _, dump := range []string{"{", "optional:", "@", "responseASN1"} {
				if strings.Contains(r.Err.Error(), dump) {
					t.Errorf("%q in %q", dump, r.Err)
				}
			}
		})
	}
}

func TestShow(t *testing.T) {
	u, _ := url.Parse("http://user:secret@ocsp.test/x?token=abc#f")
	if got := Show(u); got != "http://ocsp.test/x" {
		t.Errorf("Show = %q", got)
	}
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCRLFetchedOnce: leaves naming the same CRL share one download.
func TestCRLFetchedOnce(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "Rev CA", CA: true})
	rs, base := newResponder(t, ca)
	var fetches atomic.Int64
	rs.set(nil, func(w http.ResponseWriter, r *http.Request) { fetches.Add(1); rs.goodCRL(w, r) })
	c := &Checker{Client: &http.Client{}, Now: time.Now()}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		leaf := certtest.New(t, certtest.Spec{CN: "l.test", Parent: ca, CRL: []string{base + "/crl"}}).Cert
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if r := c.Check(ctx, leaf, ca.Cert, nil); r.Status != Good {
				t.Errorf("status %d: %v", r.Status, r.Err)
			}
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d CRL fetches, want 1", n)
	}
}

// chainLab is root -> intermediate -> leaf, the root answering for the
// intermediate and the intermediate for the leaf, each by OCSP and CRL.
type chainLab struct {
	root, inter, leaf *certtest.Cert
	rootRS, interRS   *responder
}

// newChainLab makes the chain; via is "ocsp" or "crl": what the
// certificates name.
func newChainLab(t *testing.T, via string) *chainLab {
	l := &chainLab{root: certtest.New(t, certtest.Spec{CN: "Chain Root", CA: true})}
	var rootURL, interURL string
	l.rootRS, rootURL = newResponder(t, l.root)
	urls := func(base string) (o, c []string) {
		if via == "ocsp" {
			return []string{base + "/ocsp"}, nil
		}
		return nil, []string{base + "/crl"}
	}
	o, c := urls(rootURL)
	l.inter = certtest.New(t, certtest.Spec{CN: "Chain CA 2", CA: true, Parent: l.root, OCSP: o, CRL: c})
	l.interRS, interURL = newResponder(t, l.inter)
	o, c = urls(interURL)
	l.leaf = certtest.New(t, certtest.Spec{CN: "leaf.test", Parent: l.inter, OCSP: o, CRL: c})
	return l
}

func (l *chainLab) pairs() []Pair {
	return []Pair{{Cert: l.leaf.Cert, Issuer: l.inter.Cert}, {Cert: l.inter.Cert, Issuer: l.root.Cert}}
}

// TestCheckChain: each certificate of a chain is asked about against
// its issuer, by OCSP or CRL; a revoked intermediate is found whatever
// its leaf's answer.
func TestCheckChain(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	tests := []struct {
		name                string
		via                 string
		revokeLeaf, revokeI bool
		want                [2]Status
		embed               bool
	}{
		{"CRL: intermediate revoked", "crl", false, true, [2]Status{Good, Revoked}, false},
		{"OCSP: intermediate revoked", "ocsp", false, true, [2]Status{Good, Revoked}, false},
		{"CRL: only the leaf revoked", "crl", true, false, [2]Status{Revoked, Good}, false},
		{"OCSP: only the leaf revoked", "ocsp", true, false, [2]Status{Revoked, Good}, false},
		{"CRL: all good", "crl", false, false, [2]Status{Good, Good}, false},
		{"OCSP: all good", "ocsp", false, false, [2]Status{Good, Good}, false},
		{"OCSP: the CAs sign and embed themselves", "ocsp", false, true, [2]Status{Good, Revoked}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newChainLab(t, tt.via)
			l.rootRS.embed, l.interRS.embed = tt.embed, tt.embed
			if tt.revokeLeaf {
				l.interRS.revoked[l.leaf.Cert.SerialNumber.String()] = at
			}
			if tt.revokeI {
				l.rootRS.revoked[l.inter.Cert.SerialNumber.String()] = at
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c := &Checker{Client: &http.Client{}, Now: time.Now()}
			rs := c.CheckChain(ctx, l.pairs(), nil)
			for i, r := range rs {
				if r.Status != tt.want[i] {
					t.Errorf("#%d: status %d, want %d (%+v)", i, r.Status, tt.want[i], r)
				}
				if !strings.HasPrefix(r.Via, map[string]string{"ocsp": "OCSP responder", "crl": "CRL"}[tt.via]) {
					t.Errorf("#%d: via %q", i, r.Via)
				}
				if r.Status == Revoked && r.Reason != "keyCompromise" {
					t.Errorf("#%d: reason %q", i, r.Reason)
				}
			}
		})
	}
}

// TestCheckChainAskedOnce: one endpoint on several addresses presents
// the same chain each time, and two leaves share their intermediate;
// each certificate is asked about once and each CRL fetched once in the
// run, all callers getting the same answer.
func TestCheckChainAskedOnce(t *testing.T) {
	for _, via := range []string{"ocsp", "crl"} {
		t.Run(via, func(t *testing.T) {
			l := newChainLab(t, via)
			l.rootRS.revoked[l.inter.Cert.SerialNumber.String()] = time.Now().Add(-time.Hour)
			var interURL string
			if via == "ocsp" {
				interURL = l.leaf.Cert.OCSPServer[0]
			} else {
				interURL = l.leaf.Cert.CRLDistributionPoints[0]
			}
			u, _ := url.Parse(interURL)
			o, c := []string(nil), []string(nil)
			if via == "ocsp" {
				o = []string{interURL}
			} else {
				c = []string{interURL}
			}
			other := certtest.New(t, certtest.Spec{CN: "other.test", Parent: l.inter, OCSP: o, CRL: c})
			chk := &Checker{Client: &http.Client{}, Now: time.Now()}
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ { // 4 addresses of each of 2 endpoints
				pairs := l.pairs()
				if i%2 == 1 {
					pairs[0] = Pair{Cert: other.Cert, Issuer: l.inter.Cert}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					rs := chk.CheckChain(ctx, pairs, nil)
					if rs[0].Status != Good || rs[1].Status != Revoked {
						t.Errorf("statuses %d %d, want good and revoked: %+v", rs[0].Status, rs[1].Status, rs)
					}
				}()
			}
			wg.Wait()
			wantInter := 2 // two leaves, one request each
			if via == "crl" {
				wantInter = 1 // one CRL for both
			}
			if n := l.rootRS.hitsOf("/" + via); n != 1 {
				t.Errorf("the root's %s asked %d times, want once", via, n)
			}
			if n := l.interRS.hitsOf(u.Path); n != wantInter {
				t.Errorf("the intermediate's %s asked %d times, want %d", via, n, wantInter)
			}
		})
	}
}

// TestWaiterDeadline: a caller waiting on another's fetch of the same
// certificate gives up at its own deadline, naming where it was asked;
// the first caller still gets the answer.
func TestWaiterDeadline(t *testing.T) {
	ca := certtest.New(t, certtest.Spec{CN: "Rev CA", CA: true})
	rs, base := newResponder(t, ca)
	rs.set(func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond); rs.goodOCSP(w, r) }, nil)
	leaf := certtest.New(t, certtest.Spec{CN: "l.test", Parent: ca, OCSP: []string{base + "/ocsp"}}).Cert
	c := &Checker{Client: &http.Client{}, Now: time.Now()}
	first := make(chan Result)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		first <- c.Check(ctx, leaf, ca.Cert, nil)
	}()
	for rs.hitsOf("/ocsp") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := c.Check(ctx, leaf, ca.Cert, nil)
	if r.Status != Failed || r.Err == nil || r.Err.Error() != "OCSP responder "+base+"/ocsp: no answer in time" {
		t.Errorf("waiter: %+v", r)
	}
	if r := <-first; r.Status != Good {
		t.Errorf("first caller: %+v", r)
	}
	if n := rs.hitsOf("/ocsp"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
