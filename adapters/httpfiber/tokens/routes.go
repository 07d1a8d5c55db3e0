// Package tokens serves better-auth's jwt and bearer plugins (plugins spec
// §3): GET /token and GET /jwks, the set-auth-jwt header on get-session,
// and set-auth-token on responses that set the session cookie. Reading
// Authorization: Bearer is part of the request pipeline
// (internal/endpoint), since it decides which session every route sees.
package tokens

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type handlers struct{ *endpoint.Env }

// Routes is the feature's route table: empty unless the jwt plugin is on.
// better-auth's server-only sign-jwt and verify-jwt are not served.
func Routes(e *endpoint.Env) []endpoint.Route {
	if e.Tokens == nil {
		return nil
	}
	h := handlers{e}
	return []endpoint.Route{
		endpoint.GET("/token", endpoint.Spec{NoBody: true, Session: endpoint.SessionRequired}, h.token),
		endpoint.GET("/jwks", endpoint.Spec{NoBody: true}, h.jwks),
	}
}

// GET /token: {"token":"<JWT>"} for the caller's session, without
// set-auth-jwt.
func (h handlers) token(c *fiber.Ctx, r *endpoint.Request, _ *struct{}) error {
	jwt, err := h.Tokens.Token(c.UserContext(), *r.View)
	if err != nil {
		return err
	}
	return endpoint.SendJSON(c, append(append([]byte(`{"token":"`), jwt...), `"}`...))
}

// SetAuthJWT is the jwt plugin's get-session hook (Env.AfterGetSession): a
// JWT of the session's user in set-auth-jwt.
func SetAuthJWT(e *endpoint.Env) func(c *fiber.Ctx, v core.SessionView) error {
	return func(c *fiber.Ctx, v core.SessionView) error {
		jwt, err := e.Tokens.Token(c.UserContext(), v)
		if err != nil {
			return err
		}
		endpoint.Expose(c, "set-auth-jwt", jwt)
		return nil
	}
}
