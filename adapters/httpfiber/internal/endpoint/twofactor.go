package endpoint

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

// better-auth's twoFactor cookie lifetimes, in seconds.
const (
	twoFactorMaxAge   = 600
	trustDeviceMaxAge = 30 * 24 * 60 * 60
)

// ChallengeID is the pending sign-in challenge the two_factor cookie names,
// "" when it is absent or not signed by us.
func (e *Env) ChallengeID(cs CookieState) string {
	v, st := e.Cookies.ReadSigned(cs.Header, e.Cookies.Name(cookie.TwoFactor))
	if st != cookie.Verified {
		return ""
	}
	return v
}

// ClearChallenge expires the two_factor cookie.
func (e *Env) ClearChallenge(c *fiber.Ctx) { e.PutCookie(c, cookie.TwoFactor, "", 0) }

// TrustDevice is the trust_device cookie's value when signed by us, else
// "" (a forged cookie is left alone, as better-auth leaves it).
func (e *Env) TrustDevice(cs CookieState) string {
	v, st := e.Cookies.ReadSigned(cs.Header, e.Cookies.Name(cookie.TrustDevice))
	if st != cookie.Verified {
		return ""
	}
	return v
}

// SetTrustDevice gives the browser a trusted-device cookie of value; the
// device is remembered, so the dont_remember cookie goes.
func (e *Env) SetTrustDevice(c *fiber.Ctx, value string) {
	e.PutCookie(c, cookie.TrustDevice, e.Cookies.Sign(value), trustDeviceMaxAge)
	e.PutCookie(c, cookie.DontRemember, "", 0)
}

// ClearTrustDevice expires the trust_device cookie.
func (e *Env) ClearTrustDevice(c *fiber.Ctx) { e.PutCookie(c, cookie.TrustDevice, "", 0) }

// SignInGate applies a password sign-in's second-factor outcome to the
// response: the rotated or refused trusted-device cookie and, for a
// challenge, better-auth's answer in place of a session: the session
// cookies expired (a dont_remember cookie from rememberMe:false stays, the
// completion honours it), the signed two_factor cookie, and
// {"twoFactorRedirect":true,"twoFactorMethods":[...]}. It reports whether
// it answered.
func (e *Env) SignInGate(c *fiber.Ctx, r *Request, g core.SignInGate, dontRemember bool) (bool, error) {
	switch {
	case g.TrustDevice != "":
		e.PutCookie(c, cookie.TrustDevice, e.Cookies.Sign(g.TrustDevice), trustDeviceMaxAge)
	case g.ClearTrustDevice:
		e.ClearTrustDevice(c)
	}
	if g.Challenge == nil {
		return false, nil
	}
	e.PutCookie(c, cookie.SessionToken, "", 0)
	e.ExpireSessionData(c, r.Cookie.Header)
	e.PutCookie(c, cookie.SessionData, "", 0)
	switch {
	case dontRemember:
		e.PutCookie(c, cookie.DontRemember, e.Cookies.Sign("true"), -1)
	case r.Cookie.DontRemember:
		e.PutCookie(c, cookie.DontRemember, "", 0)
	}
	e.PutCookie(c, cookie.TwoFactor, e.Cookies.Sign(g.Challenge.ID), twoFactorMaxAge)
	w := e.JSON(96)
	w.Raw(`{"twoFactorRedirect":true,"twoFactorMethods":[`)
	for i, m := range g.Challenge.Methods {
		if i > 0 {
			w.Raw(",")
		}
		w.Str(m)
	}
	w.Raw("]}")
	return true, SendJSON(c, w.B)
}
