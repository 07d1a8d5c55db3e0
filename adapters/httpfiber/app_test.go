package httpfiber

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

func TestRouting_UnknownPathsAre404WithoutBody(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/auth/nope"},
		{"GET", "/api/auth/ok/"},             // trailing slash
		{"GET", "/api/auth//ok"},             // double slash
		{"GET", "//api/auth/ok"},             // leading double slash
		{"GET", "/api/auth/OK"},              // case
		{"GET", "/api/auth/sign-in/email"},   // wrong method
		{"HEAD", "/api/auth/ok"},             // better-auth has no HEAD routes
		{"GET", "/api/auth/sign-in%2Femail"}, // encoded slash
		{"GET", "/api/auth/./ok"},
		{"GET", "/api/auth/forget-password"},
		{"POST", "/api/auth/set-password"},
		{"GET", "/"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path, "")
			if r.status != 404 || r.body != "" || r.header.Get("Content-Type") != "" {
				t.Fatalf("got %d %q content-type %q, want bare 404", r.status, r.body, r.header.Get("Content-Type"))
			}
		})
	}
}

func TestOkAndHealth(t *testing.T) {
	h := newHarness(t)
	wantBody(t, h.get("/ok"), 200, `{"ok":true}`)
	wantBody(t, h.do("GET", "/api/health", ""), 200, `{"status":"ok"}`)
	wantBody(t, h.do("GET", "/api/ready", ""), 200, `{"status":"ok"}`)
	wantStatus(t, h.do("HEAD", "/api/health", ""), 200)
	wantStatus(t, h.do("HEAD", "/api/ready", ""), 200)
}

func TestMediaTypes(t *testing.T) {
	h := newHarness(t)
	t.Run("text/plain on sign-up lists both allowed types", func(t *testing.T) {
		r := h.post("/sign-up/email", "x", "Content-Type", "text/plain")
		wantError(t, r, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type "text/plain" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json`)
	})
	t.Run("form on sign-out is refused", func(t *testing.T) {
		r := h.post("/sign-out", "a=b", "Content-Type", "application/x-www-form-urlencoded")
		wantError(t, r, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type "application/x-www-form-urlencoded" is not allowed. Allowed types: application/json`)
	})
	t.Run("a JSON suffix type is not JSON", func(t *testing.T) {
		r := h.post("/sign-in/email", "{}", "Content-Type", "application/vnd.api+json")
		wantError(t, r, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type "application/vnd.api+json" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json`)
	})
	t.Run("a body without content type", func(t *testing.T) {
		r := h.post("/update-user", "{}", "Content-Type", "")
		wantError(t, r, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type is required. Allowed types: application/json`)
	})
	t.Run("charset parameter is fine", func(t *testing.T) {
		r := h.post("/sign-in/email", "{}", "Content-Type", "application/json; charset=utf-8")
		wantError(t, r, 400, "VALIDATION_ERROR", "[body.email] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined")
	})
}

