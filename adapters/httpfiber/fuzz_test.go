package httpfiber

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authd/authd/core"
)

// The seeds in testdata/fuzz run with every `go test`; `go test -fuzz`
// explores from them.

func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.co","password":"x"}`, `[`, `{"a":1,"a":2}`, "{\"a\":\"\x00\"}", `1e999999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data)
		if err == nil {
			if !json.Valid(data) || !utf8.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			checkClean(t, v, 0)
			// The schemas must answer anything decoded with nil or a 400.
			if err := signUpBody.check("body", true, v); err != nil && err.(*apiError).Status != 400 {
				t.Fatalf("schema answered %v", err)
			}
		} else if err != errInvalidJSON {
			t.Fatalf("unexpected error %v", err)
		}
		if m, err := decodeForm(data); err == nil {
			for k, v := range m {
				checkClean(t, k, 0)
				checkClean(t, v, 0)
			}
		}
	})
}

// checkClean asserts what decoding promises: valid UTF-8, no NUL, bounded
// depth.
func checkClean(t *testing.T, v any, depth int) {
	if depth > maxJSONDepth {
		t.Fatalf("depth %d", depth)
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) || strings.IndexByte(x, 0) >= 0 {
			t.Fatalf("unclean string %q", x)
		}
	case map[string]any:
		for k, e := range x {
			checkClean(t, k, depth)
			checkClean(t, e, depth+1)
		}
	case []any:
		for _, e := range x {
			checkClean(t, e, depth+1)
		}
	}
}

func FuzzParseSessionCookie(f *testing.F) {
	cc := newCookieCodec([]byte(testSecret), false)
	for _, s := range []string{
		"better-auth.session_token=" + cc.sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"),
		"better-auth.session_token=OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk=",
		`better-auth.session_token="a.b"; x=1`, ";=;better-auth.session_token=%", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, st := cc.readSigned(header, cookieSessionToken)
		if st != cookieVerified {
			return
		}
		// Only a value this secret signed can verify.
		again, st2 := cc.readSigned(cookieSessionToken+"="+cc.sign(v), cookieSessionToken)
		if st2 != cookieVerified || again != v {
			t.Fatalf("verified %q does not round-trip", v)
		}
		other := newCookieCodec([]byte("another secret entirely"), false)
		if _, st := other.readSigned(header, cookieSessionToken); st == cookieVerified {
			t.Fatalf("%q verifies under two secrets", header)
		}
	})
}

func FuzzValidateRedirect(f *testing.F) {
	for _, s := range append(append([]string{}, redirectAttacks...), redirectAccepted...) {
		f.Add(s)
	}
	p := newOriginPolicy(testBaseURL, []string{"https://trusted.test", "*.wild.test", "myapp://"})
	f.Fuzz(func(t *testing.T, u string) {
		if !p.trusted(u, true) {
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

func FuzzDecodeSessionData(f *testing.F) {
	srv := func(secret string) *server {
		return &server{cookies: newCookieCodec([]byte(secret), false), o: Options{CookieCacheVersion: "1"}}
	}
	s, other := srv(testSecret), srv("another secret entirely")
	sess, err := core.NewSession("sid", "tok", "uid", t0, time.Hour, "", "")
	if err != nil {
		f.Fatal(err)
	}
	user := core.RehydrateUser(core.UserRecord{ID: "uid", Name: "N", Email: "n@example.com", CreatedAt: t0, UpdatedAt: t0})
	valid := s.encodeSessionData(core.SessionView{Session: sess, User: user}, t0, t0.Add(time.Minute))
	for _, v := range []string{valid, valid + "==", valid[:len(valid)-3], "", "e30", "bnVsbA"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		v, ok := s.decodeSessionData(value, "tok", t0)
		if !ok {
			return
		}
		if v.Session.Token() != "tok" || v.User.ID() != v.Session.UserID() {
			t.Fatalf("accepted a cache for %q/%q", v.Session.Token(), v.User.ID())
		}
		if _, ok := other.decodeSessionData(value, "tok", t0); ok {
			t.Fatalf("%q verifies under two secrets", value)
		}
	})
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
