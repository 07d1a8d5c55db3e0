package httpfiber

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
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
	want := "better-auth.session_token=" + cookie.NewCodec([]byte(testSecret), false).Sign(tok) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
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
		cc := cookie.NewCodec([]byte(testSecret), false)
		want := []string{
			"better-auth.session_token=" + cc.Sign(tok) + "; Path=/; HttpOnly; SameSite=Lax",
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

func TestCookies_SecurePrefixOnHTTPS(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) {
		o.BaseURL = "https://auth.example.com/api/auth"
		o.TrustedOrigins = nil
	}})
	r := h.do("POST", "/api/auth/sign-up/email", `{"name":"A","email":"a@example.com","password":"`+testPass+`"}`, "Origin", "https://auth.example.com")
	wantStatus(t, r, 200)
	tok := r.json(t)["token"].(string)
	want := "__Secure-better-auth.session_token=" + cookie.NewCodec([]byte(testSecret), false).Sign(tok) + "; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"
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

// Security battery E23: login CSRF on first visit (no cookies).
func TestFormCSRF_SignInAndSignUp(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	form := "email=alice%40example.com&password=correct+horse+battery&name=A"
	for _, path := range []string{"/sign-in/email", "/sign-up/email"} {
		for _, tc := range []struct {
			name   string
			hdr    []string
			status int
			code   string
		}{
			{"cross-site navigate", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
			{"same-origin navigate", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate", "Origin", testOrigin}, 0, ""},
			{"cors from trusted", []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors", "Origin", "https://trusted.test"}, 0, ""},
			{"cors without origin", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, 403, "MISSING_OR_NULL_ORIGIN"},
			{"untrusted origin", []string{"Origin", "https://evil.test"}, 403, "INVALID_ORIGIN"},
			{"untrusted referer", []string{"Referer", "https://evil.test/login"}, 403, "INVALID_ORIGIN"},
			{"curl", nil, 0, ""},
		} {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				hdr := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tc.hdr...)
				r := h.do("POST", "/api/auth"+path, form, hdr...)
				if tc.status == 403 {
					if r.status != 403 || !strings.Contains(r.body, `"code":"`+tc.code+`"`) {
						t.Fatalf("got %d %s, want 403 %s", r.status, r.body, tc.code)
					}
					return
				}
				// Allowed: sign-in succeeds, sign-up reaches the duplicate check.
				if r.status != 200 && r.status != 422 {
					t.Fatalf("got %d %s, want the request through", r.status, r.body)
				}
			})
		}
		t.Run(path+"/text-plain", func(t *testing.T) {
			r := h.do("POST", "/api/auth"+path, form, "Content-Type", "text/plain")
			wantStatus(t, r, 415)
		})
	}
}

// Security battery E30: the per-account throttle answers like the per-IP
// limiter (429, no code, X-Retry-After in whole seconds) for known and
// unknown addresses alike, from any client address, until the hour is up.
func TestPerAccountSignInThrottle(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	signIn := func(email, pw string) resp {
		return h.post("/sign-in/email", `{"email":"`+email+`","password":"`+pw+`"}`)
	}
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		for i := range 100 {
			if r := signIn(email, "wrong password "+strconv.Itoa(i)); r.status != 401 {
				t.Fatalf("%s: failure %d: %d %s", email, i, r.status, r.body)
			}
		}
	}
	h.clock.Advance(10*time.Minute + 500*time.Millisecond)
	var first resp
	for i, email := range []string{"alice@example.com", "ALICE@example.com", "nobody@example.com"} {
		r := signIn(email, testPass)
		wantBody(t, r, 429, `{"message":"Too many requests. Please try again later."}`)
		// 49 min 59.5 s, rounded up.
		if got := r.header.Get("X-Retry-After"); got != "3000" || r.header.Get("Retry-After") != "" {
			t.Fatalf("%s: X-Retry-After %q, Retry-After %q", email, got, r.header.Get("Retry-After"))
		}
		if len(r.cookies) != 0 {
			t.Fatalf("%s: cookies %v", email, r.cookies)
		}
		if i == 0 {
			first = r
		} else if r.body != first.body || r.header.Get("Content-Type") != first.header.Get("Content-Type") {
			t.Fatalf("%s answered unlike alice@example.com", email)
		}
	}
	h.signUp("bob@example.com")
	h.signIn("bob@example.com")

	// No permanent lockout: the owner gets in once the hour is up.
	h.clock.Advance(50 * time.Minute)
	h.signIn("alice@example.com")
}

