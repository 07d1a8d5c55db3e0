package httpfiber

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/jwtkeys"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core/tokens"
)

// withPlugins turns on the jwt plugin (keys in keys) and the bearer plugin.
func withPlugins(t testing.TB, keys *memory.KeyRepository, jwt, bearer bool) harnessConfig {
	return harnessConfig{opts: func(o *Options) {
		o.Bearer = bearer
		if !jwt {
			return
		}
		crypto, err := jwtkeys.New(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		o.Tokens = tokens.New(tokens.Deps{Keys: keys, Crypto: crypto, Clock: clockNow{}, Random: rand.Reader},
			tokens.DefaultOptions(testOrigin, testOrigin))
	}}
}

// clockNow is the wall clock: JWTs are checked against the real time by
// go-jose below, while the harness's fixed clock runs sessions.
type clockNow struct{}

func (clockNow) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func decodeSegment(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkJWT verifies jwt against the served /jwks and returns its claims.
func checkJWT(t *testing.T, h *harness, jwt string) map[string]any {
	t.Helper()
	r := h.get("/jwks")
	wantStatus(t, r, 200)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Header.KeyID
	if head := decodeSegment(t, strings.Split(jwt, ".")[0]); head != `{"alg":"EdDSA","kid":"`+kid+`"}` {
		t.Errorf("JWT header %s, want exactly alg and kid", head)
	}
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in /jwks %s", kid, r.body)
	}
	payload, err := jws.Verify(keys[0].Key.(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("JWT does not verify with /jwks: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJWTRoutesAreOffByDefault(t *testing.T) {
	h := newHarness(t)
	cookie := h.signUp("off@example.com")
	for _, p := range []string{"/token", "/jwks"} {
		if r := h.get(p, "Cookie", cookie); r.status != 404 {
			t.Errorf("%s with the plugin off: %d", p, r.status)
		}
	}
	if r := h.get("/get-session", "Cookie", cookie); r.header.Get("set-auth-jwt") != "" {
		t.Error("set-auth-jwt with the plugin off")
	}
}

func TestTokenAndJWKS(t *testing.T) {
	keys := memory.NewKeyRepository()
	h := newHarness(t, withPlugins(t, keys, true, false))
	cookie := h.signUp("jwt@example.com")
	if ks, _ := keys.List(t.Context()); len(ks) != 0 {
		t.Fatalf("a key exists before any token was asked for: %d", len(ks))
	}

	r := h.get("/token", "Cookie", cookie)
	wantStatus(t, r, 200)
	m := r.json(t)
	wantKeys(t, m, "token")
	if r.header.Get("set-auth-jwt") != "" || len(r.cookies) != 0 {
		t.Errorf("/token set headers: %v", r.header)
	}
	c := checkJWT(t, h, m["token"].(string))
	session := h.get("/get-session", "Cookie", cookie).json(t)
	user := session["user"].(map[string]any)
	if c["sub"] != user["id"] || c["iss"] != testOrigin || c["aud"] != testOrigin || c["exp"].(float64)-c["iat"].(float64) != 900 {
		t.Errorf("claims %v", c)
	}
	for k, v := range user {
		if c[k] != v {
			t.Errorf("claim %s = %v, want the user's %v", k, c[k], v)
		}
	}

	jwks := h.get("/jwks")
	want := regexp.MustCompile(`^\{"keys":\[\{"alg":"EdDSA","crv":"Ed25519","x":"[A-Za-z0-9_-]{43}","kty":"OKP","kid":"[A-Za-z0-9]{32}"\}\]\}$`)
	if !want.MatchString(jwks.body) {
		t.Errorf("/jwks %s", jwks.body)
	}
	if len(jwks.cookies) != 0 || jwks.header.Get("Cache-Control") != "" || jwks.header.Get("Pragma") != "" {
		t.Errorf("/jwks headers %v", jwks.header)
	}
	if ks, _ := keys.List(t.Context()); len(ks) != 1 {
		t.Errorf("%d keys after tokens and key sets, want 1", len(ks))
	}
}

func TestJWKSMakesTheFirstKey(t *testing.T) {
	keys := memory.NewKeyRepository()
	h := newHarness(t, withPlugins(t, keys, true, false))
	r := h.get("/jwks")
	if r.status != 200 || strings.Count(r.body, `"kid"`) != 1 {
		t.Fatalf("/jwks on an empty table: %d %s", r.status, r.body)
	}
}

func TestTokenNeedsASession(t *testing.T) {
	h := newHarness(t, withPlugins(t, memory.NewKeyRepository(), true, false))
	cookie := h.signUp("nosession@example.com")
	forged := strings.Replace(cookie, "session_token=", "session_token=x", 1)
	for _, hdr := range [][]string{nil, {"Cookie", forged}, {"Cookie", "better-auth.session_token=unsigned"}} {
		wantError(t, h.get("/token", hdr...), 401, "UNAUTHORIZED", "Unauthorized")
	}
	h.post("/sign-out", "", "Cookie", cookie)
	wantError(t, h.get("/token", "Cookie", cookie), 401, "UNAUTHORIZED", "Unauthorized")
	for _, p := range []string{"/sign-jwt", "/verify-jwt"} {
		if r := h.post(p, `{"payload":{}}`); r.status != 404 {
			t.Errorf("%s: %d, want 404 (server-only in better-auth)", p, r.status)
		}
	}
}

func TestGetSessionSetsAuthJWT(t *testing.T) {
	h := newHarness(t, withPlugins(t, memory.NewKeyRepository(), true, false))
	cookie := h.signUp("header@example.com")
	r := h.get("/get-session", "Cookie", cookie)
	wantStatus(t, r, 200)
	wantNoStore(t, r)
	if r.header.Get("Access-Control-Expose-Headers") != "set-auth-jwt" {
		t.Errorf("expose %q", r.header.Get("Access-Control-Expose-Headers"))
	}
	if c := checkJWT(t, h, r.header.Get("set-auth-jwt")); c["email"] != "header@example.com" {
		t.Errorf("claims %v", c)
	}
	// Merged with the names the CORS layer exposes.
	r = h.get("/get-session", "Cookie", cookie, "Origin", testOrigin)
	if got := r.header.Get("Access-Control-Expose-Headers"); got != "X-Retry-After, X-Request-Id, set-auth-jwt" {
		t.Errorf("expose with CORS %q", got)
	}
	if r := h.get("/get-session"); r.body != "null" || r.header.Get("set-auth-jwt") != "" || r.header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("without a session: %s %v", r.body, r.header)
	}
}

// signedToken is the session cookie's value as set-auth-token carries it.
func signedToken(t *testing.T, r resp) string {
	t.Helper()
	v := r.header.Get("set-auth-token")
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$`).MatchString(v) {
		t.Fatalf("set-auth-token %q", v)
	}
	return v
}

func TestSetAuthToken(t *testing.T) {
	h := newHarness(t, withPlugins(t, nil, false, true))
	r := h.post("/sign-up/email", `{"name":"B","email":"set@example.com","password":"`+testPass+`"}`)
	tok := signedToken(t, r)
	if got := r.header.Get("Access-Control-Expose-Headers"); got != "X-Retry-After, X-Request-Id, set-auth-token" {
		t.Errorf("expose %q", got)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(r.cookie("better-auth.session_token"), "better-auth.session_token="), ";")
	if dec, err := url.PathUnescape(v); err != nil || dec != tok {
		t.Errorf("set-auth-token %q is not the cookie's value %q", tok, v)
	}
	in, _ := h.signIn("set@example.com")
	signedToken(t, in)
	out := h.post("/sign-out", "", "Authorization", "Bearer "+tok)
	if out.header.Get("set-auth-token") != "" {
		t.Error("set-auth-token on sign-out")
	}
	if g := h.get("/get-session"); g.header.Get("set-auth-token") != "" {
		t.Error("set-auth-token without a session cookie")
	}
}

func TestBearerAuthenticates(t *testing.T) {
	h := newHarness(t, withPlugins(t, memory.NewKeyRepository(), true, true))
	a := h.post("/sign-up/email", `{"name":"A","email":"bearer-a@example.com","password":"`+testPass+`"}`)
	b := h.post("/sign-up/email", `{"name":"B","email":"bearer-b@example.com","password":"`+testPass+`"}`)
	aTok, bTok := signedToken(t, a), signedToken(t, b)
	raw, _, _ := strings.Cut(aTok, ".")
	user := func(r resp) string {
		t.Helper()
		if r.body == "null" {
			return "null"
		}
		return r.json(t)["user"].(map[string]any)["email"].(string)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(raw))
	urlSig := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	jwt := h.get("/token", "Cookie", a.jar()).json(t)["token"].(string)

	for _, tc := range []struct {
		name, authz, cookie, want string
	}{
		{"signed", "Bearer " + aTok, "", "bearer-a@example.com"},
		{"raw token, signed by the server", "Bearer " + raw, "", "bearer-a@example.com"},
		{"percent-encoded", "Bearer " + url.QueryEscape(aTok), "", "bearer-a@example.com"},
		{"scheme in any case, spaces trimmed", "bEaReR   " + aTok + "  ", "", "bearer-a@example.com"},
		{"bearer overrides the cookie", "Bearer " + bTok, a.jar(), "bearer-b@example.com"},
		{"tampered: the cookie counts", "Bearer " + raw + "x." + strings.SplitN(aTok, ".", 2)[1], b.jar(), "bearer-b@example.com"},
		{"foreign signature", "Bearer " + raw + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "", "null"},
		{"a JWT is not a bearer credential", "Bearer " + jwt, "", "null"},
		{"a JWT does not hide the cookie", "Bearer " + jwt, b.jar(), "bearer-b@example.com"},
		{"Basic is ignored", "Basic " + aTok, "", "null"},
		{"empty", "Bearer    ", b.jar(), "bearer-b@example.com"},
		// better-auth's HMAC check reads base64url too, but the cookie
		// needs the padded standard form: the session is lost.
		{"base64url signature passes the check, fails the cookie", "Bearer " + raw + "." + urlSig, b.jar(), "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Authorization", tc.authz}
			if tc.cookie != "" {
				hdr = append(hdr, "Cookie", tc.cookie)
			}
			if got := user(h.get("/get-session", hdr...)); got != tc.want {
				t.Errorf("get-session as %s, want %s", got, tc.want)
			}
		})
	}

	// Every session route: /token (a JWT for the bearer's user), list-sessions.
	if c := checkJWT(t, h, h.get("/token", "Authorization", "Bearer "+aTok).json(t)["token"].(string)); c["email"] != "bearer-a@example.com" {
		t.Errorf("/token with bearer: %v", c)
	}
	wantStatus(t, h.get("/list-sessions", "Authorization", "Bearer "+raw), 200)
}

func TestBearerOffIgnoresAuthorization(t *testing.T) {
	h := newHarness(t)
	r := h.post("/sign-up/email", `{"name":"A","email":"off-bearer@example.com","password":"`+testPass+`"}`)
	tok := r.json(t)["token"].(string)
	if g := h.get("/get-session", "Authorization", "Bearer "+tok); g.body != "null" {
		t.Errorf("bearer accepted with the plugin off: %s", g.body)
	}
	if r.header.Get("set-auth-token") != "" {
		t.Error("set-auth-token with the plugin off")
	}
}

// The origin check looks at the real request: bearer-only requests need no
// Origin, bearer plus any cookie does (plugins spec §3.4).
func TestBearerAndOriginChecks(t *testing.T) {
	h := newHarness(t, withPlugins(t, nil, false, true))
	r := h.post("/sign-up/email", `{"name":"A","email":"csrf@example.com","password":"`+testPass+`"}`)
	tok := signedToken(t, r)
	upd := func(hdr ...string) resp {
		return h.do("POST", "/api/auth/update-user", `{"name":"Z"}`, append([]string{"Authorization", "Bearer " + tok}, hdr...)...)
	}
	wantStatus(t, upd(), 200)
	wantStatus(t, upd("Origin", "https://evil.test"), 200)
	wantError(t, upd("Cookie", "theme=dark"), 403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	wantError(t, upd("Cookie", "theme=dark", "Origin", "https://evil.test"), 403, "INVALID_ORIGIN", "Invalid origin")

	out := h.do("POST", "/api/auth/sign-out", "", "Authorization", "Bearer "+tok)
	wantBody(t, out, 200, `{"success":true}`)
	if g := h.get("/get-session", "Authorization", "Bearer "+tok); g.body != "null" {
		t.Errorf("session still there after a bearer sign-out: %s", g.body)
	}
}

func TestRefreshingGetSessionCarriesBothHeaders(t *testing.T) {
	h := newHarness(t, withPlugins(t, memory.NewKeyRepository(), true, true))
	cookie := h.signUp("both@example.com")
	if r := h.get("/get-session", "Cookie", cookie); r.header.Get("set-auth-token") != "" {
		t.Error("set-auth-token on a get-session that set no session cookie")
	}
	h.clock.Advance(25 * time.Hour)
	r := h.get("/get-session", "Cookie", cookie)
	if r.header.Get("set-auth-jwt") == "" || r.header.Get("set-auth-token") == "" ||
		r.header.Get("Access-Control-Expose-Headers") != "set-auth-jwt, set-auth-token" {
		t.Errorf("refreshing get-session: %v", r.header)
	}
	// rememberMe=false: a browser-session cookie (no Max-Age) still counts.
	in := h.post("/sign-in/email", `{"email":"both@example.com","password":"`+testPass+`","rememberMe":false}`)
	signedToken(t, in)
}
