package httpfiber

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

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

// rawRequest sends req on a new connection and reads the answer while the
// request is still being written: the server answers an oversized request
// early and resets the connection, which would make a client that finishes
// writing first lose the answer.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = c.Write([]byte(req)) }()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Battery 40 (and 1's oversized headers): a body one byte over the default
// limit is a 413 before it is decoded (invalid JSON one byte shorter is a
// 400), and a 16 KiB Cookie, a 100 KB Host or X-Forwarded-Host header is a
// 431; the server lives on.
func TestDefaultLimitsOnARealConnection(t *testing.T) {
	h := newHarness(t)
	addr := strings.TrimPrefix(serve(t, h.app), "http://")
	request := func(extraHeaders, body string) string {
		return "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extraHeaders +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	invalid := func(n int) string { return "{" + strings.Repeat("x", n-1) }
	if status, body := rawRequest(t, addr, request("", invalid(defaultBodyLimit+1))); status != 413 || !strings.Contains(body, `"code":"REQUEST_ENTITY_TOO_LARGE"`) {
		t.Fatalf("limit+1 bytes: %d %s", status, body)
	}
	if status, body := rawRequest(t, addr, request("", invalid(defaultBodyLimit))); status != 400 || !strings.Contains(body, `"code":"BAD_REQUEST"`) {
		t.Fatalf("limit bytes of invalid JSON: %d %s", status, body)
	}
	valid := `{"email":"a@b.co","password":"x"}`
	for name, hdr := range map[string]string{
		"16 KiB cookie":           "Cookie: a=" + strings.Repeat("b", 16<<10) + "\r\n",
		"100 KB host":             "Host: " + strings.Repeat("a", 100_000) + "\r\n",
		"100 KB x-forwarded-host": "X-Forwarded-Host: " + strings.Repeat("a.", 50_000) + "\r\n",
	} {
		if status, _ := rawRequest(t, addr, request(hdr, valid)); status != 431 {
			t.Errorf("%s: %d, want 431", name, status)
		}
	}
	if status, body := rawRequest(t, addr, request("", valid)); status != 401 {
		t.Fatalf("server unwell after the oversized requests: %d %s", status, body)
	}
}
