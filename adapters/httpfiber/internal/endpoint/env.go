// Package endpoint is better-auth's request pipeline for the feature route
// groups: the Route type and its GET/POST constructors, which bind each
// route's input struct; the origin, redirect and form-CSRF checks; the
// session loader; the session cookies with their cookie cache; and the
// known-device cookie of the counted password checks. Feature
// packages build their route tables from it; the root package serves them.
package endpoint

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/adapters/httpfiber/internal/origin"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
	"github.com/authd/authd/core/twofactor"
)

// Env is what handlers share; the root package builds one per App.
type Env struct {
	Auth  *core.Auth
	Clock core.Clock
	Log   *slog.Logger
	// BaseURL is the public URL of the auth routes, without a trailing slash.
	BaseURL string
	Origins origin.Policy
	// BaseOrigin is the origin of BaseURL, trusted for "Origin: null" from a
	// same-origin context.
	BaseOrigin string
	Cookies    cookie.Codec
	// Devices signs the known-device cookie (device.go).
	Devices cookie.Codec
	// CookieCacheMaxAge > 0 turns the cookie cache on; CookieCacheVersion
	// is its version.
	CookieCacheMaxAge  time.Duration
	CookieCacheVersion string
	// ClientAddr resolves the caller's address; the root package owns the
	// proxy rules behind it.
	ClientAddr func(*fiber.Ctx) (netip.Addr, bool)
	// Tokens is better-auth's jwt plugin (GET /token, GET /jwks and
	// set-auth-jwt on get-session); nil when it is off.
	Tokens *tokens.Service
	// Bearer is better-auth's bearer plugin: Authorization: Bearer stands
	// for the session cookie (ReadCookies), and responses that set the
	// session cookie carry it in set-auth-token.
	Bearer bool
	// AfterGetSession runs when get-session answers with a session, to add
	// headers (the jwt plugin's set-auth-jwt); nil for none.
	AfterGetSession func(c *fiber.Ctx, v core.SessionView) error
	// TwoFactor is better-auth's twoFactor plugin (its routes; user objects
	// carry twoFactorEnabled; password sign-in may answer a challenge); nil
	// when it is off.
	TwoFactor *twofactor.Service
}

// JSON returns a writer for a response body whose users have the fields
// the enabled plugins add.
func (e *Env) JSON(size int) *jsonw.W {
	w := jsonw.New(size)
	w.TwoFactor = e.TwoFactor != nil
	return w
}
