package origin

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/httpfiber/internal/origin/origintest"
)

const testBaseURL = "http://localhost:8100/api/auth"

func TestRedirectCorpus(t *testing.T) {
	p := NewPolicy(testBaseURL, origintest.Trusted)
	for _, u := range origintest.Attacks {
		if p.Trusted(u, true) {
			t.Errorf("attack %q accepted", u)
		}
	}
	for _, u := range origintest.Accepted {
		if !p.Trusted(u, true) {
			t.Errorf("%q refused", u)
		}
	}
}

func TestOriginPatterns(t *testing.T) {
	for _, tc := range []struct {
		url, pattern string
		want         bool
	}{
		{"https://app.example.com/x", "https://app.example.com", true},
		{"https://APP.example.com:443", "https://app.example.com", true},
		{"https://app.example.com:8443", "https://app.example.com", false},
		{"http://app.example.com", "https://app.example.com", false},
		{"https://a.example.com", "*.example.com", true},
		{"http://a.b.example.com", "*.example.com", true},
		{"https://example.com", "*.example.com", false},
		{"https://evilexample.com", "*.example.com", false},
		{"https://a.example.com.evil.test", "*.example.com", false},
		{"myapp://a.example.com/x", "*.example.com", false}, // scheme-less wildcards need http(s)
		{"https://a.example.com", "https://*.example.com", true},
		{"http://a.example.com", "https://*.example.com", false},
		{"https://ab.example.com", "https://a?.example.com", true},
		{"https://abc.example.com", "https://a?.example.com", false},
		{"http://192.168.1.5", "192.168.*.*", true},
		{"http://192.168.attacker.com", "192.168.*", false},
		{"http://192.168.01.5", "192.168.*.*", false},
		{"myapp://cb/x", "myapp://", true},
		{"MYAPP://cb", "myapp://", true},
		{"myapp://cb/x", "myapp://cb", true},
		{"myapp://other/x", "myapp://cb", false},
		{"myapp://host/cb/sub", "myapp://host/cb", true},
		{"myapp://host/cbx", "myapp://host/cb", false},
		{"myapp://host/cb/../evil", "myapp://host/cb", false},
		{"myapp://host/cb/%2e%2e/evil", "myapp://host/cb", false},
		{"myapp://a.b/x", "myapp://*.b", true},
		{"myapp://u@a.b/x", "myapp://*.b", false},
		{"otherapp://cb", "myapp://", false},
		{"/relative", "https://app.example.com", false}, // relative only when allowed
	} {
		if got := matchesOriginPattern(tc.url, tc.pattern, false); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.url, tc.pattern, got, tc.want)
		}
	}
}

func TestPolicy_DangerousSchemesNeverTrusted(t *testing.T) {
	p := NewPolicy(testBaseURL, []string{"javascript:", "data:", "vbscript:", "javascript://*", "*"})
	for _, u := range []string{"javascript:alert(1)", "javascript://x/%0aalert(1)", "data:text/html,x", "vbscript:x", "JAVASCRIPT:alert(1)"} {
		if p.Trusted(u, true) {
			t.Errorf("%q trusted", u)
		}
	}
	// Configured origins are reduced to their origin.
	p = NewPolicy(testBaseURL, []string{"https://App.Example.com/"})
	if !p.Trusted("https://app.example.com/cb", false) {
		t.Error("trailing-slash origin not honoured")
	}
}

func TestSafeRelativeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"/": true, "/a/b?c=d#e": true, "/a?x=%2F": true, "/a#%5C": true, "/%41": true,
		"//a": false, `/\a`: false, "/a\\b": false, "/a%2Fb": false, "/a%5cb": false, "/a\x00": false,
		"/a\u0085": false, "a": false, "": false, "/\x7f": false,
	} {
		if got := isSafeRelativeURL(u); got != want {
			t.Errorf("isSafeRelativeURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abd", false},
		{"?", "é", true}, {"??", "é", false}, {`a\*`, "a*", true}, {`a\*`, "ab", false},
		{"*.*.*", "a.b.c", true}, {"*a*a*a*a*b", strings.Repeat("a", 200), false},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// The seeds in testdata/fuzz run with every `go test`; `go test -fuzz`
// explores from them.
func FuzzValidateRedirect(f *testing.F) {
	for _, s := range append(append([]string{}, origintest.Attacks...), origintest.Accepted...) {
		f.Add(s)
	}
	p := NewPolicy(testBaseURL, origintest.Trusted)
	f.Fuzz(func(t *testing.T, u string) {
		if !p.Trusted(u, true) {
			return
		}
		if strings.HasPrefix(u, "/") {
			if strings.HasPrefix(u, "//") || strings.ContainsAny(u, "\\\t\r\n\x00") {
				t.Fatalf("unsafe relative URL %q accepted", u)
			}
			return
		}
		// An accepted absolute URL must mean the same to Go's parser: a
		// trusted host, no userinfo, a safe scheme.
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", u, err)
		}
		switch strings.ToLower(pu.Scheme) {
		case "myapp":
			return
		case "http", "https":
		default:
			t.Fatalf("accepted scheme %q in %q", pu.Scheme, u)
		}
		host := strings.ToLower(pu.Hostname())
		if pu.User != nil || strings.ContainsAny(u, "\\ \t\r\n") ||
			!(host == "localhost" || host == "trusted.test" || strings.HasSuffix(host, ".wild.test")) {
			t.Fatalf("accepted %q (host %q)", u, host)
		}
	})
}
