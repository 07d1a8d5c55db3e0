package httpfiber

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Wire spec §5.3's worked example, byte for byte.
func TestCookieSigning_WorkedExample(t *testing.T) {
	cc := newCookieCodec([]byte(testSecret), false)
	if got := cc.signature("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"); got != "pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk=" {
		t.Fatalf("signature %s", got)
	}
	if got := cc.sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"); got != "OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D" {
		t.Fatalf("cookie value %s", got)
	}
	if got := cc.sign("true"); got != "true.1Ue91JS%2BcwPpyhFiSTriJ9vlBOt6RG78rdQqJ%2BTjbEk%3D" {
		t.Fatalf("dont_remember value %s", got)
	}
	if got := cc.setCookie(cookieSessionToken, cc.sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"), 604800); got !=
		"better-auth.session_token=OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("set-cookie %s", got)
	}
	secure := newCookieCodec([]byte(testSecret), true)
	if got := secure.setCookie(secure.name(cookieSessionToken), "", 0); got != "__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax" {
		t.Fatalf("secure expiry %s", got)
	}
	if got := cc.setCookie(cookieSessionToken, "v", 500*24*3600); !strings.Contains(got, "Max-Age=34560000;") {
		t.Fatalf("Max-Age not capped at 400 days: %s", got)
	}
}

func TestReadSignedCookie(t *testing.T) {
	cc := newCookieCodec([]byte(testSecret), false)
	const tok = "OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"
	const enc = tok + ".pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D"
	const raw = tok + ".pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk="
	name := cookieSessionToken
	for _, tc := range []struct {
		header string
		want   signedCookie
	}{
		{name + "=" + enc, cookieVerified},
		{name + "=" + raw, cookieVerified},
		{"a=b; " + name + "=" + enc + "; c=d", cookieVerified},
		{name + `="` + enc + `"`, cookieVerified},
		{name + "=" + enc + "; " + name + "=junk", cookieVerified}, // first wins
		{name + "=junk; " + name + "=" + enc, cookieAbsent},
		{"x" + name + "=" + enc, cookieAbsent},
		{name + "=" + tok, cookieAbsent},                                                         // unsigned
		{name + "=." + "pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D", cookieAbsent},       // dot at 0
		{name + "=" + tok + ".pRbFY", cookieAbsent},                                              // short signature
		{name + "=" + tok + "x" + enc[len(tok):], cookieBadSig},                                  // other value
		{name + "=" + tok + ".pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFl%3D", cookieBadSig}, // padding bits
		{name + "=" + tok + ".pRbFY-eUTJFzOygiEjDrw58ELsFD_Ngcjc1Knn7iXFk=", cookieBadSig},       // base64url
		{name + "=%E0%A4%A", cookieAbsent},
		{name + "=", cookieAbsent},
		{"", cookieAbsent},
		{";;;;=;", cookieAbsent},
	} {
		got, st := cc.readSigned(tc.header, name)
		if st != tc.want || (st == cookieVerified && got != tok) {
			t.Errorf("%q: state %d value %q, want %d", tc.header, st, got, tc.want)
		}
	}
}

