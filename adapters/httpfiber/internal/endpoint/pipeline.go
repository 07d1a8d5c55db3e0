package endpoint

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/jsuri"
)

// Spec is what a route asks of better-auth's request pipeline besides its
// input struct.
type Spec struct {
	AllowForm bool // sign-in and sign-up also take urlencoded forms
	NoBody    bool // get-session never reads a body
	FormCSRF  bool
	// CheckCallbackQuery validates query.callbackURL on GET links
	// (verify-email, reset-password/:token, delete-user/callback).
	CheckCallbackQuery bool
	Session            SessionNeed
}

// SessionNeed says whether a route loads the caller's session.
type SessionNeed int

const (
	SessionNone     SessionNeed = iota
	SessionOptional             // the handler gets r.View when there is a live session
	SessionRequired             // 401 UNAUTHORIZED without one
)

// Request is what the pipeline hands to a handler besides its input. Every
// string in it is a copy, safe to keep after the handler returns.
type Request struct {
	Cookie CookieState
	View   *core.SessionView // nil unless the route loads the session and there is one
}

// Route is one endpoint of a feature's route table.
type Route struct {
	Method string
	Path   string // under the base path
	Spec   Spec
	// Answers overrides the status of core errors on this route.
	Answers Answers
	schema  *body.Schema
	serve   func(c *fiber.Ctx, r *Request, b body.Body, q map[string]any) error
}

// Answers maps core errors to the status a route answers them with, where
// better-auth's route differs from the general mapping (the root package's
// errors.go).
type Answers map[*core.Error]int

// Answer returns rt answering errs with status.
func (rt Route) Answer(status int, errs ...*core.Error) Route {
	a := make(Answers, len(rt.Answers)+len(errs))
	for e, st := range rt.Answers {
		a[e] = st
	}
	for _, e := range errs {
		a[e] = status
	}
	rt.Answers = a
	return rt
}

// Handler is a route's handler, with its input bound and validated.
type Handler[T any] func(c *fiber.Ctx, r *Request, in *T) error

// GET declares a GET route whose query binds to T (see body.Compile); T's
// schema is compiled here, once.
func GET[T any](path string, spec Spec, h Handler[T]) Route {
	return route(fiber.MethodGet, path, spec, h)
}

// POST declares a POST route whose body and query bind to T.
func POST[T any](path string, spec Spec, h Handler[T]) Route {
	return route(fiber.MethodPost, path, spec, h)
}

func route[T any](method, path string, spec Spec, h Handler[T]) Route {
	s := body.Compile[T]()
	return Route{Method: method, Path: path, Spec: spec, schema: s,
		serve: func(c *fiber.Ctx, r *Request, b body.Body, q map[string]any) error {
			in := new(T)
			s.Bind(b, q, in)
			return h(c, r, in)
		}}
}

// Handler runs rt through better-auth's request pipeline, in its order:
// body media type and syntax, the router-wide origin check (mutating
// methods), schema validation of body then query, the endpoint's own checks
// (form CSRF, callbackURL of GET links, session), then the handler.
func (e *Env) Handler(rt Route) fiber.Handler {
	spec := rt.Spec
	return func(c *fiber.Ctx) error {
		r := &Request{}
		var b body.Body
		if !spec.NoBody {
			var err error
			if b, err = body.Read(c, spec.AllowForm); err != nil {
				return err
			}
		}
		q, err := body.ReadQuery(c)
		if err != nil {
			return err
		}
		if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead && m != fiber.MethodOptions {
			if err := e.checkOrigin(c, false); err != nil {
				return err
			}
			if err := e.checkRedirects(b.Object(), q); err != nil {
				return err
			}
		}
		if err := rt.schema.Check(b, q); err != nil {
			return err
		}
		if spec.FormCSRF {
			if err := e.checkFormCSRF(c); err != nil {
				return err
			}
		}
		if spec.CheckCallbackQuery {
			if cb, _ := q["callbackURL"].(string); cb != "" && !e.Origins.Trusted(cb, true) {
				return ErrInvalidCallbackURL
			}
		}
		r.Cookie = e.ReadCookies(c)
		if spec.Session != SessionNone {
			v, err := e.LoadSession(c, r.Cookie)
			if err != nil {
				return err
			}
			if v == nil && spec.Session == SessionRequired {
				return ErrUnauthorized
			}
			r.View = v
		}
		return rt.serve(c, r, b, q)
	}
}

