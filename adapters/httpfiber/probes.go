package httpfiber

import (
	"context"
	"html"
	"log/slog"
	"regexp"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
)

// readyTimeout bounds one readiness probe.
const readyTimeout = time.Second

// GET /api/health: liveness only; it touches no dependency.
func (s *server) health(c *fiber.Ctx) error {
	endpoint.NoStore(c)
	return endpoint.SendJSON(c, []byte(`{"status":"ok"}`))
}

// GET /api/ready: 503 while a dependency is down or the server is draining.
func (s *server) readiness(c *fiber.Ctx) error {
	endpoint.NoStore(c)
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "not ready",
				slog.String("request_id", s.requestID(c)), slog.String("error", err.Error()))
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			c.Set(fiber.HeaderRetryAfter, unavailableRetryAfter)
			c.Response().SetBodyRaw([]byte(`{"status":"unavailable"}`))
			c.Status(fiber.StatusServiceUnavailable)
			return nil
		}
	}
	return endpoint.SendJSON(c, []byte(`{"status":"ok"}`))
}

// GET /ok.
func (s *server) ok(c *fiber.Ctx) error {
	return endpoint.SendJSON(c, []byte(`{"ok":true}`))
}

// errorCodePattern is better-auth's filter for the error page's code.
var errorCodePattern = regexp.MustCompile(`^['A-Za-z0-9_-]+$`)

type errorPageInput struct {
	Error       string `query:"error" zod:"first"`
	Description string `query:"error_description" zod:"first"`
}

var errorPageSchema = body.Compile[errorPageInput]()

// GET /error: better-auth's HTML error page, reduced to its content. The
// code is filtered and everything shown is escaped; the CSP forbids any
// script should escaping ever fail.
func (s *server) errorPage(c *fiber.Ctx) error {
	q, err := body.ReadQuery(c)
	if err != nil {
		return err
	}
	var in errorPageInput
	errorPageSchema.Bind(body.Body{}, q, &in)
	code := in.Error
	if code == "" || !errorCodePattern.MatchString(code) {
		code = "UNKNOWN"
	}
	desc := in.Description
	if desc == "" {
		desc = "We encountered an unexpected error. Please try again or return to the home page."
	}
	page := `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>Error</title>
<style>
body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#fff;color:#222}
main{max-width:28rem;padding:2rem;text-align:center}
h1{font-size:2.25rem;margin:0 0 1rem}
code{font-family:monospace;word-break:break-all}
p{color:#666;line-height:1.5}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}p{color:#aaa}}
</style>
</head>
<body>
<main>
<h1>ERROR</h1>
<div>CODE: <code>` + html.EscapeString(code) + `</code></div>
<p>` + html.EscapeString(desc) + `</p>
<a href="/">Go home</a>
</main>
</body>
</html>
`
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTML)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	c.Response().SetBodyString(page)
	c.Status(fiber.StatusOK)
	return nil
}
