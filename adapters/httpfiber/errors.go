package httpfiber

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/core"
)

// unavailableRetryAfter is sent with every 503: dependencies come back in
// seconds, and clients that honour it should not hammer a recovering DB.
const unavailableRetryAfter = "5"

var statusOfKind = map[core.Kind]int{
	core.KindInternal:        fiber.StatusInternalServerError,
	core.KindInvalid:         fiber.StatusBadRequest,
	core.KindUnauthenticated: fiber.StatusUnauthorized,
	core.KindForbidden:       fiber.StatusForbidden,
	core.KindNotFound:        fiber.StatusNotFound,
	core.KindConflict:        fiber.StatusUnprocessableEntity,
	core.KindRateLimited:     fiber.StatusTooManyRequests,
	core.KindUnavailable:     fiber.StatusServiceUnavailable,
}

// errorHandler is the only place where an error becomes an HTTP response.
// Whatever the error, internal detail (causes, SQL, panics) is logged with
// the request id and never sent.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderContentType)
	// fasthttp reports unreadable requests (413, 431, 408) straight to this
	// handler, before the edge middleware could log them.
	_, viaEdge := c.Locals(localRequestID).(string)
	id := s.requestID(c)
	if !viaEdge {
		defer s.accessLog(c, id, time.Now())
	}

	var (
		ae *apierror.Error
		ce *core.Error
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ae):
		s.writeError(c, ae.Status, ae.Message, ae.Code)
	case errors.As(err, &ce):
		s.coreError(c, ce, id)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.LogAttrs(c.UserContext(), slog.LevelWarn, "request deadline exceeded",
			slog.String("request_id", id), slog.String("error", err.Error()))
		s.unavailable(c)
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
			// better-auth answers unknown paths and wrong methods alike:
			// 404, no body, no content type.
			c.Status(fiber.StatusNotFound)
		default:
			// fasthttp's messages can quote the request; send the
			// standard phrase instead.
			text := http.StatusText(fe.Code)
			s.writeError(c, fe.Code, text, strings.ToUpper(strings.ReplaceAll(text, " ", "_")))
		}
	default:
		s.internal(c, id, err)
	}
	return nil
}

func (s *server) coreError(c *fiber.Ctx, ce *core.Error, id string) {
	status, ok := statusOfKind[ce.Kind]
	switch {
	case !ok || ce.Kind == core.KindInternal:
		s.internal(c, id, ce)
		return
	case ce.Kind == core.KindUnavailable:
		s.log.LogAttrs(c.UserContext(), slog.LevelWarn, "dependency unavailable",
			slog.String("request_id", id), slog.String("error", ce.Error()))
		c.Set(fiber.HeaderRetryAfter, unavailableRetryAfter)
	case ce.Kind == core.KindRateLimited:
		// better-auth's header, in whole seconds rounded up: a client that
		// waits exactly that long is let through.
		secs := int(math.Ceil(ce.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		c.Set("X-Retry-After", strconv.Itoa(secs))
	}
	code := ce.Code
	if strings.HasPrefix(code, "-") {
		code = ""
	}
	s.writeError(c, status, ce.Message, code)
}

func (s *server) unavailable(c *fiber.Ctx) {
	c.Set(fiber.HeaderRetryAfter, unavailableRetryAfter)
	s.writeError(c, fiber.StatusServiceUnavailable, core.ErrUnavailable.Message, core.ErrUnavailable.Code)
}

func (s *server) internal(c *fiber.Ctx, id string, err error) {
	s.log.LogAttrs(c.UserContext(), slog.LevelError, "internal error",
		slog.String("request_id", id), slog.String("method", c.Method()),
		slog.String("route", s.routeOf(c)), slog.String("error", err.Error()))
	s.writeError(c, fiber.StatusInternalServerError, "Internal Server Error", "INTERNAL_SERVER_ERROR")
}

// writeError sends better-auth's error envelope; an empty message means an
// empty body that is still labelled JSON (APIError.fromStatus without body).
func (s *server) writeError(c *fiber.Ctx, status int, message, code string) {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if message == "" {
		return
	}
	c.Response().SetBodyRaw(jsonw.ErrorBody(message, code))
}
