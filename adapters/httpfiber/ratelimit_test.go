package httpfiber

import (
	"net/netip"
	"testing"
	"time"
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
