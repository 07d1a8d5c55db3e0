package httpfiber

import (
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
)

func TestGetSession(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")

	t.Run("no cookie", func(t *testing.T) {
		r := h.get("/get-session")
		wantBody(t, r, 200, "null")
		wantNoStore(t, r)
		if len(r.cookies) != 0 {
			t.Fatalf("set-cookie %v", r.cookies)
		}
	})
	t.Run("valid", func(t *testing.T) {
		r := h.get("/get-session", "Cookie", jar)
		wantStatus(t, r, 200)
		wantNoStore(t, r)
		m := r.json(t)
		wantKeys(t, m, "session", "user")
		wantKeys(t, m["session"].(map[string]any), sessionKeys...)
		wantUser(t, m["user"], "alice@example.com")
		if len(r.cookies) != 0 {
			t.Fatalf("fresh session re-set cookies: %v", r.cookies)
		}
	})
	t.Run("tampered variants are null and touch nothing", func(t *testing.T) {
		tok := strings.SplitN(strings.TrimPrefix(jar, "better-auth.session_token="), ".", 2)[0]
		other := cookie.NewCodec([]byte("another-secret-another-secret-another"), false)
		signed := strings.TrimPrefix(jar, "better-auth.session_token=")
		for name, c := range map[string]string{
			"unsigned":       tok,
			"flipped":        signed[:len(signed)-4] + "X%3D",
			"other secret":   other.Sign(tok),
			"short sig":      tok + ".abc%3D",
			"prefixed name":  "__Secure-better-auth.session_token=" + signed,
			"no value":       "",
			"sig not padded": tok + "." + strings.Repeat("A", 44),
		} {
			cookie := "better-auth.session_token=" + c
			if strings.HasPrefix(c, "__Secure-") {
				cookie = c
			}
			r := h.get("/get-session", "Cookie", cookie)
			if r.status != 200 || r.body != "null" || len(r.cookies) != 0 {
				t.Fatalf("%s: %d %s %v", name, r.status, r.body, r.cookies)
			}
		}
		// The session itself is untouched.
		wantStatus(t, h.get("/get-session", "Cookie", jar), 200)
	})
	t.Run("raw undecoded value is accepted", func(t *testing.T) {
		raw := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(jar, "%2F", "/"), "%2B", "+"), "%3D", "=")
		r := h.get("/get-session", "Cookie", raw)
		if r.body == "null" {
			t.Fatal("raw token.sig cookie was rejected")
		}
	})
	t.Run("POST", func(t *testing.T) {
		r := h.post("/get-session", "{}")
		wantError(t, r, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config")
		wantNoStore(t, r)
	})
	t.Run("refresh after updateAge", func(t *testing.T) {
		h.clock.Advance(25 * time.Hour)
		r := h.get("/get-session", "Cookie", jar)
		wantStatus(t, r, 200)
		if len(r.cookies) != 1 || !strings.Contains(r.cookies[0], "; Max-Age=604800; Path=/") {
			t.Fatalf("refresh cookies %v", r.cookies)
		}
		exp := r.json(t)["session"].(map[string]any)["expiresAt"]
		if exp != h.clock.Now().Add(7*24*time.Hour).Format(jsonDate) {
			t.Fatalf("expiresAt %v not slid", exp)
		}
		r = h.get("/get-session?disableRefresh=false", "Cookie", jar) // any value means true
		if len(r.cookies) != 0 {
			t.Fatalf("refreshed again: %v", r.cookies)
		}
	})
	t.Run("expired session is null and clears cookies", func(t *testing.T) {
		h.clock.Advance(8 * 24 * time.Hour)
		r := h.get("/get-session", "Cookie", jar)
		wantBody(t, r, 200, "null")
		wantCookiesCleared(t, r)
	})
}

func TestGetSession_OutageIs503NeverNull(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	h.sessions.down.Store(true)
	r := h.get("/get-session", "Cookie", jar)
	wantError(t, r, 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if len(r.cookies) != 0 {
		t.Fatalf("outage cleared cookies: %v", r.cookies)
	}
	if strings.Contains(r.body, "5432") || !strings.Contains(h.logs.String(), "connection refused") {
		t.Fatalf("cause leaked or not logged: body %s", r.body)
	}
	r = h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 503)
	r = h.post("/update-user", `{"name":"B"}`, "Cookie", jar)
	wantStatus(t, r, 503)
	h.sessions.down.Store(false)
	wantStatus(t, h.get("/get-session", "Cookie", jar), 200)
}

func TestSignOut(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")

	t.Run("untrusted origin keeps the session", func(t *testing.T) {
		r := h.do("POST", "/api/auth/sign-out", "", "Cookie", jar, "Origin", "https://evil.test")
		wantError(t, r, 403, "INVALID_ORIGIN", "Invalid origin")
		wantStatus(t, h.get("/get-session", "Cookie", jar), 200)
		if h.get("/get-session", "Cookie", jar).body == "null" {
			t.Fatal("session gone after a refused sign-out")
		}
	})
	t.Run("forged cookies delete nothing", func(t *testing.T) {
		tok := strings.SplitN(strings.TrimPrefix(jar, "better-auth.session_token="), ".", 2)[0]
		r := h.post("/sign-out", "", "Cookie", "better-auth.session_token="+tok+"; better-auth.session_token="+tok+".x")
		wantBody(t, r, 200, `{"success":true}`)
		if h.get("/get-session", "Cookie", jar).body == "null" {
			t.Fatal("an unsigned token signed the victim out")
		}
	})
	t.Run("signs out", func(t *testing.T) {
		r := h.post("/sign-out", "", "Cookie", jar)
		wantBody(t, r, 200, `{"success":true}`)
		wantCookiesCleared(t, r)
		wantNoStore(t, r)
		r = h.get("/get-session", "Cookie", jar)
		wantBody(t, r, 200, "null")
		wantCookiesCleared(t, r)
		wantError(t, h.get("/list-sessions", "Cookie", jar), 401, "UNAUTHORIZED", "Unauthorized")
	})
	t.Run("without a session", func(t *testing.T) {
		r := h.post("/sign-out", "")
		wantBody(t, r, 200, `{"success":true}`)
		wantCookiesCleared(t, r)
	})
}

