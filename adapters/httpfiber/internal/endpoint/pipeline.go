package endpoint

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/core"
)

// Handler runs rt through better-auth's request pipeline, in its order:
// body media type and syntax, the router-wide origin check (mutating
// methods), schema validation of body then query, the endpoint's own checks
// (form CSRF, callbackURL of GET links, session), then the handler.
func (e *Env) Handler(rt Route) fiber.Handler {
	spec := rt.Spec
	return func(c *fiber.Ctx) error {
		if rt.Answers != nil {
			c.Locals(localAnswers, rt.Answers)
		}
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
				return errInvalidCallbackURL
			}
		}
		r.Cookie = e.ReadCookies(c)
		if spec.Session != SessionNone {
			v, err := e.LoadSession(c, r.Cookie)
			if err != nil {
				return err
			}
			if v == nil && spec.Session == SessionRequired {
				return core.ErrSessionNotFound
			}
			r.View = v
		}
		return rt.serve(c, r, b, q)
	}
}

const localAnswers = "endpoint.answers"

// AnswersOf returns the error statuses declared by the route serving c, for
// the error mapping; nil when it declares none.
func AnswersOf(c *fiber.Ctx) Answers {
	a, _ := c.Locals(localAnswers).(Answers)
	return a
}