// Security battery E30: a second reset within a minute answers the same
// and sends nothing; the link already mailed still works.
func TestMailCooldown(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	const ok = `{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`
	wantBody(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200, ok)
	link := h.mailLink("alice@example.com")
	h.clock.Advance(10 * time.Second)
	wantBody(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200, ok)
	if n := len(h.outbox.Mails()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
	token := strings.TrimPrefix(link.Path, "/api/auth/reset-password/")
	wantBody(t, h.post("/reset-password", `{"newPassword":"brand new pass","token":"`+token+`"}`), 200, `{"status":true}`)

	h.clock.Advance(50 * time.Second)
	wantBody(t, h.post("/request-password-reset", `{"email":"alice@example.com"}`), 200, ok)
	if n := len(h.outbox.Mails()); n != 2 {
		t.Fatalf("%d mails a minute after the first, want 2", n)
	}
}

// Battery 6: an unknown email, a wrong password, a social-only user and a
// credential row without a password get byte-identical answers with the
// same headers and no cookie. (Their timing is measured against the real
// binary in cmd/authd/battery.)
func TestSignInFailuresAreIndistinguishable(t *testing.T) {
	h := newHarness(t)
	h.signUp("known@example.com")
	h.addUserWithoutPassword(t, strings.Repeat("s", 32), "social@example.com", "github")
	h.addUserWithoutPassword(t, strings.Repeat("n", 32), "nullpw@example.com", core.ProviderCredential)

	var first resp
	for i, email := range []string{"ghost@example.com", "known@example.com", "social@example.com", "nullpw@example.com"} {
		for _, extra := range []string{"", `,"rememberMe":false,"callbackURL":"/home"`} {
			r := h.post("/sign-in/email", `{"email":"`+email+`","password":"wrong password"`+extra+`}`)
			wantError(t, r, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
			if len(r.cookies) != 0 || r.header.Get("Location") != "" {
				t.Fatalf("%s: cookies %v location %q", email, r.cookies, r.header.Get("Location"))
			}
			if i == 0 && extra == "" {
				first = r
				continue
			}
			if got, want := headersExcept(r), headersExcept(first); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s%s: headers %v, want %v as for an unknown email", email, extra, got, want)
			}
		}
	}
}

// jsonShape renders a JSON document's keys in order with the kinds of
// their values, so that two answers can be compared without their values.
func jsonShape(t *testing.T, body string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	var sb strings.Builder
	// inObject[i] tells whether container i is an object; wantKey whether
	// the innermost object expects a key next.
	var inObject []bool
	wantKey := false
	valueDone := func() {
		sb.WriteByte(',')
		wantKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sb.String()
		}
		if err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		switch v := tok.(type) {
		case json.Delim:
			sb.WriteString(v.String())
			switch v {
			case '{', '[':
				inObject = append(inObject, v == '{')
				wantKey = v == '{'
			default:
				inObject = inObject[:len(inObject)-1]
				valueDone()
			}
		case string:
			if wantKey {
				sb.WriteString(v + ":")
				wantKey = false
				continue
			}
			sb.WriteString("string")
			valueDone()
		case nil:
			sb.WriteString("null")
			valueDone()
		default:
			sb.WriteString(reflect.TypeOf(v).String())
			valueDone()
		}
	}
}

// Battery 8: under enumeration protection a sign-up for a taken address
// answers like a fresh one: 200, the same keys in the same order with the
// same types, the same headers and no cookie; the stored owner is untouched.
func TestDuplicateSignUpLooksFresh(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.RequireEmailVerification = true }})
	wantStatus(t, h.post("/sign-up/email", `{"name":"Owner","email":"taken@example.com","password":"`+testPass+`"}`), 200)
	owner := h.storedUser(t, "taken@example.com")

	// Same-length addresses, so that even Content-Length must agree.
	const body = `{"name":"Mallory","email":"%s","password":"another password","image":"https://img.test/m.png"}`
	fresh := h.post("/sign-up/email", strings.Replace(body, "%s", "fresh@example.com", 1))
	dup := h.post("/sign-up/email", strings.Replace(body, "%s", "Taken@example.com", 1))
	for _, r := range []resp{fresh, dup} {
		wantStatus(t, r, 200)
		if len(r.cookies) != 0 {
			t.Fatalf("cookies %v", r.cookies)
		}
	}
	if a, b := jsonShape(t, fresh.body), jsonShape(t, dup.body); a != b {
		t.Fatalf("shapes differ:\nfresh %s\ndup   %s", a, b)
	}
	if a, b := headersExcept(fresh), headersExcept(dup); !reflect.DeepEqual(a, b) {
		t.Fatalf("headers differ:\nfresh %v\ndup   %v", a, b)
	}
	u := dup.json(t)["user"].(map[string]any)
	if u["id"] == owner.ID() || !tokenRe.MatchString(u["id"].(string)) || u["name"] != "Mallory" || u["email"] != "taken@example.com" ||
		u["emailVerified"] != false || dup.json(t)["token"] != nil {
		t.Fatalf("synthetic answer %s", dup.body)
	}
	if got := h.storedUser(t, "taken@example.com"); got.ID() != owner.ID() || got.Name() != "Owner" || got.Image() != nil {
		t.Fatalf("owner changed: %+v", got.Record())
	}
}

