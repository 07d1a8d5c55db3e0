package httpfiber

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/adapters/httpfiber/internal/origin/origintest"
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

// Security battery E22: cookie-bearing mutations need a trusted Origin or
// Referer, and a rejection changes nothing.
func TestOriginCheck_CookieBearingMutations(t *testing.T) {
	h := newHarness(t)
	routes := []struct{ path, body string }{
		{"/sign-out", ""},
		{"/update-user", `{"name":"Mallory"}`},
		{"/change-password", `{"currentPassword":"` + testPass + `","newPassword":"hijacked password"}`},
		{"/change-email", `{"newEmail":"mallory@example.com"}`},
		{"/revoke-sessions", ""},
		{"/revoke-other-sessions", ""},
		{"/revoke-session", `{"token":"x"}`},
		{"/delete-user", `{}`},
		{"/update-session", `{}`},
		{"/verify-password", `{"password":"` + testPass + `"}`},
	}
	jar := h.signUp("alice@example.com")
	for _, rt := range routes {
		for _, tc := range []struct {
			name      string
			hdr       []string
			status    int
			code, msg string
		}{
			{"evil origin", []string{"Origin", "https://evil.test"}, 403, "INVALID_ORIGIN", "Invalid origin"},
			{"no origin", nil, 403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin"},
			{"null origin", []string{"Origin", "null"}, 403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin"},
			{"evil referer", []string{"Referer", "https://evil.test/page"}, 403, "INVALID_ORIGIN", "Invalid origin"},
			{"lookalike origin", []string{"Origin", "http://localhost:8100.evil.test"}, 403, "INVALID_ORIGIN", "Invalid origin"},
			{"wildcard port mismatch", []string{"Origin", "http://a.wild.test:8080"}, 403, "INVALID_ORIGIN", "Invalid origin"},
		} {
			t.Run(rt.path+"/"+tc.name, func(t *testing.T) {
				r := h.do("POST", "/api/auth"+rt.path, rt.body, append([]string{"Cookie", jar}, tc.hdr...)...)
				wantError(t, r, tc.status, tc.code, tc.msg)
			})
		}
	}
	// Nothing above changed anything.
	u := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)
	if u["name"] != "Alice" || u["email"] != "alice@example.com" {
		t.Fatalf("a refused request changed the user: %v", u)
	}
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 200)

	t.Run("trusted referer alone is enough", func(t *testing.T) {
		r := h.do("POST", "/api/auth/update-user", `{"name":"Bob"}`, "Cookie", jar, "Referer", testOrigin+"/settings?x=1")
		wantBody(t, r, 200, `{"status":true}`)
	})
	t.Run("configured and wildcard origins", func(t *testing.T) {
		for _, o := range []string{"https://trusted.test", "https://a.wild.test", "http://a.b.wild.test"} {
			r := h.do("POST", "/api/auth/update-user", `{"name":"Bob"}`, "Cookie", jar, "Origin", o)
			wantBody(t, r, 200, `{"status":true}`)
		}
	})
	t.Run("null origin from a same-origin context", func(t *testing.T) {
		r := h.do("POST", "/api/auth/update-user", `{"name":"Bob"}`, "Cookie", jar, "Origin", "null", "Sec-Fetch-Site", "same-origin")
		wantBody(t, r, 200, `{"status":true}`)
	})
	t.Run("no cookie, no check", func(t *testing.T) {
		r := h.do("POST", "/api/auth/sign-out", "", "Origin", "https://evil.test")
		wantBody(t, r, 200, `{"success":true}`)
	})
}

// The corpus through every redirect parameter, on POST bodies and on the GET
// links.
func TestRedirectCorpus_HTTP(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	for _, u := range origintest.Attacks {
		js := strconv.Quote(u)
		for _, tc := range []struct{ path, body, code, msg string }{
			{"/sign-in/email", `{"email":"alice@example.com","password":"x","callbackURL":` + js + `}`, "INVALID_CALLBACK_URL", "Invalid callbackURL"},
			{"/sign-up/email", `{"name":"a","email":"b@example.com","password":"x","callbackURL":` + js + `}`, "INVALID_CALLBACK_URL", "Invalid callbackURL"},
			{"/request-password-reset", `{"email":"alice@example.com","redirectTo":` + js + `}`, "INVALID_REDIRECT_URL", "Invalid redirectURL"},
			{"/sign-in/email", `{"email":"alice@example.com","password":"x","errorCallbackURL":` + js + `}`, "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"},
			{"/sign-in/email", `{"email":"alice@example.com","password":"x","newUserCallbackURL":` + js + `}`, "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"},
			{"/sign-out?callbackURL=" + url.QueryEscape(u), "", "INVALID_CALLBACK_URL", "Invalid callbackURL"},
		} {
			r := h.post(tc.path, tc.body)
			if r.status != 403 || r.body != string(jsonw.ErrorBody(tc.msg, tc.code)) || r.header.Get("Location") != "" {
				t.Errorf("%s with %q: %d %s", tc.path, u, r.status, r.body)
			}
		}
		for _, get := range []string{
			"/verify-email?token=x&callbackURL=" + url.QueryEscape(u),
			"/reset-password/tok?callbackURL=" + url.QueryEscape(u),
			"/delete-user/callback?token=x&callbackURL=" + url.QueryEscape(u),
		} {
			r := h.get(get)
			if r.status != 403 || !strings.Contains(r.body, "INVALID_CALLBACK_URL") || r.header.Get("Location") != "" {
				t.Errorf("GET %s: %d %s", get, r.status, r.body)
			}
		}
	}
	t.Run("non-strings are 400", func(t *testing.T) {
		for _, v := range []string{`{"x":1}`, `["/a"]`, `1`, `true`} {
			r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"x","callbackURL":`+v+`}`)
			wantBody(t, r, 400, `{"message":"Invalid callbackURL: expected a string"}`)
		}
		r := h.post("/sign-out?callbackURL=/a&callbackURL=/b", "")
		wantBody(t, r, 400, `{"message":"Invalid callbackURL: expected a string"}`)
		r = h.get("/verify-email?token=x&callbackURL=/a&callbackURL=/b")
		wantError(t, r, 400, "VALIDATION_ERROR", "[query.callbackURL] Invalid input: expected string, received array")
	})
	t.Run("accepted values pass", func(t *testing.T) {
		for _, u := range origintest.Accepted {
			r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`","callbackURL":`+strconv.Quote(u)+`}`)
			if r.status != 200 || r.header.Get("Location") != u {
				t.Errorf("%q: %d %s location %q", u, r.status, r.body, r.header.Get("Location"))
			}
		}
	})
}