func TestHostileBodies(t *testing.T) {
	h := newHarness(t)
	badJSON := []string{
		`{`, `{"email":"a@b.co",}`, `{"a":1}{"b":2}`, `{"email":"a@b.co","email":"b@b.co"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		"{\"name\":\"\xff\xfe\"}", `{"name":"a\u0000b"}`, "\x00", `nul`,
	}
	for _, path := range []string{"/sign-in/email", "/sign-up/email"} {
		for _, b := range badJSON {
			r := h.post(path, b)
			wantError(t, r, 400, "BAD_REQUEST", "Invalid JSON in request body")
		}
	}
	t.Run("non-objects", func(t *testing.T) {
		wantError(t, h.post("/sign-up/email", "null"), 400, "VALIDATION_ERROR",
			"[body] Invalid input: expected object, received null; [body] Invalid input: expected record, received null")
		wantError(t, h.post("/sign-in/email", `[1]`), 400, "VALIDATION_ERROR", "[body] Invalid input: expected object, received array")
		wantError(t, h.post("/sign-in/email", ""), 400, "VALIDATION_ERROR", "[body] Invalid input: expected object, received undefined")
		wantError(t, h.post("/update-user", `"x"`), 400, "VALIDATION_ERROR", "[body] Invalid input: expected record, received string")
		wantError(t, h.post("/sign-out", "null"), 400, "VALIDATION_ERROR", "[body] Invalid input: expected object, received null")
	})
	t.Run("wrong types", func(t *testing.T) {
		r := h.post("/sign-in/email", `{"email":5,"password":null,"rememberMe":"x"}`)
		wantError(t, r, 400, "VALIDATION_ERROR", "[body.email] Invalid input: expected string, received number; "+
			"[body.password] Invalid input: expected string, received null; [body.rememberMe] Invalid input: expected boolean, received string")
		r = h.post("/sign-up/email", `{"name":1e999,"email":"bad","password":""}`)
		wantError(t, r, 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received number; "+
			"[body.email] Invalid email address; [body.password] Too small: expected string to have >=1 characters")
		r = h.post("/sign-in/email", `{"email":{"$ne":1},"password":["a"]}`)
		wantError(t, r, 400, "VALIDATION_ERROR", "[body.email] Invalid input: expected string, received object; "+
			"[body.password] Invalid input: expected string, received array")
	})
	t.Run("hostile headers", func(t *testing.T) {
		r := h.post("/sign-in/email", `{"email":"a@b.co","password":"x"}`,
			"Cookie", "better-auth.session_token=%E0%A4%A; ;;=;\"", "Authorization", "Bearer \x01")
		if r.status >= 500 {
			t.Fatalf("malformed cookie answered %d", r.status)
		}
		r = h.post("/sign-in/email", `{"email":"a@b.co","password":"x"}`, "X-Forwarded-Host", strings.Repeat("a.", 3000))
		if r.status >= 500 {
			t.Fatalf("long X-Forwarded-Host answered %d", r.status)
		}
	})
}

var (
	userKeys    = []string{"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"}
	sessionKeys = []string{"id", "userId", "token", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"}
	jsDate      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	tokenRe     = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

func wantUser(t *testing.T, v any, email string) {
	t.Helper()
	u, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("user %v is not an object", v)
	}
	wantKeys(t, u, userKeys...)
	if u["email"] != email || u["image"] != nil || u["emailVerified"] != false {
		t.Fatalf("user %v", u)
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if !jsDate.MatchString(u[k].(string)) {
			t.Fatalf("%s %q is not a JS date", k, u[k])
		}
	}
}

func TestSignUp(t *testing.T) {
	h := newHarness(t)
	r := h.post("/sign-up/email", `{"name":"Alice","email":"Alice@Example.COM","password":"`+testPass+`","emailVerified":true,"role":"admin"}`)
	wantStatus(t, r, 200)
	m := r.json(t)
	wantKeys(t, m, "token", "user")
	wantUser(t, m["user"], "alice@example.com")
	tok := m["token"].(string)
	if !tokenRe.MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	want := "better-auth.session_token=" + newCookieCodec([]byte(testSecret), false).sign(tok) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
	if len(r.cookies) != 1 || r.cookies[0] != want {
		t.Fatalf("set-cookie %q\nwant %q", r.cookies, want)
	}
	wantNoStore(t, r)
	if !strings.HasPrefix(r.body, `{"token":"`+tok+`","user":{"id":"`) {
		t.Fatalf("body order %s", r.body)
	}

	t.Run("duplicate", func(t *testing.T) {
		r := h.post("/sign-up/email", `{"name":"A","email":"alice@example.com","password":"`+testPass+`"}`)
		wantError(t, r, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	})
	t.Run("short password", func(t *testing.T) {
		r := h.post("/sign-up/email", `{"name":"A","email":"b@example.com","password":"1234567"}`)
		wantError(t, r, 400, "PASSWORD_TOO_SHORT", "Password too short")
	})
	t.Run("form body", func(t *testing.T) {
		r := h.post("/sign-up/email", "name=Bob&email=bob%40example.com&password=correct+horse+battery",
			"Content-Type", "application/x-www-form-urlencoded")
		wantStatus(t, r, 200)
		wantUser(t, r.json(t)["user"], "bob@example.com")
		// Form values are strings, so a form rememberMe fails the schema.
		r = h.post("/sign-up/email", "name=C&email=c%40example.com&password=xxxxxxxxx&rememberMe=false",
			"Content-Type", "application/x-www-form-urlencoded")
		wantError(t, r, 400, "VALIDATION_ERROR", "[body.rememberMe] Invalid input: expected boolean, received string")
		r = h.post("/sign-up/email", "name=C&name=D&email=c%40example.com&password=xxxxxxxxx",
			"Content-Type", "application/x-www-form-urlencoded")
		wantError(t, r, 400, "BAD_REQUEST", "Invalid form data in request body")
	})
	t.Run("rememberMe false", func(t *testing.T) {
		r := h.post("/sign-up/email", `{"name":"D","email":"d@example.com","password":"`+testPass+`","rememberMe":false}`)
		wantStatus(t, r, 200)
		tok := r.json(t)["token"].(string)
		cc := newCookieCodec([]byte(testSecret), false)
		want := []string{
			"better-auth.session_token=" + cc.sign(tok) + "; Path=/; HttpOnly; SameSite=Lax",
			"better-auth.dont_remember=true.1Ue91JS%2BcwPpyhFiSTriJ9vlBOt6RG78rdQqJ%2BTjbEk%3D; Path=/; HttpOnly; SameSite=Lax",
		}
		if strings.Join(r.cookies, "|") != strings.Join(want, "|") {
			t.Fatalf("set-cookie %q\nwant %q", r.cookies, want)
		}
	})
}

func TestSignUp_RequireVerificationReturnsNoToken(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.RequireEmailVerification = true }})
	r := h.post("/sign-up/email", `{"name":"A","email":"a@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	m := r.json(t)
	if m["token"] != nil || len(r.cookies) != 0 {
		t.Fatalf("token %v cookies %v, want null and none", m["token"], r.cookies)
	}
	h.mailLink("a@example.com")
	r = h.post("/sign-in/email", `{"email":"a@example.com","password":"`+testPass+`"}`)
	wantError(t, r, 403, "EMAIL_NOT_VERIFIED", "Email not verified")
}

func TestSignIn(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")

	t.Run("plain", func(t *testing.T) {
		r := h.post("/sign-in/email", `{"email":"ALICE@example.com","password":"`+testPass+`"}`)
		wantStatus(t, r, 200)
		m := r.json(t)
		wantKeys(t, m, "redirect", "token", "user")
		if m["redirect"] != false || r.header.Get("Location") != "" {
			t.Fatalf("redirect %v location %q", m["redirect"], r.header.Get("Location"))
		}
		if !strings.HasPrefix(r.body, `{"redirect":false,"token":"`) {
			t.Fatalf("body order %s", r.body)
		}
		wantUser(t, m["user"], "alice@example.com")
		wantNoStore(t, r)
	})
	t.Run("callbackURL", func(t *testing.T) {
		r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`","callbackURL":"/dashboard?tab=a&b=c"}`)
		wantStatus(t, r, 200)
		m := r.json(t)
		wantKeys(t, m, "redirect", "token", "url", "user")
		if m["redirect"] != true || m["url"] != "/dashboard?tab=a&b=c" || r.header.Get("Location") != "/dashboard?tab=a&b=c" {
			t.Fatalf("redirect %v url %v location %q", m["redirect"], m["url"], r.header.Get("Location"))
		}
	})
	t.Run("form", func(t *testing.T) {
		r := h.post("/sign-in/email", "email=alice%40example.com&password=correct+horse+battery",
			"Content-Type", "application/x-www-form-urlencoded")
		wantStatus(t, r, 200)
	})
	t.Run("wrong password and unknown user look alike", func(t *testing.T) {
		wantError(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"nope-nope"}`),
			401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
		wantError(t, h.post("/sign-in/email", `{"email":"bob@example.com","password":"nope-nope"}`),
			401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	})
	t.Run("not an email", func(t *testing.T) {
		wantError(t, h.post("/sign-in/email", `{"email":"","password":""}`), 400, "INVALID_EMAIL", "Invalid email")
	})
	t.Run("a pre-set cookie never becomes the session", func(t *testing.T) {
		r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`,
			"Cookie", "better-auth.session_token=attacker.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D")
		wantStatus(t, r, 200)
		if tok := r.json(t)["token"].(string); tok == "attacker" || !tokenRe.MatchString(tok) {
			t.Fatalf("token %q", tok)
		}
	})
}

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
		other := newCookieCodec([]byte("another-secret-another-secret-another"), false)
		signed := strings.TrimPrefix(jar, "better-auth.session_token=")
		for name, c := range map[string]string{
			"unsigned":       tok,
			"flipped":        signed[:len(signed)-4] + "X%3D",
			"other secret":   other.sign(tok),
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

func TestUpdateUser(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")

	wantError(t, h.post("/update-user", `{"name":"B"}`), 401, "UNAUTHORIZED", "Unauthorized")
	r := h.post("/update-user", `{"name":"Bob","image":"https://img.test/a.png","emailVerified":true,"id":"x","role":"admin"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 1 || !strings.HasPrefix(r.cookies[0], strings.SplitN(jar, ";", 2)[0]+"; Max-Age=") {
		t.Fatalf("cookie not re-set: %v", r.cookies)
	}
	u := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)
	if u["name"] != "Bob" || u["image"] != "https://img.test/a.png" || u["emailVerified"] != false {
		t.Fatalf("user after update %v", u)
	}
	wantBody(t, h.post("/update-user", `{"image":null}`, "Cookie", jar), 200, `{"status":true}`)
	if img := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)["image"]; img != nil {
		t.Fatalf("image %v, want null", img)
	}
	wantBody(t, h.post("/update-user", `{"emailVerified":true}`, "Cookie", jar), 400, `{"message":"No fields to update"}`)
	wantError(t, h.post("/update-user", `{"email":"x@y.co"}`, "Cookie", jar), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	wantError(t, h.post("/update-user", `{"email":1}`, "Cookie", jar), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	wantError(t, h.post("/update-user", `{"name":5}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received number")
}

func TestChangePassword(t *testing.T) {
	h := newHarness(t)
	a := h.signUp("alice@example.com")
	_, b := h.signIn("alice@example.com")

	wantError(t, h.post("/change-password", `{"currentPassword":"wrong-one","newPassword":"new password 1"}`, "Cookie", a),
		400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/change-password", `{"currentPassword":"`+testPass+`","newPassword":"short"}`, "Cookie", a),
		400, "PASSWORD_TOO_SHORT", "Password too short")

	r := h.post("/change-password", `{"currentPassword":"`+testPass+`","newPassword":"new password 1"}`, "Cookie", a)
	wantStatus(t, r, 200)
	if m := r.json(t); m["token"] != nil || len(r.cookies) != 0 {
		t.Fatalf("plain change: token %v cookies %v", m["token"], r.cookies)
	}

	r = h.post("/change-password", `{"currentPassword":"new password 1","newPassword":"new password 2","revokeOtherSessions":true}`, "Cookie", a)
	wantStatus(t, r, 200)
	m := r.json(t)
	wantKeys(t, m, "token", "user")
	tok, _ := m["token"].(string)
	if !tokenRe.MatchString(tok) || !strings.HasPrefix(r.cookie("better-auth.session_token"), "better-auth.session_token="+newCookieCodec([]byte(testSecret), false).sign(tok)+"; Max-Age=604800") {
		t.Fatalf("new session %q cookies %v", tok, r.cookies)
	}
	wantBody(t, h.get("/get-session", "Cookie", a), 200, "null")
	wantBody(t, h.get("/get-session", "Cookie", b), 200, "null")
	if h.get("/get-session", "Cookie", r.jar()).body == "null" {
		t.Fatal("new session does not work")
	}
}

func TestChangeEmail(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/change-email", `{"newEmail":"nope"}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.newEmail] Invalid email address")
	wantBody(t, h.post("/change-email", `{"newEmail":"alice@example.com"}`, "Cookie", jar), 400, `{"message":"Email is the same"}`)
	wantBody(t, h.post("/change-email", `{"newEmail":"new@example.com","callbackURL":"/settings"}`, "Cookie", jar), 200, `{"status":true}`)

	// An unverified user gets the verification link at the new address;
	// following it with the session re-sets the cookie and changes the email.
	link := h.mailLink("new@example.com")
	r := h.get("/verify-email?"+link.RawQuery, "Cookie", jar)
	if r.status == 302 {
		if r.header.Get("Location") != "/settings" {
			t.Fatalf("location %q", r.header.Get("Location"))
		}
	} else {
		wantStatus(t, r, 200)
	}
	if r.cookie("better-auth.session_token") == "" {
		t.Fatalf("email change did not re-set the cookie: %v", r.cookies)
	}
	u := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)
	if u["email"] != "new@example.com" {
		t.Fatalf("email %v", u["email"])
	}
}

