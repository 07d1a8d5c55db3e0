package endpoint

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/body"
)

var (
	errMissingOrigin      = apierror.Forbidden("MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	errInvalidOrigin      = apierror.Forbidden("INVALID_ORIGIN", "Invalid origin")
	errInvalidCallbackURL = apierror.Forbidden("INVALID_CALLBACK_URL", "Invalid callbackURL")
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