// Battery 25: every mutation route is POST-only: GET and HEAD are bare 404s
// that change nothing, and preflights from untrusted origins are not
// granted. A granted origin is echoed, never "*".
func TestNoMutationOnGetOrHead(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	before := h.userOf(t, jar)
	posts := []string{"/sign-up/email", "/sign-in/email", "/sign-out", "/revoke-session", "/revoke-sessions",
		"/revoke-other-sessions", "/update-session", "/update-user", "/change-password", "/verify-password",
		"/change-email", "/delete-user", "/request-password-reset", "/reset-password", "/send-verification-email"}
	for _, p := range posts {
		for _, m := range []string{"GET", "HEAD"} {
			r := h.do(m, "/api/auth"+p+"?name=Mallory&newPassword=hijacked+password&token=x", "", "Cookie", jar, "Origin", testOrigin)
			if r.status != 404 || r.body != "" || len(r.cookies) != 0 {
				t.Errorf("%s %s: %d %q %v", m, p, r.status, r.body, r.cookies)
			}
		}
		r := h.do("OPTIONS", "/api/auth"+p, "", "Origin", "https://evil.test", "Access-Control-Request-Method", "POST")
		if acao := r.header.Get("Access-Control-Allow-Origin"); acao != "" {
			t.Errorf("untrusted preflight of %s granted %q", p, acao)
		}
		r = h.do("OPTIONS", "/api/auth"+p, "", "Origin", "https://trusted.test", "Access-Control-Request-Method", "POST")
		if acao := r.header.Get("Access-Control-Allow-Origin"); acao != "https://trusted.test" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("trusted preflight of %s: %q credentials %q", p, acao, r.header.Get("Access-Control-Allow-Credentials"))
		}
	}
	if after := h.userOf(t, jar); !reflect.DeepEqual(after, before) {
		t.Fatalf("user changed by GET/HEAD: %v, was %v", after, before)
	}
	if n := len(h.outbox.Mails()); n != 0 {
		t.Fatalf("%d mails sent by GET/HEAD", n)
	}
	h.signIn("alice@example.com")
}

// Battery 1: hostile bodies are answered with a 400 JSON error at once,
// never a 500.
func TestHostileBodiesAnsweredFast(t *testing.T) {
	h := newHarness(t)
	corpus := []string{
		`{`, `null`, `[]`, `{"email":"a@b.co","email":"b@b.co","password":"x"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
		"{\"email\":\"\xff\xfe@b.co\",\"password\":\"x\"}", `{"email":["a"],"password":{"x":1}}`,
		`{"email":"a@b.co","password":"x","callbackURL":{"x":1}}`, `{"email":"a@b.co","password":"x","rememberMe":"yes"}`,
		`{"email":"a@b.co","password":"x"` + strings.Repeat(`,"k":1`, 5000) + `}`,
		`"` + strings.Repeat(`\u0000`, 5000) + `"`,
	}
	const limit = 100 * time.Millisecond
	var slowest time.Duration
	for _, path := range []string{"/sign-in/email", "/sign-up/email"} {
		for _, b := range corpus {
			start := time.Now()
			r := h.post(path, b)
			took := time.Since(start)
			slowest = max(slowest, took)
			if r.status != 400 || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %.40q: %d %s", path, b, r.status, r.body)
				continue
			}
			var e struct{ Message, Code string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Message == "" {
				t.Errorf("%s %.40q: body %s is not an error object", path, b, r.body)
			}
			if took > limit {
				t.Errorf("%s %.40q took %s, want < %s", path, b, took, limit)
			}
		}
	}
	t.Logf("slowest hostile body answered in %s", slowest)
}
