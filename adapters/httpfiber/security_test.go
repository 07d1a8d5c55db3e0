package httpfiber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

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

// redirectAttacks is security battery E24's corpus, against trusted
// origins https://trusted.test, *.wild.test and the base URL.
var redirectAttacks = []string{
	"https://evil.test", "//evil.test", `/\evil.test`, "/%5C/evil.test", "/%5c/evil.test", "/%2F%2Fevil.test",
	"/..%2F..%2Fevil.test", `\\evil.test`, "https://trusted.test.evil.test", "https://trusted.test@evil.test",
	"https://evil.test?.wild.test", "https://evil.test#.wild.test", "https://evil.test\\.wild.test",
	"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "http://trusted.test",
	"https://trusted.test:444", "/\t/evil.test", "/foo\nbar", "https:evil.test", "https:/evil.test",
	"https://evil.test%2F.wild.test", "https://%65vil.wild.test.evil.test", " https://trusted.test",
	"http://localhost:8100@evil.test", "http://localhost:8100\\@evil.test", "evil.test", "./x",
}

var redirectAccepted = []string{
	"/dashboard?tab=a&b=c", "/", "https://trusted.test/cb", "https://trusted.test", "https://TRUSTED.test:443/x",
	"http://localhost:8100/after", "https://a.wild.test/cb", "myapp://callback/x", "/a%2e%2e/b#frag",
}

func TestRedirectCorpus_Pure(t *testing.T) {
	p := newOriginPolicy(testBaseURL, []string{"https://trusted.test", "*.wild.test", "myapp://"})
	for _, u := range redirectAttacks {
		if p.trusted(u, true) {
			t.Errorf("attack %q accepted", u)
		}
	}
	for _, u := range redirectAccepted {
		if !p.trusted(u, true) {
			t.Errorf("%q refused", u)
		}
	}
}

// The corpus through every redirect parameter, on POST bodies and on the GET
// links.
func TestRedirectCorpus_HTTP(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	for _, u := range redirectAttacks {
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
			if r.status != 403 || r.body != string(errorBody(tc.msg, tc.code)) || r.header.Get("Location") != "" {
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
		for _, u := range redirectAccepted {
			r := h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`","callbackURL":`+strconv.Quote(u)+`}`)
			if r.status != 200 || r.header.Get("Location") != u {
				t.Errorf("%q: %d %s location %q", u, r.status, r.body, r.header.Get("Location"))
			}
		}
	})
}

// Security battery E25: CORS for trusted origins only, never "*".
func TestCORS(t *testing.T) {
	h := newHarness(t)
	r := h.do("OPTIONS", "/api/auth/sign-in/email", "", "Origin", "https://trusted.test",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://trusted.test" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(r.header.Get("Vary"), "Origin") ||
		r.header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("trusted preflight: %d %v", r.status, r.header)
	}
	r = h.do("OPTIONS", "/api/auth/sign-in/email", "", "Origin", "https://evil.test", "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.status == 204 {
		t.Fatalf("untrusted preflight: %d %v", r.status, r.header)
	}
	r = h.do("GET", "/api/auth/ok", "", "Origin", "https://evil.test")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Vary") != "Origin" {
		t.Fatalf("untrusted simple request: %v", r.header)
	}
	r = h.do("GET", "/api/auth/ok", "", "Origin", "https://a.wild.test")
	if r.header.Get("Access-Control-Allow-Origin") != "https://a.wild.test" {
		t.Fatalf("wildcard origin: %v", r.header)
	}
	for _, m := range []string{"GET", "HEAD"} {
		for _, p := range []string{"/sign-out", "/update-user", "/delete-user", "/revoke-sessions"} {
			if r := h.do(m, "/api/auth"+p, ""); r.status != 404 {
				t.Errorf("%s %s: %d", m, p, r.status)
			}
		}
	}
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
	t.Run("default: 100 per minute", func(t *testing.T) {
		for i := 0; i < 100; i++ {
			wantStatus(t, h.get("/error"), 200)
		}
		wantStatus(t, h.get("/error"), 429)
	})
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