func TestDeleteUser(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/delete-user", `{"password":"wrong-one"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantBody(t, h.post("/delete-user", `{"callbackURL":"/bye"}`, "Cookie", jar), 200, `{"success":true,"message":"Verification email sent"}`)
	link := h.mailLink("alice@example.com")
	if link.Path != "/api/auth/delete-user/callback" {
		t.Fatalf("link %s", link)
	}
	wantError(t, h.get("/delete-user/callback?token=nope", "Cookie", jar), 404, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.get("/delete-user/callback?"+link.RawQuery), 404, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	wantError(t, h.get("/delete-user/callback?token=x&callbackURL=https://evil.test", "Cookie", jar), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")

	r := h.get("/delete-user/callback?"+link.RawQuery, "Cookie", jar)
	if r.status != 302 || r.header.Get("Location") != "/bye" || r.body != "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("callback: %d %q %q", r.status, r.header.Get("Location"), r.body)
	}
	wantCookiesCleared(t, r)
	wantBody(t, h.get("/get-session", "Cookie", jar), 200, "null")
	wantError(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
}

// TestDeleteUser_AtOnce is better-auth without sendDeleteAccountVerification:
// the answer, the expired cookies and the freshness rule (a session signed in
// a day ago needs the password).
func TestDeleteUser_AtOnce(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.DeleteUserAtOnce = true; p.SessionFreshAge = time.Hour }})
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/delete-user", `{"password":"wrong-one"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	r := h.post("/delete-user", `{"password":"`+testPass+`"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"success":true,"message":"User deleted"}`)
	wantCookiesCleared(t, r)
	wantBody(t, h.get("/get-session", "Cookie", jar), 200, "null")
	wantError(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")

	jar = h.signUp("bob@example.com")
	wantBody(t, h.post("/delete-user", `{"password":""}`, "Cookie", jar), 200, `{"success":true,"message":"User deleted"}`)

	jar = h.signUp("carol@example.com")
	h.clock.Advance(time.Hour)
	wantError(t, h.post("/delete-user", `{}`, "Cookie", jar), 400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	if h.get("/get-session", "Cookie", jar).body == "null" {
		t.Fatal("deleted without a fresh session or the password")
	}
}

func TestDeleteUser_Disabled(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.DeleteUserEnabled = false }})
	jar := h.signUp("alice@example.com")
	r := h.post("/delete-user", `{}`, "Cookie", jar)
	if r.status != 404 || r.body != "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("disabled delete-user: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	// The disabled answer comes before the session check: no session, or a
	// stale cookie, gets it too, and the stale cookie is left alone.
	wantError(t, h.get("/delete-user/callback?token=x", "Cookie", jar), 404, "NOT_FOUND", "Not found")
	wantError(t, h.get("/delete-user/callback?token=x"), 404, "NOT_FOUND", "Not found")
	wantStatus(t, h.post("/sign-out", "", "Cookie", jar), 200)
	r = h.get("/delete-user/callback?token=x", "Cookie", jar)
	wantError(t, r, 404, "NOT_FOUND", "Not found")
	if len(r.cookies) != 0 {
		t.Fatalf("cookies touched: %v", r.cookies)
	}
	// Query validation and the callbackURL check still come first.
	wantError(t, h.get("/delete-user/callback"), 400, "VALIDATION_ERROR", "[query.token] Invalid input: expected string, received undefined")
	wantError(t, h.get("/delete-user/callback?token=x&callbackURL=https://evil.test"), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
}

