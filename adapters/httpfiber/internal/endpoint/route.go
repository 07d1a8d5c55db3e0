package endpoint

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/core"
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
