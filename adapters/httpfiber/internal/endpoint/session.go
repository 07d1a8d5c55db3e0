package endpoint

import (
	"errors"
	"math"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

// CookieState is what the request's cookies say about the session.
type CookieState struct {
	Header       string // the Cookie header, for readers of other cookies
	Token        string // the verified session token, "" otherwise
	Verified     bool
	DontRemember bool // a valid signed dont_remember cookie is present
}

// ReadCookies reads the session and dont_remember cookies; with the bearer
// plugin on, a valid Authorization: Bearer overrides the session cookie.
func (e *Env) ReadCookies(c *fiber.Ctx) CookieState {
	cs := e.readCookies(c)
	if e.Bearer {
		if v, ok := e.bearerCookie(c); ok {
			return e.withBearer(cs, v)
		}
	}
	return cs
}

func (e *Env) readCookies(c *fiber.Ctx) CookieState {
	h := c.Request().Header.Peek(fiber.HeaderCookie)
	if len(h) == 0 {
		return CookieState{}
	}
	cs := CookieState{Header: string(h)}
	header := cs.Header
	if tok, st := e.Cookies.ReadSigned(header, e.Cookies.Name(cookie.SessionToken)); st == cookie.Verified {
		cs.Token, cs.Verified = tok, true
	}
	_, st := e.Cookies.ReadSigned(header, e.Cookies.Name(cookie.DontRemember))
	cs.DontRemember = st == cookie.Verified
	return cs
}

// LoadSession returns the live session named by a verified cookie, or nil.
// A verified cookie whose session is gone or expired is cleared, as
// better-auth's session middleware does. Outages are errors, never "no
// session".
func (e *Env) LoadSession(c *fiber.Ctx, cs CookieState) (*core.SessionView, error) {
	if !cs.Verified {
		return nil, nil
	}
	v, err := e.Auth.RequireSession(c.UserContext(), cs.Token)
	if err != nil {
		if errors.Is(err, core.ErrSessionNotFound) {
			e.ExpireSessionCookies(c)
			return nil, nil
		}
		return nil, err
	}
	return &v, nil
}

// SetSessionCookie is better-auth's setSessionCookie. A remembered session
// cookie lives as long as the session, in whole seconds rounded up (so a
// fresh 7-day session gets Max-Age=604800); a "don't remember" one is a
// browser-session cookie paired with a signed dont_remember=true, and an
// obsolete dont_remember cookie is expired. The cookie cache, when on, is
// rewritten with the session and user.
func (e *Env) SetSessionCookie(c *fiber.Ctx, v core.SessionView, dontRemember, hadDontRemember bool) {
	sess := v.Session
	maxAge := -1
	if !dontRemember {
		maxAge = int(math.Ceil(sess.ExpiresAt().Sub(e.Clock.Now()).Seconds()))
		if maxAge < 0 {
			maxAge = 0
		}
	}
	e.PutCookie(c, cookie.SessionToken, e.Cookies.Sign(sess.Token()), maxAge)
	switch {
	case dontRemember:
		e.PutCookie(c, cookie.DontRemember, e.Cookies.Sign("true"), -1)
	case hadDontRemember:
		e.PutCookie(c, cookie.DontRemember, "", 0)
	}
	e.SetCookieCache(c, v, dontRemember)
}

// ExpireSessionCookies is better-auth's deleteSessionCookie.
func (e *Env) ExpireSessionCookies(c *fiber.Ctx) {
	e.PutCookie(c, cookie.SessionToken, "", 0)
	e.ExpireSessionData(c, string(c.Request().Header.Peek(fiber.HeaderCookie)))
	e.PutCookie(c, cookie.SessionData, "", 0)
	e.PutCookie(c, cookie.DontRemember, "", 0)
}

// PutCookie writes a raw Set-Cookie header (Fiber's cookie writer would
// reorder the attributes and re-encode the value), replacing an earlier one
// for the same cookie, and marks the response uncacheable.
func (e *Env) PutCookie(c *fiber.Ctx, base, value string, maxAge int) {
	name := e.Cookies.Name(base)
	h := &c.Response().Header
	h.DelCookie(name)
	h.Add(fiber.HeaderSetCookie, e.Cookies.SetCookie(name, value, maxAge))
	NoStore(c)
}
