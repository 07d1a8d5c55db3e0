package httpfiber

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// signUpEmail registers email and returns it, for signIn.
func (h *harness) signUpEmail(email string) string {
	h.t.Helper()
	h.signUp(email)
	return email
}

func cacheHarness(t *testing.T, opts ...func(*Options)) *harness {
	t.Helper()
	return newHarness(t, harnessConfig{opts: func(o *Options) {
		o.CookieCacheMaxAge = 300 * time.Second
		for _, f := range opts {
			f(o)
		}
	}})
}

// sessionData decodes the session_data cookie the response set.
func sessionData(t *testing.T, r resp) (outer struct {
	Session   map[string]any `json:"session"`
	ExpiresAt int64          `json:"expiresAt"`
	Signature string         `json:"signature"`
}, attrs string) {
	t.Helper()
	c := r.cookie("better-auth.session_data")
	nv, attrs, _ := strings.Cut(c, ";")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(nv, "better-auth.session_data="))
	if err != nil || json.Unmarshal(raw, &outer) != nil {
		t.Fatalf("session_data %q is not the compact format: %v", c, err)
	}
	return outer, attrs
}

func TestCookieCache_Off(t *testing.T) {
	h := newHarness(t)
	r, jar := h.signIn(h.signUpEmail("off@example.com"))
	if c := r.cookie("better-auth.session_data"); c != "" {
		t.Fatalf("cache off, yet sign-in set %q", c)
	}
	// A cache left from when it was on is expired, chunks included, even
	// without a session: better-auth does so.
	for _, cookie := range []string{jar, ""} {
		stray := "better-auth.session_data=abc; better-auth.session_data.0=x; better-auth.session_data.1=y; better-auth.session_data.01=z"
		if cookie != "" {
			stray = cookie + "; " + stray
		}
		r = h.get("/get-session", "Cookie", stray)
		wantStatus(t, r, 200)
		for _, n := range []string{"better-auth.session_data", "better-auth.session_data.0", "better-auth.session_data.1"} {
			if c := r.cookie(n); !strings.HasPrefix(c, n+"=; Max-Age=0;") {
				t.Fatalf("with session %v: %s not expired: %v", cookie != "", n, r.cookies)
			}
		}
		if c := r.cookie("better-auth.session_data.01"); c != "" {
			t.Fatalf("a non-chunk name was touched: %q", c)
		}
	}
}