func TestCookieValue_ParsesLikeBetterCall(t *testing.T) {
	for _, tc := range []struct{ header, name, want string }{
		{"a=1; b=2", "b", "2"},
		{"a=1;b=2", "b", "2"},
		{" a = 1 ; b = x y ", "b", "x y"},
		{"a; b=2", "b", "2"},
		{"a=%41%42", "a", "AB"},
		{"a=%E0%A4%A", "a", "%E0%A4%A"},
		{`a="q"`, "a", "q"},
		{`a="`, "a", ""},
		{"a=1=2", "a", "1=2"},
	} {
		if got, ok := cookieValue(tc.header, tc.name); !ok || got != tc.want {
			t.Errorf("%q[%s] = %q %v, want %q", tc.header, tc.name, got, ok, tc.want)
		}
	}
	if _, ok := cookieValue("a=1", "b"); ok {
		t.Error("found a missing cookie")
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

func TestOriginPolicy_DangerousSchemesNeverTrusted(t *testing.T) {
	p := newOriginPolicy(testBaseURL, []string{"javascript:", "data:", "vbscript:", "javascript://*", "*"})
	for _, u := range []string{"javascript:alert(1)", "javascript://x/%0aalert(1)", "data:text/html,x", "vbscript:x", "JAVASCRIPT:alert(1)"} {
		if p.trusted(u, true) {
			t.Errorf("%q trusted", u)
		}
	}
	// Configured origins are reduced to their origin.
	p = newOriginPolicy(testBaseURL, []string{"https://App.Example.com/"})
	if !p.trusted("https://app.example.com/cb", false) {
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

func TestDecodeJSON(t *testing.T) {
	good := map[string]string{
		`{"a":"b","n":1e400,"x":[1,{"y":null}],"t":true}`: "object",
		` "s" `: "string", `null`: "null", `12345678901234567890123456789`: "number",
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth): "array",
		`{"a":"\ud83d\ude00"}`: "object",
	}
	for in, typ := range good {
		v, err := decodeJSON([]byte(in))
		if err != nil || jsType(v) != typ {
			t.Errorf("decodeJSON(%.40q) = %v %v, want a %s", in, v, err, typ)
		}
	}
	for _, in := range []string{
		``, `{`, `}`, `{"a"}`, `{"a":1,}`, `[1,]`, `{"a":1}x`, `{"a":1} {"b":2}`, `{"a":1,"a":2}`,
		`{"a":{"b":1,"b":1}}`, `{"a":"\u0000"}`, "{\"a\":\"\x00\"}", `{"\u0000":1}`, "\"\xff\"", `'a'`,
		`{a:1}`, `NaN`, `[1 2]`, strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
	} {
		if _, err := decodeJSON([]byte(in)); err != errInvalidJSON {
			t.Errorf("decodeJSON(%.40q) err = %v, want errInvalidJSON", in, err)
		}
	}
}

func TestDecodeForm(t *testing.T) {
	m, err := decodeForm([]byte("a=1+2&b=%2B%26&c&=e&&d=%C3%A9"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1 2", "b": "+&", "c": "", "": "e", "d": "é"}
	if jm, _ := json.Marshal(m); string(jm) != mustJSON(want) {
		t.Fatalf("form %s", jm)
	}
	for _, in := range []string{"a=%", "a=%zz", "a=%00", "a=%ff", "a=1&a=2"} {
		if _, err := decodeForm([]byte(in)); err != errInvalidForm {
			t.Errorf("decodeForm(%q) err = %v", in, err)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSchemaMessages(t *testing.T) {
	s := schema{fields: []field{required("a", tString), optional("b", tBool), required("c", tEmail), optional("d", tNonEmptyString)}}
	err := s.check("body", true, map[string]any{"a": json.Number("1"), "b": "x", "c": "nope", "d": ""})
	want := "[body.a] Invalid input: expected string, received number; [body.b] Invalid input: expected boolean, received string; " +
		"[body.c] Invalid email address; [body.d] Too small: expected string to have >=1 characters"
	if ae, ok := err.(*apiError); !ok || ae.Message != want || ae.Code != "VALIDATION_ERROR" || ae.Status != 400 {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := s.check("body", true, map[string]any{"a": "x", "c": "a@b.co"}); err != nil {
		t.Fatal(err)
	}
	if err := (schema{optional: true}).check("body", false, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimitPath(t *testing.T) {
	for raw, want := range map[string]string{
		"/api/auth/sign-in/email":              "/sign-in/email",
		"//api/auth/sign-in/email":             "/sign-in/email",
		"/api/auth//sign-in//email/":           "/sign-in/email",
		"/API/Auth/Sign-In/Email":              "/sign-in/email",
		"/api/auth/sign-in%2Femail":            "/sign-in/email",
		"/api/auth/sign-in%252Femail":          "/sign-in/email",
		"/api/auth/./sign-in/../sign-in/email": "/sign-in/email",
		`/api/auth\sign-in\email`:              "/sign-in/email",
		"/api/auth/sign-in/email?x=1":          "/sign-in/email",
		"/api/auth/sign-in/email;jsessionid=1": "/sign-in/email",
		"/api/auth":                            "/",
		"/api/authx/sign-in":                   "/api/authx/sign-in",
		"/other":                               "/other",
	} {
		if got := rateLimitPath(raw, "/api/auth"); got != want {
			t.Errorf("rateLimitPath(%q) = %q, want %q", raw, got, want)
		}
	}
	for path, want := range map[string]rateRule{
		"/sign-in/email": ruleSensitive, "/sign-up/email": ruleSensitive, "/change-password": ruleSensitive,
		"/change-email": ruleSensitive, "/request-password-reset": ruleMail, "/send-verification-email": ruleMail,
		"/forget-password": ruleMail, "/get-session": ruleDefault, "/request-password-reset/x": ruleDefault,
	} {
		if got := ruleFor(path); got != want {
			t.Errorf("ruleFor(%q) = %v, want %v", path, got, want)
		}
	}
	if ruleDefault != (rateRule{60 * time.Second, 100}) || ruleSensitive != (rateRule{10 * time.Second, 3}) || ruleMail != (rateRule{60 * time.Second, 3}) {
		t.Fatal("rule figures changed")
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		remote, xff string
		want        string // "" = fail closed
	}{
		{"198.51.100.1", "203.0.113.5", "198.51.100.1"},      // untrusted socket: header ignored
		{"::ffff:198.51.100.1", "", "198.51.100.1"},          // mapped socket address
		{"127.0.0.1", "spoof, 198.51.100.7", "198.51.100.7"}, // right-most untrusted hop
		{"127.0.0.1", "198.51.100.7, 10.0.0.2, 10.0.0.3", "198.51.100.7"},
		{"127.0.0.1", "::ffff:192.0.2.1", "192.0.2.1"},
		{"127.0.0.1", "", ""},                      // proxy sent nothing
		{"127.0.0.1", "10.0.0.2", ""},              // only proxies
		{"127.0.0.1", "198.51.100.7, garbage", ""}, // garbage right of the client
		{"127.0.0.1", "fe80::1%eth0", ""},
		// Proxies that append the client's port.
		{"127.0.0.1", "203.0.113.5:4711", "203.0.113.5"},
		{"127.0.0.1", "[2001:db8::5]:4711", "2001:db8::5"},
		{"127.0.0.1", "[2001:db8::5]", "2001:db8::5"},
		{"127.0.0.1", "spoof, 203.0.113.5:4711, 10.0.0.2:80", "203.0.113.5"},
		{"127.0.0.1", "[::ffff:192.0.2.1]:1", "192.0.2.1"},
		{"127.0.0.1", "203.0.113.5:", ""},
		{"127.0.0.1", "203.0.113.5:99999", ""},
		{"127.0.0.1", "203.0.113.5:0", ""},
		{"127.0.0.1", "[2001:db8::5]x", ""},
		{"127.0.0.1", "[2001:db8::5", ""},
		{"127.0.0.1", "[fe80::1%eth0]:80", ""},
	} {
		got, ok := clientIP(ip(tc.remote), tc.xff, "", trusted)
		if (tc.want == "" && ok) || (tc.want != "" && (!ok || got.String() != tc.want)) {
			t.Errorf("clientIP(%s, %q) = %v %v, want %q", tc.remote, tc.xff, got, ok, tc.want)
		}
	}
}

// RFC 7239 Forwarded, alone and together with X-Forwarded-For.
func TestClientIP_Forwarded(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		fwd, xff string
		want     string // "" = fail closed
	}{
		{"for=203.0.113.5", "", "203.0.113.5"},
		{"For=203.0.113.5;proto=https;by=10.0.0.1", "", "203.0.113.5"},
		{`for="[2001:db8::5]:4711"`, "", "2001:db8::5"},
		{`for="[2001:db8::5]"`, "", "2001:db8::5"},
		{`for="203.0.113.5:4711"`, "", "203.0.113.5"},
		{`for="203.0.113.5:_port1"`, "", "203.0.113.5"},
		{"for=198.51.100.1, for=203.0.113.5, for=10.0.0.2", "", "203.0.113.5"},
		{"for=198.51.100.1,for=203.0.113.5", "", "203.0.113.5"},
		{`proto=https;host="a,b;c", for=203.0.113.5`, "", "203.0.113.5"},
		{`for="\[2001:db8::5\]:1"`, "", "2001:db8::5"},
		// Unknown and obfuscated nodes are never skipped: left of them is
		// the client's own text.
		{"for=198.51.100.1, for=unknown", "", ""},
		{"for=198.51.100.1, for=_hidden", "", ""},
		{"for=198.51.100.1, proto=https", "", ""},
		{"for=10.0.0.2", "", ""},
		{`for="2001:db8::5]"`, "", ""},
		{"for=garbage", "", ""},
		// Both headers: they must agree.
		{"for=203.0.113.5", "203.0.113.5:1234", "203.0.113.5"},
		{"for=198.51.100.9", "203.0.113.5", ""},
		{"for=unknown", "203.0.113.5", ""},
	} {
		got, ok := clientIP(netip.MustParseAddr("127.0.0.1"), tc.xff, tc.fwd, trusted)
		if (tc.want == "" && ok) || (tc.want != "" && (!ok || got.String() != tc.want)) {
			t.Errorf("clientIP(Forwarded %q, X-Forwarded-For %q) = %v %v, want %q", tc.fwd, tc.xff, got, ok, tc.want)
		}
	}
	// From an untrusted socket neither header counts.
	if got, ok := clientIP(netip.MustParseAddr("198.51.100.1"), "", "for=203.0.113.5", trusted); !ok || got.String() != "198.51.100.1" {
		t.Errorf("untrusted socket: %v %v", got, ok)
	}
}

func TestRateKeyIP(t *testing.T) {
	key := rateKeyIP(netip.MustParseAddr("2001:DB8::1"))
	if key != "2001:0db8:0000:0000:0000:0000:0000:0000" {
		t.Fatalf("key %s", key)
	}
	for _, s := range []string{"2001:db8:0:0::2", "2001:db8::ffff:1:2:3", "2001:0db8:0000:0000:abcd::"} {
		if k := rateKeyIP(netip.MustParseAddr(s)); k != key {
			t.Errorf("%s keyed %s", s, k)
		}
	}
	if k := rateKeyIP(netip.MustParseAddr("2001:db8:0:1::1")); k == key {
		t.Error("another /64 shares the key")
	}
	if k := rateKeyIP(netip.MustParseAddr("192.0.2.1")); k != "192.0.2.1" {
		t.Errorf("ipv4 key %s", k)
	}
}

func TestURLHelpers(t *testing.T) {
	for _, tc := range []struct{ base, ref, k, v, want string }{
		{testBaseURL, "/reset", "token", "abc", "http://localhost:8100/reset?token=abc"},
		{testBaseURL, "/reset?a=b c&token=old&token=x", "token", "t", "http://localhost:8100/reset?a=b+c&token=t"},
		{testBaseURL, "https://trusted.test/cb#frag", "error", "INVALID_TOKEN", "https://trusted.test/cb?error=INVALID_TOKEN#frag"},
		{testBaseURL, "", "error", "INVALID_TOKEN", "http://localhost:8100/api/auth/error?error=INVALID_TOKEN"},
	} {
		if got := resolveWithParam(tc.base, tc.ref, tc.k, tc.v); got != tc.want {
			t.Errorf("resolveWithParam(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"/x": "/x?error=E", "/x?y=1": "/x?y=1&error=E", "/x?": "/x?error=E", "/x?y=1&": "/x?y=1&error=E", "/x#f": "/x?error=E#f",
	} {
		if got := appendQueryParam(in, "error", "E"); got != want {
			t.Errorf("appendQueryParam(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserJSON_EscapesLikeJSONStringify(t *testing.T) {
	w := &jw{}
	w.str("a\"b\\c\n\t\x01<>&\u2028é\xff")
	if got := string(w.b); got != `"a\"b\\c\n\t\u0001<>&`+"\u2028"+`é\ufffd"` {
		t.Fatalf("escaped %s", got)
	}
	var back string
	if err := json.Unmarshal(w.b, &back); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{BaseURL: testBaseURL, Secret: []byte("s")}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := Options{BaseURL: "localhost:8100", BasePath: "api/", TrustedProxies: []string{"10.0.0.0/33", "nope"}, BodyLimit: -1}.Validate()
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"BaseURL", "Secret", "BasePath", "10.0.0.0/33", "nope", "BodyLimit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}
