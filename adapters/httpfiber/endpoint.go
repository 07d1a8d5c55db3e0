package httpfiber

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/jsuri"
)

// endpoint runs one route through better-auth's request pipeline, in its
// order: body media type and syntax, the router-wide origin check (mutating
// methods), schema validation of body then query, the endpoint's own checks
// (form CSRF, callbackURL of GET links, session), then the handler.
type endpoint struct {
	allowForm bool // sign-in and sign-up also take urlencoded forms
	noBody    bool // get-session never reads a body
	body      *schema
	query     *schema
	formCSRF  bool
	// checkCallbackQuery validates query.callbackURL on GET links
	// (verify-email, reset-password/:token, delete-user/callback).
	checkCallbackQuery bool
	session            sessionNeed
	handle             func(c *fiber.Ctx, r *request) error
}

type sessionNeed int

const (
	sessionNone     sessionNeed = iota
	sessionOptional             // the handler gets r.view when there is a live session
	sessionRequired             // 401 UNAUTHORIZED without one
)

// request is what the pipeline hands to a handler. Every string in it is a
// copy, safe to keep after the handler returns.
type request struct {
	body   map[string]any // nil when the body is absent or not an object
	query  map[string]any
	cookie cookieState
	view   *core.SessionView
}

func (s *server) endpoint(e endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r := &request{}
		var b body
		if !e.noBody {
			var err error
			if b, err = readBody(c, e.allowForm); err != nil {
				return err
			}
		}
		r.body, _ = b.object()
		q, err := readQuery(c)
		if err != nil {
			return err
		}
		r.query = q
		if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead && m != fiber.MethodOptions {
			if err := s.checkOrigin(c, false); err != nil {
				return err
			}
			if err := s.checkRedirects(r.body, r.query); err != nil {
				return err
			}
		}
		if e.body != nil {
			if err := e.body.check("body", b.present, b.v); err != nil {
				return err
			}
		}
		if e.query != nil {
			if err := e.query.check("query", true, r.query); err != nil {
				return err
			}
		}
		if e.formCSRF {
			if err := s.checkFormCSRF(c); err != nil {
				return err
			}
		}
		if e.checkCallbackQuery {
			if cb := getStr(r.query, "callbackURL"); cb != "" && !s.origins.trusted(cb, true) {
				return errInvalidCallbackURL
			}
		}
		r.cookie = s.readCookies(c)
		if e.session != sessionNone {
			v, err := s.loadSession(c, r.cookie)
			if err != nil {
				return err
			}
			if v == nil && e.session == sessionRequired {
				return core.ErrUnauthorized
			}
			r.view = v
		}
		return e.handle(c, r)
	}
}

var (
	errMissingOrigin      = forbidden("MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	errInvalidOrigin      = forbidden("INVALID_ORIGIN", "Invalid origin")
	errInvalidCallbackURL = forbidden("INVALID_CALLBACK_URL", "Invalid callbackURL")
	errCSRFNavigation     = forbidden("CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
		"Cross-site navigation login blocked. This request appears to be a CSRF attack.")
)

func forbidden(code, msg string) *apiError {
	return &apiError{Status: fiber.StatusForbidden, Code: code, Message: msg}
}

// redirectParams are the body fields better-auth's origin check validates,
// with the label its messages use and the code of a rejection.
var redirectParams = []struct{ key, label, code string }{
	{"callbackURL", "callbackURL", "INVALID_CALLBACK_URL"},
	{"redirectTo", "redirectURL", "INVALID_REDIRECT_URL"},
	{"errorCallbackURL", "errorCallbackURL", "INVALID_ERROR_CALLBACK_URL"},
	{"newUserCallbackURL", "newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL"},
}

// checkRedirects validates every redirect target in the body (callbackURL
// also in the query): absent or falsy values pass, non-strings are a 400,
// untrusted URLs a 403.
func (s *server) checkRedirects(body, query map[string]any) error {
	for _, p := range redirectParams {
		v := body[p.key]
		if p.key == "callbackURL" && !truthy(v) {
			v = query[p.key]
		}
		if !truthy(v) {
			continue
		}
		u, ok := v.(string)
		if !ok {
			return &apiError{Status: fiber.StatusBadRequest, Message: "Invalid " + p.label + ": expected a string"}
		}
		if !s.origins.trusted(u, true) {
			return forbidden(p.code, "Invalid "+p.label)
		}
	}
	return nil
}

// checkOrigin is better-auth's validateOrigin: requests that carry cookies
// (or all requests, when force is set) must come from a trusted Origin, or
// failing that Referer.
func (s *server) checkOrigin(c *fiber.Ctx, force bool) error {
	if !force && c.Request().Header.Peek(fiber.HeaderCookie) == nil {
		return nil
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "null" && c.Get("Sec-Fetch-Site") == "same-origin" {
		// The browser vouches that the request is same-origin: it comes
		// from our own origin, whatever it could not name.
		origin = s.baseOrigin
	}
	v := origin
	if v == "" {
		v = c.Get(fiber.HeaderReferer)
	}
	if v == "" || v == "null" {
		return errMissingOrigin
	}
	if !s.origins.trusted(v, false) {
		return errInvalidOrigin
	}
	return nil
}

// checkFormCSRF is better-auth's formCsrfMiddleware for sign-in and
// sign-up, which first-time visitors reach without cookies: Fetch Metadata
// blocks cross-site navigations, and any Origin/Referer must be trusted.
func (s *server) checkFormCSRF(c *fiber.Ctx) error {
	if c.Request().Header.Peek(fiber.HeaderCookie) != nil {
		return s.checkOrigin(c, false)
	}
	site := c.Get("Sec-Fetch-Site")
	mode := c.Get("Sec-Fetch-Mode")
	dest := c.Get("Sec-Fetch-Dest")
	if strings.TrimSpace(site) != "" || strings.TrimSpace(mode) != "" || strings.TrimSpace(dest) != "" {
		if site == "cross-site" && mode == "navigate" {
			return errCSRFNavigation
		}
		return s.checkOrigin(c, true)
	}
	if c.Get(fiber.HeaderOrigin) != "" || c.Get(fiber.HeaderReferer) != "" {
		return s.checkOrigin(c, true)
	}
	return nil
}

// meta describes the caller for new sessions. The user agent is trimmed to
// something a database column can always hold.
func (s *server) meta(c *fiber.Ctx) core.RequestMeta {
	m := core.RequestMeta{}
	if a, ok := s.client(c); ok {
		m.IP = a.String()
	}
	ua := string(c.Request().Header.UserAgent())
	if len(ua) > 512 {
		ua = ua[:512]
	}
	ua = strings.ToValidUTF8(strings.ReplaceAll(ua, "\x00", ""), "")
	m.UserAgent = ua
	return m
}

// pathParam returns a decoded route parameter; ok is false when it does
// not decode to clean UTF-8 (such a value can never be a valid token).
func pathParam(c *fiber.Ctx, name string) (string, bool) {
	v, ok := jsuri.DecodeURIComponent(c.Params(name))
	if !ok || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return "", false
	}
	return strings.Clone(v), true
}

// isCode reports whether err is a core error with one of the given codes.
func isCode(err error, codes ...string) (*core.Error, bool) {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return nil, false
	}
	for _, code := range codes {
		if ce.Code == code {
			return ce, true
		}
	}
	return nil, false
}
