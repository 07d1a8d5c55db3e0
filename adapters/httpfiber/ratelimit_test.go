package httpfiber

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

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
		"/two-factor/verify-totp": ruleSensitive, "/two-factor/send-otp": ruleSensitive,
	} {
		if got := ruleFor(path, ruleDefault); got != want {
			t.Errorf("ruleFor(%q) = %v, want %v", path, got, want)
		}
	}
	if ruleDefault != (rateRule{10 * time.Second, 100}) || ruleSensitive != (rateRule{10 * time.Second, 3}) || ruleMail != (rateRule{60 * time.Second, 3}) {
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

// FuzzClientIP: whatever a trusted proxy forwards, the client address is
// never one of the trusted proxies, and a request with only one of the two
// headers resolves as it would alone.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.5:4711", ""}, {"[2001:db8::5]:4711, 10.0.0.1", ""}, {"", `for="[2001:db8::5]:1";proto=https, for=10.0.0.2`},
		{"", `for=unknown, for="_x:_y"`}, {"198.51.100.1", "for=198.51.100.1"}, {"", `for="\"[::1]:1"`}, {"[", `for="`},
	} {
		f.Add(s[0], s[1])
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	proxy := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		a, ok := clientIP(proxy, xff, fwd, trusted)
		if !ok {
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() || inPrefixes(a, trusted) {
			t.Fatalf("clientIP(%q, %q) = %v", xff, fwd, a)
		}
		if x, okX := clientIP(proxy, xff, "", trusted); xff != "" && len(splitList(xff)) > 0 && (!okX || x != a) {
			t.Fatalf("X-Forwarded-For %q alone gives %v %v, with Forwarded %q %v", xff, x, okX, fwd, a)
		}
	})
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) { o.RateLimitEnabled = true }})
	h.signUp("alice@example.com") // one sign-up of three
	signIn := func(path string) resp {
		return h.do("POST", path, `{"email":"alice@example.com","password":"wrong-password"}`, "Origin", testOrigin)
	}
	for i := 0; i < 3; i++ {
		wantStatus(t, signIn("/api/auth/sign-in/email?attempt="+strconv.Itoa(i)), 401)
	}
	r := signIn("/api/auth/sign-in/email?different=query")
	wantBody(t, r, 429, `{"message":"Too many requests. Please try again later."}`)
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("content-type %q", r.header.Get("Content-Type"))
	}
	if n, err := strconv.Atoi(r.header.Get("X-Retry-After")); err != nil || n < 1 || n > 10 || r.header.Get("Retry-After") != "" {
		t.Fatalf("X-Retry-After %q Retry-After %q", r.header.Get("X-Retry-After"), r.header.Get("Retry-After"))
	}
	for _, variant := range []string{"//api/auth/sign-in/email", "/api/auth//sign-in/email", "/api/auth/sign-in/email/",
		"/API/AUTH/SIGN-IN/EMAIL", "/api/auth/sign-in%2Femail", "/api/auth/./sign-in/email", "/api/auth/sign-in/%65mail"} {
		if r := signIn(variant); r.status != 429 {
			t.Errorf("variant %s escaped the bucket: %d", variant, r.status)
		}
	}
	if r := h.do("POST", "/api/auth/sign-in/email", `{}`, "X-Api-Key", "bogus", "X-Forwarded-For", "203.0.113.9"); r.status != 429 {
		t.Errorf("headers bypassed the limiter: %d", r.status)
	}
	wantStatus(t, h.do("GET", "/api/health", ""), 200)
	wantStatus(t, h.get("/ok"), 200) // other routes have their own budget

	h.clock.Advance(10 * time.Second)
	wantStatus(t, signIn("/api/auth/sign-in/email"), 401)

	t.Run("mail routes: 3 per minute", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			wantStatus(t, h.post("/request-password-reset", `{"email":"x@example.com"}`), 200)
		}
		r := h.post("/request-password-reset", `{"email":"x@example.com"}`)
		wantStatus(t, r, 429)
		if n, _ := strconv.Atoi(r.header.Get("X-Retry-After")); n < 50 || n > 60 {
			t.Fatalf("X-Retry-After %q", r.header.Get("X-Retry-After"))
		}
	})
	t.Run("default: 100 per 10 s", func(t *testing.T) {
		for i := 0; i < 100; i++ {
			wantStatus(t, h.get("/error"), 200)
		}
		wantStatus(t, h.get("/error"), 429)
	})
}

// RateLimitWindow and RateLimitMax replace the default rule only: the
// built-in stricter rules keep their own.
func TestRateLimit_ConfiguredDefaultRule(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) {
		o.RateLimitEnabled = true
		o.RateLimitWindow = 30 * time.Second
		o.RateLimitMax = 5
	}})
	for i := 0; i < 5; i++ {
		wantStatus(t, h.get("/error"), 200)
	}
	r := h.get("/error")
	wantStatus(t, r, 429)
	if got := r.header.Get("X-Retry-After"); got != "30" {
		t.Errorf("X-Retry-After %q, want 30", got)
	}
	h.clock.Advance(29 * time.Second)
	wantStatus(t, h.get("/error"), 429)
	h.clock.Advance(time.Second)
	wantStatus(t, h.get("/error"), 200)
	for i := 0; i < 3; i++ {
		wantStatus(t, h.post("/sign-in/email", `{}`), 400)
	}
	wantStatus(t, h.post("/sign-in/email", `{}`), 429)
}