// POST /verify-password (sens): validation, then the session, then the check.
func TestVerifyPassword(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/verify-password", `{}`), 400, "VALIDATION_ERROR", "[body.password] Invalid input: expected string, received undefined")
	wantError(t, h.post("/verify-password", `{"password":"`+testPass+`"}`), 401, "UNAUTHORIZED", "Unauthorized")
	wantError(t, h.post("/verify-password", `{"password":1}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.password] Invalid input: expected string, received number")
	wantError(t, h.post("/verify-password", `{"password":"wrong password"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/verify-password", `{"password":""}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/verify-password", `{"password":"`+strings.Repeat("p", 129)+`"}`, "Cookie", jar), 400, "PASSWORD_TOO_LONG", "Password too long")
	r := h.post("/verify-password", `{"password":"`+testPass+`"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 0 {
		t.Fatalf("cookies set: %v", r.cookies)
	}
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

func TestPasswordReset(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	const ok = `{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`
	wantBody(t, h.post("/request-password-reset", `{"email":"nobody@example.com","redirectTo":"/reset"}`), 200, ok)
	wantBody(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200, ok)
	wantError(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"//evil.test"}`), 403, "INVALID_REDIRECT_URL", "Invalid redirectURL")
	wantBody(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":{"x":1}}`), 400, `{"message":"Invalid redirectURL: expected a string"}`)

	link := h.mailLink("alice@example.com")
	token := strings.TrimPrefix(link.Path, "/api/auth/reset-password/")
	if link.RawQuery != "callbackURL=%2Freset" || len(token) != 24 {
		t.Fatalf("reset link %s", link)
	}

	r := h.get("/reset-password/" + token + "?callbackURL=%2Freset")
	if r.status != 302 || r.header.Get("Location") != "http://localhost:8100/reset?token="+token || r.body != "" {
		t.Fatalf("valid link: %d %q %q", r.status, r.header.Get("Location"), r.body)
	}
	r = h.get("/reset-password/nope?callbackURL=/reset%20x?a=b%20c")
	if r.status != 302 || r.header.Get("Location") != "http://localhost:8100/reset%20x?a=b+c&error=INVALID_TOKEN" {
		t.Fatalf("invalid link: %d %q", r.status, r.header.Get("Location"))
	}
	r = h.get("/reset-password/nope?callbackURL=")
	if r.status != 302 || r.header.Get("Location") != "http://localhost:8100/api/auth/error?error=INVALID_TOKEN" {
		t.Fatalf("empty callback: %d %q", r.status, r.header.Get("Location"))
	}
	wantError(t, h.get("/reset-password/"+token), 400, "VALIDATION_ERROR", "[query.callbackURL] Invalid input: expected string, received undefined")
	wantError(t, h.get("/reset-password/"+token+"?callbackURL=/a&callbackURL=/b"), 400, "VALIDATION_ERROR", "[query.callbackURL] Invalid input: expected string, received array")
	wantError(t, h.get("/reset-password/"+token+"?callbackURL=https://evil.test"), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
	r = h.get("/reset-password/%00?callbackURL=/reset")
	if r.status != 302 || !strings.HasSuffix(r.header.Get("Location"), "error=INVALID_TOKEN") {
		t.Fatalf("NUL token: %d %q", r.status, r.header.Get("Location"))
	}

	wantError(t, h.post("/reset-password", `{"newPassword":"brand new pass"}`), 400, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.post("/reset-password", `{"newPassword":"short","token":"`+token+`"}`), 400, "PASSWORD_TOO_SHORT", "Password too short")
	wantBody(t, h.post("/reset-password?token="+token, `{"newPassword":"brand new pass"}`), 200, `{"status":true}`)
	wantError(t, h.post("/reset-password", `{"newPassword":"brand new pass","token":"`+token+`"}`), 400, "INVALID_TOKEN", "Invalid token")
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"brand new pass"}`), 200)
}

func TestEmailVerification(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/send-verification-email", `{"email":"x"}`), 400, "VALIDATION_ERROR", "[body.email] Invalid email address")
	wantError(t, h.post("/send-verification-email", `{"email":"bob@example.com"}`, "Cookie", jar), 400, "EMAIL_MISMATCH", "Email mismatch")
	wantBody(t, h.post("/send-verification-email", `{"email":"alice@example.com","callbackURL":"/welcome"}`, "Cookie", jar), 200, `{"status":true}`)
	link := h.mailLink("alice@example.com")
	if link.Path != "/api/auth/verify-email" || link.Query().Get("callbackURL") != "/welcome" {
		t.Fatalf("verify link %s", link)
	}
	token := link.Query().Get("token")

	wantError(t, h.get("/verify-email"), 400, "VALIDATION_ERROR", "[query.token] Invalid input: expected string, received undefined")
	wantError(t, h.get("/verify-email?token=abc"), 401, "INVALID_TOKEN", "Invalid token")
	r := h.get("/verify-email?token=abc&callbackURL=/x?y=1")
	if r.status != 302 || r.header.Get("Location") != "/x?y=1&error=INVALID_TOKEN" {
		t.Fatalf("bad token with callback: %d %q", r.status, r.header.Get("Location"))
	}
	wantError(t, h.get("/verify-email?token="+token+"&callbackURL=//evil.test"), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")

	wantBody(t, h.get("/verify-email?token="+token), 200, `{"status":true,"user":null}`)
	if v := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)["emailVerified"]; v != true {
		t.Fatalf("emailVerified %v", v)
	}
	r = h.get("/verify-email?token=" + token + "&callbackURL=%2Fwelcome")
	if r.status != 302 || r.header.Get("Location") != "/welcome" {
		t.Fatalf("verified with callback: %d %q", r.status, r.header.Get("Location"))
	}
	wantError(t, h.post("/send-verification-email", `{"email":"alice@example.com"}`, "Cookie", jar), 400, "EMAIL_ALREADY_VERIFIED", "Email is already verified")

	h.clock.Advance(2 * time.Hour)
	wantError(t, h.get("/verify-email?token="+token), 401, "TOKEN_EXPIRED", "Token expired")
}

func TestListAccounts(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	r := h.get("/list-accounts", "Cookie", jar)
	wantStatus(t, r, 200)
	wantNoStore(t, r)
	if !regexp.MustCompile(`^\[\{"id":"[A-Za-z0-9]{32}","providerId":"credential","accountId":"[A-Za-z0-9]{32}","userId":"[A-Za-z0-9]{32}","createdAt":"[^"]+","updatedAt":"[^"]+","scopes":\[\]\}\]$`).MatchString(r.body) {
		t.Fatalf("accounts %s", r.body)
	}
	if strings.Contains(r.body, "fake$") || strings.Contains(r.body, "password") {
		t.Fatalf("secret leaked: %s", r.body)
	}
	wantError(t, h.get("/list-accounts"), 401, "UNAUTHORIZED", "Unauthorized")
}

func TestErrorPage(t *testing.T) {
	h := newHarness(t)
	r := h.get("/error?error=" + url.QueryEscape("<script>alert(1)</script>") + "&error_description=" + url.QueryEscape(`<img src=x onerror=alert(1)>"'`))
	wantStatus(t, r, 200)
	if r.header.Get("Content-Type") != "text/html" {
		t.Fatalf("content-type %q", r.header.Get("Content-Type"))
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img") || !strings.Contains(r.body, "UNKNOWN") ||
		!strings.Contains(r.body, "&lt;img src=x onerror=alert(1)&gt;&#34;&#39;") {
		t.Fatalf("page not escaped:\n%s", r.body)
	}
	r = h.get("/error?error=state_mismatch")
	if !strings.Contains(r.body, "<code>state_mismatch</code>") {
		t.Fatalf("code missing:\n%s", r.body)
	}
}

func TestCookies_SecurePrefixOnHTTPS(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) {
		o.BaseURL = "https://auth.example.com/api/auth"
		o.TrustedOrigins = nil
	}})
	r := h.do("POST", "/api/auth/sign-up/email", `{"name":"A","email":"a@example.com","password":"`+testPass+`"}`, "Origin", "https://auth.example.com")
	wantStatus(t, r, 200)
	tok := r.json(t)["token"].(string)
	want := "__Secure-better-auth.session_token=" + newCookieCodec([]byte(testSecret), false).sign(tok) + "; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"
	if len(r.cookies) != 1 || r.cookies[0] != want {
		t.Fatalf("set-cookie %q\nwant %q", r.cookies, want)
	}
	if len(r.cookies[0]) > 4096 {
		t.Fatal("cookie over 4096 bytes")
	}
	// Only the exact configured name is read.
	plain := strings.TrimPrefix(r.jar(), "__Secure-")
	wantBody(t, h.get("/get-session", "Cookie", plain), 200, "null")
	if h.get("/get-session", "Cookie", r.jar()).body == "null" {
		t.Fatal("secure cookie not read")
	}
	r = h.do("POST", "/api/auth/sign-out", "", "Cookie", r.jar(), "Origin", "https://auth.example.com")
	if !strings.Contains(strings.Join(r.cookies, "|"), "__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("expiry cookies %v", r.cookies)
	}
}