func TestCookieCache_ServesGetSessionWithoutTheStore(t *testing.T) {
	h := cacheHarness(t)
	r := h.post("/sign-up/email", `{"name":"Zoë \"Q\"\u2028","email":"cache@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	outer, attrs := sessionData(t, r)
	if attrs != " Max-Age=300; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("session_data attributes %q", attrs)
	}
	if want := t0.Add(300 * time.Second).UnixMilli(); outer.ExpiresAt != want {
		t.Fatalf("expiresAt %d, want %d", outer.ExpiresAt, want)
	}
	if outer.Session["version"] != "1" || outer.Session["updatedAt"] != float64(t0.UnixMilli()) {
		t.Fatalf("payload %v", outer.Session)
	}
	jar := r.jar()
	fromDB := h.get("/get-session?disableCookieCache=true", "Cookie", jar)
	wantStatus(t, fromDB, 200)

	h.sessions.down.Store(true)
	cached := h.get("/get-session", "Cookie", jar)
	wantBody(t, cached, 200, fromDB.body)
	wantNoStore(t, cached)
	if len(cached.cookies) != 0 {
		t.Fatalf("a cached answer set cookies: %v", cached.cookies)
	}
	// disableCookieCache: any non-empty value, "false" included, bypasses it.
	for _, q := range []string{"true", "false", "0"} {
		wantStatus(t, h.get("/get-session?disableCookieCache="+q, "Cookie", jar), http.StatusServiceUnavailable)
	}
}

func TestCookieCache_RefusedCachesFallBackToTheDatabase(t *testing.T) {
	h := cacheHarness(t)
	r, jar := h.signIn(h.signUpEmail("a@example.com"))
	_, jarB := h.signIn(h.signUpEmail("b@example.com"))
	dataA := r.cookie("better-auth.session_data")
	dataA, _, _ = strings.Cut(dataA, ";")
	tokenA, _, _ := strings.Cut(jar, ";")
	tokenB, _, _ := strings.Cut(jarB, ";")

	expectDB := func(t *testing.T, cookie, wantEmail string) resp {
		t.Helper()
		h.sessions.down.Store(true)
		if r := h.get("/get-session", "Cookie", cookie); r.status != http.StatusServiceUnavailable {
			t.Fatalf("answered without the store: %d %s", r.status, r.body)
		}
		h.sessions.down.Store(false)
		r := h.get("/get-session", "Cookie", cookie)
		wantStatus(t, r, 200)
		wantUser(t, r.json(t)["user"], wantEmail)
		return r
	}
	t.Run("another session's cache", func(t *testing.T) {
		r := expectDB(t, tokenB+"; "+dataA, "b@example.com")
		// The stale cache is replaced by this session's.
		outer, _ := sessionData(t, r)
		if outer.Session["user"].(map[string]any)["email"] != "b@example.com" {
			t.Fatalf("cache rewritten with %v", outer.Session["user"])
		}
	})
	t.Run("tampered", func(t *testing.T) {
		v := strings.TrimPrefix(dataA, "better-auth.session_data=")
		raw, _ := base64.RawURLEncoding.DecodeString(v)
		forged := strings.Replace(string(raw), `"emailVerified":false`, `"emailVerified":true`, 1)
		r := expectDB(t, tokenA+"; better-auth.session_data="+base64.RawURLEncoding.EncodeToString([]byte(forged)), "a@example.com")
		if r.json(t)["user"].(map[string]any)["emailVerified"] != false {
			t.Fatal("the forged field reached the answer")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, v := range []string{"%%%", "e30", "bnVsbA", strings.Repeat("A", 5000)} {
			expectDB(t, tokenA+"; better-auth.session_data="+v, "a@example.com")
		}
	})
	t.Run("expired", func(t *testing.T) {
		h.clock.Advance(301 * time.Second)
		defer h.clock.Advance(-301 * time.Second)
		expectDB(t, tokenA+"; "+dataA, "a@example.com")
	})
	t.Run("another version", func(t *testing.T) {
		h2 := cacheHarness(t, func(o *Options) { o.CookieCacheVersion = "2" })
		r, _ := h2.signIn(h2.signUpEmail("v@example.com"))
		outer, _ := sessionData(t, r)
		if outer.Session["version"] != "2" {
			t.Fatalf("version %v", outer.Session["version"])
		}
		// h shares nothing with h2 but the secret: h's version is "1".
		h.sessions.down.Store(true)
		defer h.sessions.down.Store(false)
		if r := h.get("/get-session", "Cookie", r.jar()); r.status != http.StatusServiceUnavailable {
			t.Fatalf("a version 2 cache answered a version 1 server: %d %s", r.status, r.body)
		}
	})
}

func TestCookieCache_DontRememberAndRefresh(t *testing.T) {
	h := cacheHarness(t)
	email := h.signUpEmail("dr@example.com")
	r := h.post("/sign-in/email", `{"email":"`+email+`","password":"`+testPass+`","rememberMe":false}`)
	wantStatus(t, r, 200)
	outer, attrs := sessionData(t, r)
	if attrs != " Path=/; HttpOnly; SameSite=Lax" || outer.ExpiresAt != t0.Add(60*time.Second).UnixMilli() {
		t.Fatalf("don't-remember cache: attributes %q, expiresAt %d", attrs, outer.ExpiresAt)
	}
	// Read from the database, a don't-remember session gets no new cache.
	r = h.get("/get-session?disableCookieCache=1", "Cookie", r.jar())
	wantStatus(t, r, 200)
	if c := r.cookie("better-auth.session_data"); c != "" {
		t.Fatalf("don't-remember get-session set %q", c)
	}

	// A refresh rewrites the cache with the new expiry.
	_, jar := h.signIn(email)
	h.clock.Advance(25 * time.Hour)
	r = h.get("/get-session", "Cookie", jar)
	wantStatus(t, r, 200)
	outer, _ = sessionData(t, r)
	if got := outer.Session["session"].(map[string]any)["expiresAt"]; got != h.clock.Now().Add(7*24*time.Hour).Format(jsonDate) {
		t.Fatalf("refreshed cache holds expiresAt %v", got)
	}
}

func TestCookieCache_UpdateUserRewritesIt(t *testing.T) {
	h := cacheHarness(t)
	_, jar := h.signIn(h.signUpEmail("upd@example.com"))
	r := h.post("/update-user", `{"name":"New name"}`, "Cookie", jar)
	wantStatus(t, r, 200)
	outer, _ := sessionData(t, r)
	if outer.Session["user"].(map[string]any)["name"] != "New name" {
		t.Fatalf("cache after update-user: %v", outer.Session["user"])
	}
}

func TestCookieCache_ChunksLongSessions(t *testing.T) {
	h := cacheHarness(t)
	// Long enough for two cookies, short enough for maxCacheValue.
	long := strings.Repeat("n", 2800)
	r := h.post("/sign-up/email", `{"name":"`+long+`","email":"long@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	var chunks []string
	for _, c := range r.cookies {
		if strings.HasPrefix(c, "better-auth.session_data") {
			chunks = append(chunks, c)
			if len(c) > 4050 { // better-auth's per-cookie ceiling
				t.Fatalf("chunk of %d bytes", len(c))
			}
		}
	}
	if len(chunks) != 2 || !strings.HasPrefix(chunks[0], "better-auth.session_data.0=") || !strings.HasPrefix(chunks[1], "better-auth.session_data.1=") {
		t.Fatalf("want chunks .0 .1, got %d: %v", len(chunks), chunks)
	}
	jar := r.jar()
	h.sessions.down.Store(true)
	r = h.get("/get-session", "Cookie", jar)
	h.sessions.down.Store(false)
	wantStatus(t, r, 200)
	if r.json(t)["user"].(map[string]any)["name"] != long {
		t.Fatal("the chunked cache did not round-trip")
	}

	// Shortened, the cache fits one cookie and the stale chunks expire.
	r = h.post("/update-user", `{"name":"short"}`, "Cookie", jar)
	wantStatus(t, r, 200)
	for _, n := range []string{".0", ".1"} {
		if c := r.cookie("better-auth.session_data" + n); !strings.Contains(c, "Max-Age=0") {
			t.Fatalf("stale chunk %s: %q", n, c)
		}
	}
	if c := r.cookie("better-auth.session_data"); c == "" || strings.Contains(c, "Max-Age=0") {
		t.Fatalf("new cache %q", c)
	}
}

// A revoked session still shows in get-session while its cache lasts (as in
// better-auth), but cannot act: session routes read the database.
func TestCookieCache_RevokedSessionCannotAct(t *testing.T) {
	h := cacheHarness(t)
	_, jar := h.signIn(h.signUpEmail("revoked@example.com"))
	_, other := h.signIn("revoked@example.com")
	wantStatus(t, h.post("/revoke-other-sessions", `{}`, "Cookie", other), 200)

	if r := h.get("/get-session", "Cookie", jar); r.status != 200 || r.body == "null" {
		t.Fatalf("the cache did not answer for the revoked session: %d %s", r.status, r.body)
	}
	wantError(t, h.post("/update-user", `{"name":"Mallory"}`, "Cookie", jar), 401, "UNAUTHORIZED", "Unauthorized")
	wantError(t, h.get("/list-sessions", "Cookie", jar), 401, "UNAUTHORIZED", "Unauthorized")
	r := h.get("/get-session?disableCookieCache=true", "Cookie", jar)
	wantBody(t, r, 200, "null")
}

// A data-URL image or a long name made up to 100 chunks, some 400 KB of
// cookies, which the browser sends back to a server that reads 8 KiB of
// headers: 431 on every request. Such a session is not cached, and the cache
// it had is expired.
func TestCookieCache_SkipsLargeSessions(t *testing.T) {
	h := cacheHarness(t)
	_, jar := h.signIn(h.signUpEmail("big@example.com"))
	if !strings.Contains(jar, "better-auth.session_data=") {
		t.Fatalf("no cache to start from: %s", jar)
	}
	image := "data:image/png;base64," + strings.Repeat("A", 40_000)
	r := h.post("/update-user", `{"image":"`+image+`"}`, "Cookie", jar)
	wantStatus(t, r, 200)
	size := 0
	for _, c := range r.cookies {
		size += len(c)
		if strings.HasPrefix(c, "better-auth.session_data") && !strings.Contains(c, "Max-Age=0") {
			t.Fatalf("a %d-byte session was cached: %.100s…", len(image), c)
		}
	}
	if c := r.cookie("better-auth.session_data"); !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("the stale cache was not expired: %q", c)
	}
	if size > readBufferSize/4 {
		t.Fatalf("%d bytes of Set-Cookie", size)
	}
	token := ""
	for _, part := range strings.Split(jar, "; ") {
		if strings.HasPrefix(part, "better-auth.session_token=") {
			token = part
		}
	}
	r = h.get("/get-session", "Cookie", token)
	wantStatus(t, r, 200)
	if r.json(t)["user"].(map[string]any)["image"] != image {
		t.Fatal("get-session lost the image")
	}
	if c := r.cookie("better-auth.session_data"); c != "" && !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("get-session cached the large session: %.100s…", c)
	}

	r = h.post("/sign-up/email", `{"name":"`+strings.Repeat("n", 6000)+`","email":"long-name@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	if c := r.cookie("better-auth.session_data"); c != "" {
		t.Fatalf("a long name was cached: %.100s…", c)
	}
	if c := r.cookie("better-auth.session_data.0"); c != "" {
		t.Fatalf("a long name was cached in chunks: %.100s…", c)
	}
}