func TestRateLimit_TrustedProxy(t *testing.T) {
	// app.Test connections come from 0.0.0.0, which plays the proxy here.
	h := newHarness(t, harnessConfig{opts: func(o *Options) {
		o.RateLimitEnabled = true
		o.TrustedProxies = []string{"0.0.0.0", "10.0.0.0/8"}
	}})
	send := func(xff string) int {
		return h.do("POST", "/api/auth/sign-in/email", `{}`, "X-Forwarded-For", xff).status
	}
	for i := 0; i < 3; i++ {
		if s := send("spoof-" + strconv.Itoa(i) + ", 198.51.100.7, 10.1.2.3"); s != 400 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	if s := send("198.51.100.7"); s != 429 {
		t.Fatalf("the client behind the proxy was not limited: %d", s)
	}
	if s := send("198.51.100.8"); s != 400 {
		t.Fatalf("another client shared the bucket: %d", s)
	}
	for i, ip := range []string{"2001:db8::1", "2001:DB8:0:0::2", "2001:db8:0:0:ffff::3"} {
		if s := send(ip); s != 400 {
			t.Fatalf("ipv6 request %d: %d", i, s)
		}
	}
	if s := send("2001:db8::abcd"); s != 429 {
		t.Fatalf("one /64 got more than 3 requests: %d", s)
	}
	// A trusted proxy that sends no usable header gets one shared,
	// fail-closed bucket, never "unlimited".
	for i := 0; i < 3; i++ {
		send("")
	}
	if s := send("not-an-ip"); s != 429 {
		t.Fatalf("no client address means no limit: %d", s)
	}
	// A proxy that appends the client's port: the client keeps its own
	// bucket (not the shared fail-closed one), whatever its port.
	for i := 0; i < 3; i++ {
		if s := send("203.0.113.5:" + strconv.Itoa(4000+i)); s != 400 {
			t.Fatalf("request %d with a port: %d", i, s)
		}
	}
	if s := send("203.0.113.5"); s != 429 {
		t.Fatalf("the client behind a port-appending proxy was not limited: %d", s)
	}
	forwarded := func(v string) int {
		return h.do("POST", "/api/auth/sign-in/email", `{}`, "Forwarded", v).status
	}
	for i := 0; i < 3; i++ {
		if s := forwarded(`for="[2001:db8:1::5]:` + strconv.Itoa(4000+i) + `"`); s != 400 {
			t.Fatalf("Forwarded request %d: %d", i, s)
		}
	}
	if s := send("[2001:db8:1::6]:80"); s != 429 {
		t.Fatalf("the /64 behind Forwarded was not limited: %d", s)
	}
}

// Keyed by raw path, each distinct path was a counter (a rate_limit row) of
// its own, holding the path and any token in it.
func TestRateLimit_KeysByRoute(t *testing.T) {
	rec := &keyRecorder{keys: map[string]int{}}
	h := newHarness(t, harnessConfig{
		opts:        func(o *Options) { o.RateLimitEnabled = true },
		wrapLimiter: func(l core.RateLimiter) core.RateLimiter { rec.RateLimiter = l; return rec },
	})
	const secret = "Secret-Reset-Token-0123456789"
	for i := range 500 {
		h.do("GET", fmt.Sprintf("/api/auth/no-such-route-%d-%s", i, strings.Repeat("x", 1000)), "")
		h.do("GET", fmt.Sprintf("/elsewhere/%d", i), "")
	}
	for i := range 3 {
		h.get(fmt.Sprintf("/reset-password/%s-%d?callbackURL=/done", secret, i))
	}
	h.post("/sign-in/email", `{"email":"a@example.com","password":"wrong-password"}`)
	rec.mu.Lock()
	keys := maps.Clone(rec.keys)
	rec.mu.Unlock()
	want := map[string]int{
		"0.0.0.0|" + unmatchedRoute:      1000,
		"0.0.0.0|/reset-password/:token": 3,
		"0.0.0.0|/sign-in/email":         1,
	}
	if !maps.Equal(keys, want) {
		t.Fatalf("limiter keys %v, want %v", keys, want)
	}
	// The unmatched paths share one default budget.
	if r := h.do("GET", "/api/auth/yet-another-path", ""); r.status != 429 {
		t.Fatalf("a new unknown path after 1000 others: %d, want 429", r.status)
	}
}

// keyRecorder notes every key the app hands its limiter.
type keyRecorder struct {
	core.RateLimiter
	mu   sync.Mutex
	keys map[string]int
}

func (k *keyRecorder) Consume(ctx context.Context, key string, window time.Duration, max int, now time.Time) (core.RateDecision, error) {
	k.mu.Lock()
	k.keys[key]++
	k.mu.Unlock()
	return k.RateLimiter.Consume(ctx, key, window, max, now)
}