func TestSignIn_DontRememberCookieLifecycle(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`","rememberMe":false}`)
	wantStatus(t, r, 200)
	jar := r.jar()
	if strings.Contains(r.cookie("better-auth.session_token"), "Max-Age") || r.cookie("better-auth.dont_remember") == "" {
		t.Fatalf("cookies %v", r.cookies)
	}
	// get-session never refreshes a "don't remember" session...
	h.clock.Advance(23 * time.Hour)
	if r := h.get("/get-session", "Cookie", jar); len(r.cookies) != 0 || r.body == "null" {
		t.Fatalf("dont-remember session: %s %v", r.body, r.cookies)
	}
	// ...later re-issues keep omitting Max-Age...
	r = h.post("/update-user", `{"name":"B"}`, "Cookie", jar)
	if strings.Contains(r.cookie("better-auth.session_token"), "Max-Age") || r.cookie("better-auth.dont_remember") == "" {
		t.Fatalf("update-user cookies %v", r.cookies)
	}
	// ...and a normal sign-in on the same browser expires the marker.
	r = h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`, "Cookie", jar)
	if r.cookie("better-auth.dont_remember") != "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("sign-in cookies %v", r.cookies)
	}
}

func TestReadiness(t *testing.T) {
	var down bool
	h := newHarness(t, harnessConfig{ready: func(ctx context.Context) error {
		if down {
			return errStoreDown
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("readiness check without a deadline")
		}
		return nil
	}})
	wantBody(t, h.do("GET", "/api/ready", ""), 200, `{"status":"ok"}`)
	down = true
	r := h.do("GET", "/api/ready", "")
	wantBody(t, r, 503, `{"status":"unavailable"}`)
	wantBody(t, h.do("GET", "/api/health", ""), 200, `{"status":"ok"}`)
}