func TestSessionManagement(t *testing.T) {
	h := newHarness(t)
	a := h.signUp("alice@example.com")
	_, b := h.signIn("alice@example.com")
	_, c := h.signIn("alice@example.com")

	r := h.get("/list-sessions", "Cookie", a)
	wantStatus(t, r, 200)
	wantNoStore(t, r) // every session token is in the body
	if n := strings.Count(r.body, `"userId"`); n != 3 {
		t.Fatalf("%d sessions listed: %s", n, r.body)
	}
	if !strings.HasPrefix(r.body, `[{"id":`) {
		t.Fatalf("list body %s", r.body)
	}

	t.Run("revoke another session", func(t *testing.T) {
		bTok := strings.SplitN(strings.TrimPrefix(b, "better-auth.session_token="), ".", 2)[0]
		r := h.post("/revoke-session", `{"token":"`+bTok+`"}`, "Cookie", a)
		wantBody(t, r, 200, `{"status":true}`)
		if len(r.cookies) != 0 {
			t.Fatalf("revoking another session touched our cookies: %v", r.cookies)
		}
		wantBody(t, h.get("/get-session", "Cookie", b), 200, "null")
		wantBody(t, h.post("/revoke-session", `{"token":"unknown"}`, "Cookie", a), 200, `{"status":true}`)
		wantError(t, h.post("/revoke-session", `{}`, "Cookie", a), 400, "VALIDATION_ERROR",
			"[body.token] Invalid input: expected string, received undefined")
	})
	t.Run("revoke other sessions", func(t *testing.T) {
		wantBody(t, h.post("/revoke-other-sessions", "", "Cookie", a), 200, `{"status":true}`)
		wantBody(t, h.get("/get-session", "Cookie", c), 200, "null")
		if h.get("/get-session", "Cookie", a).body == "null" {
			t.Fatal("current session revoked")
		}
	})
	t.Run("revoke own session clears cookies", func(t *testing.T) {
		aTok := strings.SplitN(strings.TrimPrefix(a, "better-auth.session_token="), ".", 2)[0]
		r := h.post("/revoke-session", `{"token":"`+aTok+`"}`, "Cookie", a)
		wantBody(t, r, 200, `{"status":true}`)
		wantCookiesCleared(t, r)
	})
	t.Run("revoke sessions", func(t *testing.T) {
		_, d := h.signIn("alice@example.com")
		r := h.post("/revoke-sessions", "", "Cookie", d)
		wantBody(t, r, 200, `{"status":true}`)
		wantCookiesCleared(t, r)
		wantBody(t, h.get("/get-session", "Cookie", d), 200, "null")
	})
	t.Run("stale cookie on a session route is 401 and cleared", func(t *testing.T) {
		r := h.post("/update-user", `{"name":"B"}`, "Cookie", a)
		wantError(t, r, 401, "UNAUTHORIZED", "Unauthorized")
		wantCookiesCleared(t, r)
	})
	t.Run("not fresh", func(t *testing.T) {
		_, e := h.signIn("alice@example.com")
		h.clock.Advance(25 * time.Hour)
		wantError(t, h.get("/list-sessions", "Cookie", e), 403, "SESSION_NOT_FRESH", "Session is not fresh")
	})
}

// POST /update-session (sess): authd has no session additional fields, so a
// valid request has nothing to update.
func TestUpdateSession(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/update-session", `[]`), 400, "VALIDATION_ERROR", "[body] Invalid input: expected record, received array")
	wantError(t, h.post("/update-session", `{}`), 401, "UNAUTHORIZED", "Unauthorized")
	for _, body := range []string{`{}`, `{"ipAddress":"1.2.3.4","expiresAt":"2099-01-01T00:00:00.000Z","userId":"x"}`} {
		wantBody(t, h.post("/update-session", body, "Cookie", jar), 400, `{"message":"No fields to update"}`)
	}
	for body, got := range map[string]string{"": "undefined", "null": "null", `"x"`: "string", "[1]": "array"} {
		wantError(t, h.post("/update-session", body, "Cookie", jar), 400, "VALIDATION_ERROR", "[body] Invalid input: expected record, received "+got)
	}
	// Nothing changed: the session still works, unextended.
	s := h.get("/get-session?disableRefresh=true", "Cookie", jar).json(t)["session"].(map[string]any)
	if s["ipAddress"] == "1.2.3.4" || s["expiresAt"] == "2099-01-01T00:00:00.000Z" {
		t.Fatalf("session changed: %v", s)
	}
}
