package httpfiber

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

var errGetSessionPost = &apiError{Status: fiber.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
	Message: "POST method requires deferSessionRefresh to be enabled in session config"}

// GET /get-session (wire spec §4.5). No, unsigned or forged cookie: null and
// nothing else. A verified cookie whose session is gone: null and the cookies
// are cleared. An outage is an error (503), never null, which the client
// would read as "signed out".
func (s *server) getSession(c *fiber.Ctx, r *request) error {
	noStore(c)
	cacheOn := s.o.CookieCacheMaxAge > 0
	if !cacheOn {
		s.expireSessionData(c, r.cookie.header)
	}
	if !r.cookie.verified {
		return sendJSON(c, []byte("null"))
	}
	// better-auth coerces the flags: any non-empty value means true.
	if cacheOn && !truthy(r.query["disableCookieCache"]) {
		if raw, ok := s.readSessionData(r.cookie.header); ok {
			if v, ok := s.decodeSessionData(raw, r.cookie.token, s.clock.Now()); ok {
				return sendJSON(c, sessionViewJSON(v))
			}
			s.putCookie(c, cookieSessionData, "", 0)
		}
	}
	disableRefresh := truthy(r.query["disableRefresh"])
	v, refreshed, err := s.auth.GetSession(c.UserContext(), r.cookie.token, core.SessionOptions{
		DontRemember:   r.cookie.dontRemember,
		DisableRefresh: disableRefresh,
	})
	if errors.Is(err, core.ErrSessionNotFound) || errors.Is(err, core.ErrUnauthorized) {
		s.expireSessionCookies(c)
		return sendJSON(c, []byte("null"))
	}
	if errors.Is(err, core.ErrFailedToGetSession) {
		// Revoked between read and refresh: better-auth clears the cookies
		// and answers 401.
		s.expireSessionCookies(c)
		return err
	}
	if err != nil {
		return err
	}
	switch {
	case refreshed:
		s.setSessionCookie(c, v, false, r.cookie.dontRemember)
	case !r.cookie.dontRemember && !disableRefresh:
		s.setCookieCache(c, v, false)
	}
	return sendJSON(c, sessionViewJSON(v))
}

func sessionViewJSON(v core.SessionView) []byte {
	w := &jw{b: make([]byte, 0, 768)}
	w.raw(`{"session":`).session(v.Session).raw(`,"user":`).user(v.User).raw("}")
	return w.b
}

// POST /get-session is only for deferSessionRefresh, which authd does not
// offer.
func (s *server) getSessionPost(c *fiber.Ctx, _ *request) error {
	noStore(c)
	return errGetSessionPost
}

// GET /list-sessions (wire spec §4.7; the engine checks freshness).
func (s *server) listSessions(c *fiber.Ctx, r *request) error {
	sessions, err := s.auth.ListSessions(c.UserContext(), *r.view)
	if err != nil {
		return err
	}
	noStore(c) // the body holds every session token of the user
	return sendJSON(c, jsonArray(sessions, 300, (*jw).session))
}

// POST /revoke-session: always {"status":true}; revoking the caller's own
// session also clears its cookies.
func (s *server) revokeSession(c *fiber.Ctx, r *request) error {
	current, err := s.auth.RevokeSession(c.UserContext(), *r.view, getStr(r.body, "token"))
	if err != nil {
		return err
	}
	if current {
		s.expireSessionCookies(c)
	}
	return sendJSON(c, []byte(statusTrue))
}

// POST /revoke-sessions ends every session of the user, this one included.
func (s *server) revokeSessions(c *fiber.Ctx, r *request) error {
	if err := s.auth.RevokeSessions(c.UserContext(), *r.view); err != nil {
		return err
	}
	s.expireSessionCookies(c)
	return sendJSON(c, []byte(statusTrue))
}

// POST /revoke-other-sessions keeps only the caller's session.
func (s *server) revokeOtherSessions(c *fiber.Ctx, r *request) error {
	if err := s.auth.RevokeOtherSessions(c.UserContext(), *r.view); err != nil {
		return err
	}
	return sendJSON(c, []byte(statusTrue))
}

// POST /update-session (wire spec §4.7) sets session additional fields.
// authd defines none, so every object body, once the session is known, has
// nothing to update: better-auth's answer when no field applies.
func (s *server) updateSession(*fiber.Ctx, *request) error {
	return core.ErrNoFieldsToUpdate
}

const statusTrue = `{"status":true}`
