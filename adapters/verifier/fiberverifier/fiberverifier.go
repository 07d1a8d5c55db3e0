// Package fiberverifier is verifier's middleware for Fiber v2, apart so
// that net/http services do not depend on Fiber.
package fiberverifier

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/verifier"
)

// localsKey is where the claims sit in c.Locals.
const localsKey = "authd.verifier.claims"

// New returns middleware that lets through only requests with a valid bearer
// JWT; the claims are in Claims(c) and in c.UserContext() (verifier.ClaimsFrom).
func New(v *verifier.Verifier) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := http.Header{}
		h.Set("Authorization", c.Get(fiber.HeaderAuthorization))
		claims, err := v.Verify(c.UserContext(), verifier.BearerToken(h))
		if err != nil {
			status, body := verifier.Refusal(err)
			if status == http.StatusUnauthorized {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
			}
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Status(status).Send(body)
		}
		c.Locals(localsKey, claims)
		c.SetUserContext(verifier.WithClaims(c.UserContext(), claims))
		return c.Next()
	}
}

// Claims returns the claims New verified for this request.
func Claims(c *fiber.Ctx) (*verifier.Claims, bool) {
	claims, ok := c.Locals(localsKey).(*verifier.Claims)
	return claims, ok
}