// ErrUnauthorized is the answer of a session-required route without a
// session.
var ErrUnauthorized = apierror.New(fiber.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")

var (
	errMissingOrigin      = apierror.Forbidden("MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	errInvalidOrigin      = apierror.Forbidden("INVALID_ORIGIN", "Invalid origin")
	ErrInvalidCallbackURL = apierror.Forbidden("INVALID_CALLBACK_URL", "Invalid callbackURL")
	errCSRFNavigation     = apierror.Forbidden("CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
		"Cross-site navigation login blocked. This request appears to be a CSRF attack.")
)

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
func (e *Env) checkRedirects(b, q map[string]any) error {
	for _, p := range redirectParams {
		v := b[p.key]
		if p.key == "callbackURL" && !body.Truthy(v) {
			v = q[p.key]
		}
		if !body.Truthy(v) {
			continue
		}
		u, ok := v.(string)
		if !ok {
			return apierror.BadRequest("", "Invalid "+p.label+": expected a string")
		}
		if !e.Origins.Trusted(u, true) {
			return apierror.Forbidden(p.code, "Invalid "+p.label)
		}
	}
	return nil
}

// checkOrigin is better-auth's validateOrigin: requests that carry cookies
// (or all requests, when force is set) must come from a trusted Origin, or
// failing that Referer.
func (e *Env) checkOrigin(c *fiber.Ctx, force bool) error {
	if !force && c.Request().Header.Peek(fiber.HeaderCookie) == nil {
		return nil
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "null" && c.Get("Sec-Fetch-Site") == "same-origin" {
		// The browser vouches that the request is same-origin: it comes
		// from our own origin, whatever it could not name.
		origin = e.BaseOrigin
	}
	v := origin
	if v == "" {
		v = c.Get(fiber.HeaderReferer)
	}
	if v == "" || v == "null" {
		return errMissingOrigin
	}
	if !e.Origins.Trusted(v, false) {
		return errInvalidOrigin
	}
	return nil
}

// checkFormCSRF is better-auth's formCsrfMiddleware for sign-in and
// sign-up, which first-time visitors reach without cookies: Fetch Metadata
// blocks cross-site navigations, and any Origin/Referer must be trusted.
func (e *Env) checkFormCSRF(c *fiber.Ctx) error {
	if c.Request().Header.Peek(fiber.HeaderCookie) != nil {
		return e.checkOrigin(c, false)
	}
	site := c.Get("Sec-Fetch-Site")
	mode := c.Get("Sec-Fetch-Mode")
	dest := c.Get("Sec-Fetch-Dest")
	if strings.TrimSpace(site) != "" || strings.TrimSpace(mode) != "" || strings.TrimSpace(dest) != "" {
		if site == "cross-site" && mode == "navigate" {
			return errCSRFNavigation
		}
		return e.checkOrigin(c, true)
	}
	if c.Get(fiber.HeaderOrigin) != "" || c.Get(fiber.HeaderReferer) != "" {
		return e.checkOrigin(c, true)
	}
	return nil
}

// Meta describes the caller for new sessions. The user agent is trimmed to
// something a database column can always hold.
func (e *Env) Meta(c *fiber.Ctx) core.RequestMeta {
	m := core.RequestMeta{}
	if a, ok := e.ClientAddr(c); ok {
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

// PathParam returns a decoded route parameter; ok is false when it does
// not decode to clean UTF-8 (such a value can never be a valid token).
func PathParam(c *fiber.Ctx, name string) (string, bool) {
	v, ok := jsuri.DecodeURIComponent(c.Params(name))
	if !ok || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return "", false
	}
	return strings.Clone(v), true
}