// Battery 16: a reset token changes the password of the user it was minted
// for, whatever the body or the caller's cookie say, and signs no one in.
func TestResetTokenIsBoundToItsUser(t *testing.T) {
	h := newHarness(t)
	h.signUp("a@example.com")
	bJar := h.signUp("b@example.com")
	bID := h.userOf(t, bJar)["id"].(string)
	wantStatus(t, h.post("/request-password-reset", `{"email":"a@example.com","redirectTo":"/reset"}`), 200)
	token := strings.TrimPrefix(h.mailLink("a@example.com").Path, "/api/auth/reset-password/")

	r := h.post("/reset-password", `{"newPassword":"a brand new pass","token":"`+token+`","email":"b@example.com","userId":"`+bID+`"}`,
		"Cookie", bJar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 0 {
		t.Fatalf("reset set cookies (automatic sign-in): %v", r.cookies)
	}
	wantStatus(t, h.post("/sign-in/email", `{"email":"a@example.com","password":"a brand new pass"}`), 200)
	wantStatus(t, h.post("/sign-in/email", `{"email":"b@example.com","password":"a brand new pass"}`), 401)
	h.signIn("b@example.com")
	h.userOf(t, bJar)
}

// forgeJWT assembles header.payload.signature with the given HMAC.
func forgeJWT(newHash func() hash.Hash, key, header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	si := enc([]byte(header)) + "." + enc([]byte(payload))
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(si))
	return si + "." + enc(m.Sum(nil))
}

// Battery 18: forged or expired verification tokens at GET /verify-email
// are a 401 (or a redirect carrying the error) and verify no one; only HS256
// under the server's key is accepted.
func TestForgedVerificationTokens(t *testing.T) {
	h := newHarness(t)
	aliceJar := h.signUp("alice@example.com")
	h.signUp("bob@example.com")
	wantStatus(t, h.post("/send-verification-email", `{"email":"alice@example.com"}`, "Cookie", aliceJar), 200)
	genuine := h.mailLink("alice@example.com").Query().Get("token")
	parts := strings.Split(genuine, ".")
	if len(parts) != 3 {
		t.Fatalf("mailed token %q is not a JWT", genuine)
	}
	rawPayload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload := string(rawPayload)
	bobPayload := strings.Replace(payload, "alice@example.com", "bob@example.com", 1)
	if bobPayload == payload {
		t.Fatalf("payload %s does not name alice", payload)
	}
	longer := regexp.MustCompile(`"exp":\d+`).ReplaceAllString(payload, `"exp":4102444800`)
	enc := base64.RawURLEncoding.EncodeToString

	signer, err := emailtoken.NewJWTSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := signer.Sign(core.EmailClaims{Email: "bob@example.com"}, h.clock.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forgeries := map[string]struct{ token, code string }{
		"alg none":            {enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(bobPayload)) + ".", "INVALID_TOKEN"},
		"alg none unsigned":   {enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(bobPayload)), "INVALID_TOKEN"},
		"wrong key":           {forgeJWT(sha256.New, "another-secret-another-secret-another", `{"alg":"HS256"}`, bobPayload), "INVALID_TOKEN"},
		"HS512 with our key":  {forgeJWT(sha512.New, testSecret, `{"alg":"HS512"}`, bobPayload), "INVALID_TOKEN"},
		"edited payload":      {parts[0] + "." + enc([]byte(bobPayload)) + "." + parts[2], "INVALID_TOKEN"},
		"extended expiry":     {parts[0] + "." + enc([]byte(longer)) + "." + parts[2], "INVALID_TOKEN"},
		"signature truncated": {parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2], "INVALID_TOKEN"},
		"expired":             {expired, "TOKEN_EXPIRED"},
	}
	for name, f := range forgeries {
		r := h.get("/verify-email?token=" + url.QueryEscape(f.token))
		if r.status != 401 || !strings.Contains(r.body, `"code":"`+f.code+`"`) || len(r.cookies) != 0 {
			t.Errorf("%s: %d %s %v, want 401 %s", name, r.status, r.body, r.cookies, f.code)
		}
		r = h.get("/verify-email?token=" + url.QueryEscape(f.token) + "&callbackURL=%2Fdone")
		if r.status != 302 || r.header.Get("Location") != "/done?error="+f.code {
			t.Errorf("%s with callbackURL: %d location %q", name, r.status, r.header.Get("Location"))
		}
	}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if h.storedUser(t, email).EmailVerified() {
			t.Fatalf("%s verified by a forged token", email)
		}
	}
	// The genuine token still works, for alice only.
	wantBody(t, h.get("/verify-email?token="+genuine), 200, `{"status":true,"user":null}`)
	if !h.storedUser(t, "alice@example.com").EmailVerified() || h.storedUser(t, "bob@example.com").EmailVerified() {
		t.Fatal("the genuine token did not verify exactly alice")
	}
}

