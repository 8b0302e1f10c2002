package plugin

import (
	"strings"
	"sync"
	"testing"
)

func TestSanitizeUserinfo(t *testing.T) {
	tests := []struct{ in, want string }{
		{`parse "http://user:secret@[::1": missing ']' in host`, `parse "http://user:xxxxx@[::1": missing ']' in host`},
		{"proxy http://u:p%40ss@proxy:3128 refused", "proxy http://u:xxxxx@proxy:3128 refused"},
		{"https://ghp_token123@github.com/x", "https://xxxxx@github.com/x"},
		{"socks5://me:pw@h:1080 and HTTPS://a:b@c/d", "socks5://me:xxxxx@h:1080 and HTTPS://a:xxxxx@c/d"},
		{"http://u:pa@ss@host/p", "http://u:xxxxx@host/p"},                         // the last @ ends the userinfo, as in url.Parse
		{`"http://u:p'w\"x@h"`, `"http://u:xxxxx@h"`},                              // quotes do not end it
		{"http://:tok3n@h", "http://:xxxxx@h"},                                     // no user, a password
		{"http://host/path?mail=a@b.example", "http://host/path?mail=a@b.example"}, // @ after the path is no userinfo
		{"http://host#a@b", "http://host#a@b"},
		{"mailto:root@localhost and user@host", "mailto:root@localhost and user@host"},
		{"http://host:8080/ok", "http://host:8080/ok"},
		{"a://b c@d", "a://b c@d"},
	}
	var z *Sanitizer // the nil sanitiser masks URL userinfo too
	for _, tt := range tests {
		got := z.Sanitize(tt.in)
		if got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := z.Sanitize(got); again != got {
			t.Errorf("Sanitize is not idempotent on %q: %q", got, again)
		}
	}
}

