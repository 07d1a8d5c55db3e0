package sessions

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type getSessionInput struct {
	// better-auth coerces the flags: any non-empty value means true.
	DisableCookieCache bool `query:"disableCookieCache" zod:"truthy"`
	DisableRefresh     bool `query:"disableRefresh" zod:"truthy"`
}

// GET /get-session (wire spec §4.5). No, unsigned or forged cookie: null and
// nothing else. A verified cookie whose session is gone: null and the cookies
// are cleared. An outage is an error (503), never null, which the client
// would read as "signed out".
func (h handlers) getSession(c *fiber.Ctx, r *endpoint.Request, in *getSessionInput) error {
	endpoint.NoStore(c)
	cacheOn := h.CookieCacheMaxAge > 0
	if !cacheOn {
		h.ExpireSessionData(c, r.Cookie.Header)
	}
	if !r.Cookie.Verified {
		return endpoint.SendJSON(c, []byte("null"))
	}
	if cacheOn && !in.DisableCookieCache {
		if v, ok := h.CachedSession(c, r.Cookie); ok {
			return h.answer(c, v)
		}
	}
	v, refreshed, err := h.Auth.GetSession(c.UserContext(), r.Cookie.Token, core.SessionOptions{
		DontRemember:   r.Cookie.DontRemember,
		DisableRefresh: in.DisableRefresh,
	})
	if errors.Is(err, core.ErrSessionNotFound) {
		h.ExpireSessionCookies(c)
		return endpoint.SendJSON(c, []byte("null"))
	}
	if errors.Is(err, core.ErrFailedToGetSession) {
		// Revoked between read and refresh: better-auth clears the cookies
		// and answers 401.
		h.ExpireSessionCookies(c)
		return err
	}
	if err != nil {
		return err
	}
	switch {
	case refreshed:
		h.SetSessionCookie(c, v, false, r.Cookie.DontRemember)
	case !r.Cookie.DontRemember && !in.DisableRefresh:
		h.SetCookieCache(c, v, false)
	}
	return h.answer(c, v)
}

// answer sends v, after the plugins' get-session hooks (set-auth-jwt).
func (h handlers) answer(c *fiber.Ctx, v core.SessionView) error {
	if h.AfterGetSession != nil {
		if err := h.AfterGetSession(c, v); err != nil {
			return err
		}
	}
	return endpoint.SendJSON(c, h.sessionViewJSON(v))
}

func (h handlers) sessionViewJSON(v core.SessionView) []byte {
	w := h.JSON(768)
	w.Raw(`{"session":`).Session(v.Session).Raw(`,"user":`).User(v.User).Raw("}")
	return w.B
}

var errGetSessionPost = apierror.New(fiber.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
	"POST method requires deferSessionRefresh to be enabled in session config")

// POST /get-session is only for deferSessionRefresh, which authd does not
// offer.
func (h handlers) getSessionPost(c *fiber.Ctx, _ *endpoint.Request, _ *struct{}) error {
	endpoint.NoStore(c)
	return errGetSessionPost
}