// Battery 19: each kind of token is worthless at every other purpose over
// HTTP. The verification JWT and the session cookie are both HMACs under the
// one app secret (better-auth's scheme, kept for compatibility), so a JWT
// reshaped into a cookie even carries a valid signature: it must still name
// no session.
func TestTokensServeOnlyTheirPurpose(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	session := sessionToken(jar)
	wantStatus(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200)
	reset := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	wantStatus(t, h.post("/send-verification-email", `{"email":"alice@example.com"}`, "Cookie", jar), 200)
	verify := h.mailLink("alice@example.com").Query().Get("token")
	wantStatus(t, h.post("/delete-user", `{}`, "Cookie", jar), 200)
	del := h.mailLink("alice@example.com").Query().Get("token")

	for name, tok := range map[string]string{"reset": reset, "delete": del, "session": session} {
		r := h.get("/verify-email?token=" + url.QueryEscape(tok))
		if r.status != 401 || !strings.Contains(r.body, `"code":"INVALID_TOKEN"`) {
			t.Errorf("%s token at verify-email: %d %s", name, r.status, r.body)
		}
	}
	for name, tok := range map[string]string{"verify": verify, "delete": del, "session": session} {
		wantError(t, h.post("/reset-password", `{"newPassword":"hijacked password","token":"`+tok+`"}`), 400, "INVALID_TOKEN", "Invalid token")
		r := h.get("/reset-password/" + url.PathEscape(tok) + "?callbackURL=%2Freset")
		if r.status != 302 || !strings.HasSuffix(r.header.Get("Location"), "error=INVALID_TOKEN") {
			t.Errorf("%s token at the reset link: %d %q", name, r.status, r.header.Get("Location"))
		}
	}
	for name, tok := range map[string]string{"reset": reset, "verify": verify, "session": session} {
		r := h.get("/delete-user/callback?token="+url.QueryEscape(tok), "Cookie", jar)
		if r.status != 404 || !strings.Contains(r.body, `"code":"INVALID_TOKEN"`) {
			t.Errorf("%s token at the delete callback: %d %s", name, r.status, r.body)
		}
	}

	// The verification JWT as a session cookie: header.payload signed by the
	// JWT's own HMAC, re-encoded as the cookie's padded standard base64.
	parts := strings.Split(verify, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	forged := parts[0] + "." + parts[1] + "." + base64.StdEncoding.EncodeToString(sig)
	r := h.get("/get-session", "Cookie", cookie.SessionToken+"="+url.QueryEscape(forged))
	wantBody(t, r, 200, "null")
	wantError(t, h.post("/update-user", `{"name":"Mallory"}`, "Cookie", cookie.SessionToken+"="+url.QueryEscape(forged)), 401, "UNAUTHORIZED", "Unauthorized")

	// Every token still serves its own purpose: they were live all along.
	if h.storedUser(t, "alice@example.com").EmailVerified() || h.userOf(t, jar)["name"] != "Alice" {
		t.Fatal("a misused token changed the user")
	}
	wantBody(t, h.get("/verify-email?token="+verify), 200, `{"status":true,"user":null}`)
	wantBody(t, h.post("/reset-password", `{"newPassword":"a brand new pass","token":"`+reset+`"}`), 200, `{"status":true}`)
	_, jar = h.signInWith("alice@example.com", "a brand new pass")
	r = h.get("/delete-user/callback?token="+del, "Cookie", jar)
	if r.status != 200 && r.status != 302 {
		t.Fatalf("delete token for its purpose: %d %s", r.status, r.body)
	}
}

func (h *harness) signInWith(email, password string) (resp, string) {
	h.t.Helper()
	r := h.post("/sign-in/email", `{"email":"`+email+`","password":"`+password+`"}`)
	if r.status != 200 {
		h.t.Fatalf("sign-in %s: %d %s", email, r.status, r.body)
	}
	return r, r.jar()
}

// Battery 20: the mailed reset link is built on the configured base URL,
// never on Host or X-Forwarded-* headers; an untrusted redirectTo is a 403
// and sends nothing.
func TestResetLinkIgnoresRequestHost(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	req := httptest.NewRequest("POST", "http://evil.test/api/auth/request-password-reset",
		strings.NewReader(`{"email":"alice@example.com","redirectTo":"/reset"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Host", "evil.test")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "host=evil.test;proto=https")
	res, err := h.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("request-password-reset with a foreign Host: %d", res.StatusCode)
	}
	m, ok := h.outbox.Last("alice@example.com")
	if !ok {
		t.Fatal("no reset mail")
	}
	link := linkPattern.FindString(m.Text)
	if !strings.HasPrefix(link, testBaseURL+"/reset-password/") || strings.Contains(m.Text, "evil") {
		t.Fatalf("reset mail built on the request's host:\n%s", m.Text)
	}

	h.clock.Advance(time.Minute) // past the mail cooldown: a mail would go out now
	before := len(h.outbox.Mails())
	for _, to := range []string{"https://evil.test/reset", "//evil.test/reset"} {
		wantError(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"`+to+`"}`), 403, "INVALID_REDIRECT_URL", "Invalid redirectURL")
	}
	if n := len(h.outbox.Mails()); n != before {
		t.Fatalf("%d mails sent for refused requests", n-before)
	}
}