func TestSanitizeSecrets(t *testing.T) {
	var z Sanitizer
	z.RegisterSecret("hunter2")
	z.RegisterSecret("hunter22")    // longer first: no "xxxxx2" left behind
	z.RegisterSecret("abc")         // too short: would mangle everything
	z.RegisterSecret("xxxx")        // inside the mask: ignored
	z.RegisterSecret("p@ss w/rd\n") // read from a file, escaped in URLs
	z.RegisterSecret("ab|cd\tef")   // flattened by oneLine before masking
	tests := []struct{ in, want string }{
		{"password hunter2, not hunter22", "password xxxxx, not xxxxx"},
		{"abc abcd", "abc abcd"},
		{"xxxx", "xxxx"},
		{"login with p@ss w/rd failed", "login with xxxxx failed"},
		{"?pw=p%40ss+w%2Frd&x", "?pw=xxxxx&x"},
		{"/p%40ss%20w%2Frd/", "/xxxxx/"},
		{"http://me:p%40ss%20w%2Frd@h", "http://me:xxxxx@h"},
		{"ab|cd\tef", "xxxxx"},
		{"ab cd ef", "xxxxx"},
	}
	for _, tt := range tests {
		if got := z.Sanitize(tt.in); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeEverywhere(t *testing.T) {
	var z Sanitizer
	z.RegisterSecret("s3cr3t-token")
	var r Result
	r.Summary = "GET http://admin:pw@host/ with s3cr3t-token"
	r.Add(CRITICAL, "bad answer to s3cr3t-token")
	r.Add(OK, "proxy http://u:proxypass@proxy:3128")
	r.AddPerf(NewPerf("s3cr3t-token time", 1, "s"), NewPerf("http://u:labelpass@h", 2, ""))
	r.Note("header Authorization: s3cr3t-token")
	out := z.Render("HTTP", r, 0)
	for _, leak := range []string{"s3cr3t", ":pw@", "proxypass", "labelpass"} {
		if strings.Contains(out, leak) {
			t.Errorf("output holds %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "'xxxxx time'=1s") || !strings.Contains(out, "http://u:xxxxx@h=2") {
		t.Errorf("labels not masked as expected:\n%s", out)
	}
	line := z.RenderLine("HTTP", UNKNOWN, `invalid --url "http://user:secret@[::1": missing ']' in host`)
	if strings.Contains(line, "secret") {
		t.Errorf("RenderLine leaks: %q", line)
	}
	if line := RenderLine("HTTP", UNKNOWN, "proxy http://u:pw12@p:1"); line != "HTTP UNKNOWN - proxy http://u:xxxxx@p:1\n" {
		t.Errorf("package RenderLine: %q", line)
	}
	// A secret at the cut of the summary leaves no prefix behind: it is
	// masked before the line is shortened.
	r = Result{Summary: strings.Repeat("a", summaryMax-6) + " s3cr3t-token"}
	if out := z.Render("X", r, 0); strings.Contains(out, "s3c") {
		t.Errorf("a prefix of the secret survives the cut: %q", out)
	}
}

func TestSanitizerConcurrent(t *testing.T) {
	// The watchdog sanitises while the check may still register.
	var z Sanitizer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); z.RegisterSecret("secret-" + itoa(i)) }()
		go func() { defer wg.Done(); z.Sanitize("secret-1 secret-2") }()
	}
	wg.Wait()
	if got := z.Sanitize("secret-1 secret-3"); got != "xxxxx xxxxx" {
		t.Errorf("got %q", got)
	}
}

// FuzzSanitize: a registered secret of at least 4 bytes never survives,
// unless it holds an "x" that the mask itself could supply.
func FuzzSanitize(f *testing.F) {
	f.Add("user hunter22 http://a:hunter22@h", "hunter22")
	f.Add(`parse "http://u:s3cret@[::1": bad`, "s3cret")
	f.Add("aaaaa", "aaaa")
	f.Fuzz(func(t *testing.T, text, secret string) {
		var z Sanitizer
		z.RegisterSecret(secret)
		got := z.Sanitize(text)
		if len(secret) >= minSecret && !strings.Contains(secret, "x") && strings.Contains(got, secret) {
			t.Fatalf("Sanitize(%q) with secret %q = %q", text, secret, got)
		}
		if again := z.Sanitize(got); again != got && !strings.Contains(secret, "x") {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
	})
}

// Query parameters named like secrets are masked in any URL, with or
// without a scheme, quoted or as a label; others are left alone.
func TestSanitizeQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET http://h/json?token=TOKSECRET&api_key=KEYSECRET: 200", "GET http://h/json?token=xxxxx&api_key=xxxxx: 200"},
		{"'http://h/x?a=1&Access_Token=T0k&b=2'=0.1s", "'http://h/x?a=1&Access_Token=xxxxx&b=2'=0.1s"},
		{`"/p?APIKEY=abc#frag"`, `"/p?APIKEY=xxxxx#frag"`},
		{"https://b.s3.example/o?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00d&X-Amz-Expires=60", "https://b.s3.example/o?X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx&X-Amz-Expires=60"},
		{"?key=k1;password=p1 &pass=p2 ?passwd=p3 ?sig=s ?auth=a ?client_secret=c ?pwd=w", "?key=xxxxx;password=xxxxx &pass=xxxxx ?passwd=xxxxx ?sig=xxxxx ?auth=xxxxx ?client_secret=xxxxx ?pwd=xxxxx"},
		{"?api%5Fkey=k", "?api%5Fkey=xxxxx"},
		{"?page=2&sort=name&author=me&keyboard=us", "?page=2&sort=name&author=me&keyboard=us"},
		{"?token=&x=1", "?token=&x=1"},
		{"a = b & c=d", "a = b & c=d"},
	}
	var z *Sanitizer
	for _, tt := range tests {
		got := z.Sanitize(tt.in)
		if got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := z.Sanitize(got); again != got {
			t.Errorf("Sanitize is not idempotent on %q: %q", got, again)
		}
	}
}

// maySecretParam must let through every name secretParam would mask.
func TestSecretStemsCoverNames(t *testing.T) {
	names := append([]string{}, secretParts...)
	for n := range secretNames {
		names = append(names, n)
	}
	for _, n := range names {
		for _, text := range []string{"GET /x?" + n + "=v", "/x;" + strings.ToUpper(n) + "=v"} {
			if !maySecretParam(text) {
				t.Errorf("maySecretParam(%q) = false: add a stem for %q", text, n)
			}
		}
	}
	if maySecretParam("'time'=0.1s;;;0 size=6B;;;0") {
		t.Errorf("plain perfdata goes through the regexp")
	}
}
