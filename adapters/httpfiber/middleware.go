package httpfiber

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

const (
	localRequestID = "httpfiber.requestID"
	localRoute     = "httpfiber.route"
	localClient    = "httpfiber.client"
	headerReqID    = "X-Request-Id"
	maxReqIDLen    = 128
	healthPath     = "/api/health"
	readyPath      = "/api/ready"
)

var errPanic = errors.New("handler panicked")

// standardMethods are the methods metrics and traces name; the constants,
// not the request's string, which aliases a reused buffer.
var standardMethods = []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
	fiber.MethodDelete, fiber.MethodOptions}

func standardMethod(m string) string {
	for _, s := range standardMethods {
		if m == s {
			return s
		}
	}
	return OtherMethod
}

// edge wraps every request: request id, the per-request deadline, panic
// recovery, turning errors into responses, and the access log.
func (s *server) edge(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := s.requestID(c)
	ctx, cancel := context.WithTimeout(c.UserContext(), s.o.RequestTimeout)
	defer cancel()
	method := standardMethod(c.Method())
	var endSpan func(route string, status int)
	if s.o.Trace != nil {
		ctx, endSpan = s.o.Trace(ctx, method)
	}
	c.SetUserContext(ctx)
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "panic in handler",
					slog.String("request_id", id), slog.String("route", s.routeOf(c)),
					slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
				err = errPanic
			}
		}()
		err = c.Next()
	}()
	if err != nil {
		_ = s.errorHandler(c, err)
	}
	s.accessLog(c, id, start)
	if s.o.Observe != nil || endSpan != nil {
		route, ok := c.Locals(localRoute).(string)
		if !ok {
			route = UnmatchedRoute
		}
		status := c.Response().StatusCode()
		if s.o.Observe != nil {
			s.o.Observe(route, method, status, time.Since(start))
		}
		if endSpan != nil {
			endSpan(route, status)
		}
	}
	return nil
}

// accessLog names the route, never the raw path with its query, nor
// cookies, tokens or bodies. Probes log at debug level.
func (s *server) accessLog(c *fiber.Ctx, id string, start time.Time) {
	level := slog.LevelInfo
	route := s.routeOf(c)
	if route == healthPath || route == readyPath {
		level = slog.LevelDebug
	}
	s.log.LogAttrs(c.UserContext(), level, "http request",
		slog.String("request_id", id),
		slog.String("method", strings.Clone(c.Method())),
		slog.String("path", route),
		slog.Int("status", c.Response().StatusCode()),
		slog.Duration("duration", time.Since(start)))
}

// requestID returns the request's id, taking a well-formed X-Request-Id from
// the client and generating one otherwise, and echoes it on the response.
func (s *server) requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	id := string(c.Request().Header.Peek(headerReqID))
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Locals(localRequestID, id)
	c.Set(headerReqID, id)
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxReqIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(isAlnumByte(c) || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// routeOf names the request for logs: the route pattern when one matched,
// else the raw path with anything after "/reset-password/" (a secret)
// redacted.
func (s *server) routeOf(c *fiber.Ctx) string {
	if r, ok := c.Locals(localRoute).(string); ok {
		return r
	}
	p := string(c.Request().URI().PathOriginal())
	if i := strings.Index(p, "/reset-password/"); i >= 0 {
		p = p[:i] + "/reset-password/:redacted"
	}
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return p
}

// cors lets trusted origins call with credentials; better-auth leaves CORS
// to the host framework. Untrusted origins get no CORS headers at all, and
// their preflights fall through to a 404.
func (s *server) cors(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	c.Vary(fiber.HeaderOrigin)
	if !s.origins.Trusted(origin, false) {
		return c.Next()
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, strings.Clone(origin))
	c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	if c.Method() != fiber.MethodOptions || len(c.Request().Header.Peek(fiber.HeaderAccessControlRequestMethod)) == 0 {
		c.Set(fiber.HeaderAccessControlExposeHeaders, "X-Retry-After, X-Request-Id")
		return c.Next()
	}
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, POST")
	allow := "Content-Type"
	if h := c.Get(fiber.HeaderAccessControlRequestHeaders); h != "" && isHeaderList(h) {
		allow = strings.Clone(h)
	}
	c.Set(fiber.HeaderAccessControlAllowHeaders, allow)
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	c.Vary(fiber.HeaderAccessControlRequestMethod, fiber.HeaderAccessControlRequestHeaders)
	c.Status(fiber.StatusNoContent)
	return nil
}

// isHeaderList accepts a comma-separated list of header names.
func isHeaderList(s string) bool {
	if len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnumByte(c) || c == '-' || c == '_' || c == ',' || c == ' ') {
			return false
		}
	}
	return true
}

// rateLimit runs before routing, like better-auth's onRequest limiter, so
// unknown paths count too (all under one key per client). Health probes are
// exempt.
func (s *server) rateLimit(c *fiber.Ctx) error {
	raw := c.Request().URI().PathOriginal()
	if bytes.Equal(raw, []byte(healthPath)) || bytes.Equal(raw, []byte(readyPath)) {
		return c.Next()
	}
	route := s.rateRoutes.match(rateLimitPath(string(raw), s.o.BasePath))
	rule := ruleFor(route, rateRule{s.o.RateLimitWindow, s.o.RateLimitMax})
	keyIP := noTrustedIP
	if a, ok := s.client(c); ok {
		keyIP = rateKeyIP(a)
	}
	d, err := s.limiter.Consume(c.UserContext(), keyIP+"|"+route, rule.window, rule.max, s.clock.Now())
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return err
		}
		return core.ErrUnavailable.With(err)
	}
	if !d.Allowed {
		return core.ErrTooManyRequests.RetryIn(d.RetryAfter)
	}
	return c.Next()
}

// client resolves (once per request) the client address; see clientIP.
func (s *server) client(c *fiber.Ctx) (netip.Addr, bool) {
	if a, ok := c.Locals(localClient).(netip.Addr); ok {
		return a, a.IsValid()
	}
	remote, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	a, ok := clientIP(remote, joinHeader(c, fiber.HeaderXForwardedFor), joinHeader(c, fiber.HeaderForwarded), s.proxies)
	if !ok {
		a = netip.Addr{}
	}
	c.Locals(localClient, a)
	return a, ok
}

// joinHeader joins the header's lines as one comma-separated list.
func joinHeader(c *fiber.Ctx, name string) string {
	var vs []string
	for _, v := range c.Request().Header.PeekAll(name) {
		vs = append(vs, string(v))
	}
	return strings.Join(vs, ",")
}

func isAlnumByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
