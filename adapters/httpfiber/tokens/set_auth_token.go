package tokens

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core/jsuri"
)

// SetAuthToken is the bearer plugin's after-hook on every route: when the
// response sets the session cookie to a value (not clearing it: Max-Age
// other than 0), that value, percent-decoded, goes in set-auth-token.
func SetAuthToken(e *endpoint.Env) fiber.Handler {
	name := e.Cookies.Name(cookie.SessionToken)
	return func(c *fiber.Ctx) error {
		err := c.Next()
		var token string
		c.Response().Header.VisitAllCookie(func(key, value []byte) {
			if string(key) == name {
				token = issued(string(value), name)
			}
		})
		if token != "" {
			endpoint.Expose(c, "set-auth-token", token)
		}
		return err
	}
}

// issued returns the value a Set-Cookie line gives cookie name, or "" when
// it clears the cookie.
func issued(line, name string) string {
	v, attrs, _ := strings.Cut(line, ";")
	v, ok := strings.CutPrefix(strings.TrimSpace(v), name+"=")
	if !ok || v == "" {
		return ""
	}
	for _, a := range strings.Split(attrs, ";") {
		if k, val, _ := strings.Cut(strings.TrimSpace(a), "="); strings.EqualFold(k, "max-age") && strings.TrimSpace(val) == "0" {
			return ""
		}
	}
	if d, ok := jsuri.DecodeURIComponent(v); ok {
		v = d
	}
	return v
}
