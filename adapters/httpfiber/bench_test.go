package httpfiber

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkGetSession measures GET /get-session end to end inside the
// server (middleware, cookie verification, the memory store lookup, JSON)
// without the cost of a network round trip.
func BenchmarkGetSession(b *testing.B) {
	h := newHarness(b)
	benchGetSession(b, h, h.signUp("alice@example.com"))
}

// benchGetSession times get-session with the cookies in jar, through the
// Fiber handler without a network.
func benchGetSession(b *testing.B, h *harness, jar string) {
	handler := h.app.Handler()
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// What fasthttp does between two requests on one connection.
		ctx.ResetUserValues()
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI("/api/auth/get-session")
		ctx.Request.Header.Set("Cookie", jar)
		handler(&ctx)
		if ctx.Response.StatusCode() != 200 || ctx.Response.Body()[0] != '{' {
			b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

// BenchmarkGetSessionCookieCache is get-session answered from the
// session_data cookie, the store untouched.
func BenchmarkGetSessionCookieCache(b *testing.B) {
	h := newHarness(b, harnessConfig{opts: func(o *Options) { o.CookieCacheMaxAge = 300 * time.Second }})
	jar := h.signUp("alice@example.com")
	h.sessions.down.Store(true) // an answer can only come from the cookie
	benchGetSession(b, h, jar)
}
