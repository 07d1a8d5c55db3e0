package httpfiber

import (
	"errors"
	"math"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// cookieState is what the request's cookies say about the session.
type cookieState struct {
	header       string // the Cookie header, for readers of other cookies
	token        string // the verified session token, "" otherwise
	verified     bool
	dontRemember bool // a valid signed dont_remember cookie is present
}

func (s *server) readCookies(c *fiber.Ctx) cookieState {
	h := c.Request().Header.Peek(fiber.HeaderCookie)
	if len(h) == 0 {
		return cookieState{}
	}
	cs := cookieState{header: string(h)}
	header := cs.header
	if tok, st := s.cookies.readSigned(header, s.cookies.name(cookieSessionToken)); st == cookieVerified {
		cs.token, cs.verified = tok, true
	}
	_, st := s.cookies.readSigned(header, s.cookies.name(cookieDontRemember))
	cs.dontRemember = st == cookieVerified
	return cs
}

// loadSession returns the live session named by a verified cookie, or nil.
// A verified cookie whose session is gone or expired is cleared, as
// better-auth's session middleware does. Outages are errors, never "no
// session".
func (s *server) loadSession(c *fiber.Ctx, cs cookieState) (*core.SessionView, error) {
	if !cs.verified {
		return nil, nil
	}
	v, err := s.auth.RequireSession(c.UserContext(), cs.token)
	if err != nil {
		if errors.Is(err, core.ErrUnauthorized) || errors.Is(err, core.ErrSessionNotFound) {
			s.expireSessionCookies(c)
			return nil, nil
		}
		return nil, err
	}
	return &v, nil
}

// setSessionCookie is better-auth's setSessionCookie. A remembered session
// cookie lives as long as the session, in whole seconds rounded up (so a
// fresh 7-day session gets Max-Age=604800); a "don't remember" one is a
// browser-session cookie paired with a signed dont_remember=true, and an
// obsolete dont_remember cookie is expired. The cookie cache, when on, is
// rewritten with the session and user.
func (s *server) setSessionCookie(c *fiber.Ctx, v core.SessionView, dontRemember, hadDontRemember bool) {
	sess := v.Session
	maxAge := -1
	if !dontRemember {
		maxAge = int(math.Ceil(sess.ExpiresAt().Sub(s.clock.Now()).Seconds()))
		if maxAge < 0 {
			maxAge = 0
		}
	}
	s.putCookie(c, cookieSessionToken, s.cookies.sign(sess.Token()), maxAge)
	switch {
	case dontRemember:
		s.putCookie(c, cookieDontRemember, s.cookies.sign("true"), -1)
	case hadDontRemember:
		s.putCookie(c, cookieDontRemember, "", 0)
	}
	s.setCookieCache(c, v, dontRemember)
}

// expireSessionCookies is better-auth's deleteSessionCookie.
func (s *server) expireSessionCookies(c *fiber.Ctx) {
	s.putCookie(c, cookieSessionToken, "", 0)
	s.expireSessionData(c, string(c.Request().Header.Peek(fiber.HeaderCookie)))
	s.putCookie(c, cookieSessionData, "", 0)
	s.putCookie(c, cookieDontRemember, "", 0)
}

// putCookie writes a raw Set-Cookie header (Fiber's cookie writer would
// reorder the attributes and re-encode the value), replacing an earlier one
// for the same cookie, and marks the response uncacheable.
func (s *server) putCookie(c *fiber.Ctx, base, value string, maxAge int) {
	name := s.cookies.name(base)
	h := &c.Response().Header
	h.DelCookie(name)
	h.Add(fiber.HeaderSetCookie, s.cookies.setCookie(name, value, maxAge))
	noStore(c)
}

func noStore(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
}

func sendJSON(c *fiber.Ctx, b []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(b)
	c.Status(fiber.StatusOK)
	return nil
}

// redirect is better-call's ctx.redirect: 302, the location, an empty body
// still labelled JSON.
func redirect(c *fiber.Ctx, location string) error {
	c.Set(fiber.HeaderLocation, location)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(fiber.StatusFound)
	return nil
}