// Battery 5: a CRLF, a fullwidth "@" or an over-long address is a 400 on
// every route that takes an address, and nothing is mailed.
func TestHostileEmailsOverHTTP(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	bad := []string{"a@b.co\r\nBcc: x@y.co", "a@b.co\nBcc: x@y.co", "victim\uff20example.com",
		strings.Repeat("a", 300) + "@example.com", "alice@example.com\r\n", " alice@example.com"}
	for _, email := range bad {
		js, _ := json.Marshal(email)
		for _, tc := range []struct{ path, body string }{
			{"/sign-up/email", `{"name":"N","email":` + string(js) + `,"password":"` + testPass + `"}`},
			{"/sign-in/email", `{"email":` + string(js) + `,"password":"` + testPass + `"}`},
			{"/request-password-reset", `{"email":` + string(js) + `}`},
			{"/send-verification-email", `{"email":` + string(js) + `}`},
			{"/change-email", `{"newEmail":` + string(js) + `}`},
		} {
			r := h.post(tc.path, tc.body, "Cookie", jar)
			if r.status != 400 || !(strings.Contains(r.body, `"code":"INVALID_EMAIL"`) || strings.Contains(r.body, `"code":"VALIDATION_ERROR"`)) {
				t.Errorf("%s with %q: %d %s", tc.path, email, r.status, r.body)
			}
		}
	}
	if n := len(h.outbox.Mails()); n != 0 {
		t.Fatalf("%d mails sent for invalid addresses", n)
	}
	if _, err := h.store.Users().ByEmail(t.Context(), "victim@example.com"); err == nil {
		t.Fatal("a fullwidth-@ address was stored")
	}
}

// Battery 30: an account whose sign-ins are throttled (100 wrong passwords
// within the hour) can still be recovered by its owner: the reset mail goes
// out, the reset works, and it lifts the throttle, so the owner signs in
// with the new password at once while the old one stays wrong.
func TestThrottledOwnerCanStillReset(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	for i := range 100 {
		wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"wrong password `+strings.Repeat("x", i%7)+`"}`), 401)
	}
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 429)

	wantStatus(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200)
	token := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	wantBody(t, h.post("/reset-password", `{"newPassword":"owner new pass","token":"`+token+`"}`), 200, `{"status":true}`)
	h.signInWith("alice@example.com", "owner new pass")
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401)
}