func TestPanicIsContained(t *testing.T) {
	h := newHarness(t)
	h.app.Get("/api/auth/boom", func(c *fiber.Ctx) error { panic("canary-42 secret detail") })
	h.app.Get("/api/auth/fail", func(c *fiber.Ctx) error { return errors.New("pq: canary-43 relation does not exist") })
	r := h.do("GET", "/api/auth/boom", "", "X-Request-Id", "req-123")
	wantError(t, r, 500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
	if r.header.Get("X-Request-Id") != "req-123" {
		t.Fatalf("request id %q", r.header.Get("X-Request-Id"))
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "canary-42") || !strings.Contains(logs, "req-123") || !strings.Contains(logs, "goroutine") {
		t.Fatalf("panic not logged with its request id and stack:\n%s", logs)
	}
	r = h.do("GET", "/api/auth/fail", "")
	wantError(t, r, 500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
	if id := r.header.Get("X-Request-Id"); len(id) != 24 || !strings.Contains(h.logs.String(), id) {
		t.Fatalf("generated request id %q not logged", id)
	}
	// The process lives on.
	wantStatus(t, h.get("/ok"), 200)
	// A hostile request id is replaced, not echoed.
	r = h.do("GET", "/api/auth/ok", "", "X-Request-Id", "a b<script>")
	if id := r.header.Get("X-Request-Id"); id == "a b<script>" || !validRequestID(id) {
		t.Fatalf("request id %q", id)
	}
}

func TestAccessLogHygiene(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	h.get("/get-session?secretquery=s3cr3t", "Cookie", jar)
	h.get("/reset-password/TOKENTOKENTOKEN?callbackURL=/x")
	h.get("/reset-password/TOKENTOKENTOKEN/?callbackURL=/x")
	h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`)
	logs := h.logs.String()
	tok := strings.SplitN(strings.TrimPrefix(jar, "better-auth.session_token="), ".", 2)[0]
	for _, secret := range []string{tok, "s3cr3t", "secretquery", "TOKENTOKENTOKEN", testPass, "alice@example.com", "session_token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{`"path":"/api/auth/get-session"`, `"path":"/api/auth/reset-password/:token"`, `"status":200`, `"method":"GET"`, `"request_id":"`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// Resource limits need a real connection: app.Test reports fasthttp's read
// errors instead of the response the server writes for them.
func TestResourceLimits(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) { o.BodyLimit = 1024 }})
	base := serve(t, h.app)
	big := `{"name":"` + strings.Repeat("a", 2000) + `"}`

	// The server answers an oversized request and closes the connection
	// with part of it unread, so the kernel may reset the connection before
	// the client has read the answer. Such a reset is retried: what is
	// checked is the answer whenever one arrives.
	post := func(body func() io.Reader, size int64, hdr ...string) (int, string, http.Header) {
		for attempt := 1; ; attempt++ {
			req, err := http.NewRequest("POST", base+"/api/auth/sign-up/email", body())
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil && attempt < 5 && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b), res.Header
		}
	}
	text := func(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }
	status, body, hdr := post(text(big), int64(len(big)))
	if status != 413 || body != `{"message":"Request Entity Too Large","code":"REQUEST_ENTITY_TOO_LARGE"}` || hdr.Get("X-Request-Id") == "" {
		t.Fatalf("content-length body: %d %s %v", status, body, hdr)
	}
	if !strings.Contains(h.logs.String(), `"status":413`) {
		t.Fatalf("413 not in the access log:\n%s", h.logs.String())
	}
	status, _, _ = post(func() io.Reader { return io.MultiReader(strings.NewReader(big)) }, -1) // chunked
	if status != 413 {
		t.Fatalf("chunked body: %d", status)
	}
	status, _, _ = post(text("{}"), 2, "X-Big", strings.Repeat("c", 16<<10))
	if status != 431 {
		t.Fatalf("16 KiB header: %d", status)
	}
	status, _, _ = post(text("{}"), 2, "Origin", testOrigin, "Cookie", strings.Repeat("a=b; ", 200)+"c=d")
	if status != 400 {
		t.Fatalf("200 cookies: %d", status)
	}
	res, err := http.Get(base + "/api/auth/ok")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("server did not survive: %v", err)
	}
	res.Body.Close()
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
