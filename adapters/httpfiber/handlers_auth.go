package httpfiber

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// POST /sign-up/email (wire spec §4.1).
func (s *server) signUp(c *fiber.Ctx, r *request) error {
	rememberMe := boolOr(r.body, "rememberMe", true)
	res, err := s.auth.SignUpEmail(c.UserContext(), core.SignUpInput{
		Name:        getStr(r.body, "name"),
		Email:       getStr(r.body, "email"),
		Password:    getStr(r.body, "password"),
		Image:       getStrPtr(r.body, "image"),
		RememberMe:  rememberMe,
		CallbackURL: getStr(r.body, "callbackURL"),
		Meta:        s.meta(c),
	})
	if err != nil {
		return err
	}
	w := &jw{b: make([]byte, 0, 512)}
	w.raw(`{"token":`)
	if res.Session != nil {
		s.setSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, !rememberMe, r.cookie.dontRemember)
		w.str(res.Session.Token())
	} else {
		w.raw("null")
	}
	w.raw(`,"user":`).user(res.User).raw("}")
	return sendJSON(c, w.b)
}

// POST /sign-in/email (wire spec §4.2). With a callbackURL the answer stays
// 200 but carries a Location header and redirect:true.
func (s *server) signIn(c *fiber.Ctx, r *request) error {
	rememberMe := boolOr(r.body, "rememberMe", true)
	callbackURL, hasCallback := r.body["callbackURL"].(string)
	res, err := s.auth.SignInEmail(c.UserContext(), core.SignInInput{
		Email:       getStr(r.body, "email"),
		Password:    getStr(r.body, "password"),
		RememberMe:  rememberMe,
		CallbackURL: callbackURL,
		Meta:        s.clientMeta(c, r),
	})
	if err != nil {
		return err
	}
	if res.Session == nil {
		return core.ErrFailedToCreateSession
	}
	s.setSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, !rememberMe, r.cookie.dontRemember)
	s.setKnownDevice(c, res.User.ID())
	if callbackURL != "" {
		c.Set(fiber.HeaderLocation, callbackURL)
	}
	w := &jw{b: make([]byte, 0, 512)}
	w.raw(`{"redirect":`).boolean(callbackURL != "").
		raw(`,"token":`).str(res.Session.Token())
	if hasCallback {
		w.raw(`,"url":`).str(callbackURL)
	}
	w.raw(`,"user":`).user(res.User).raw("}")
	return sendJSON(c, w.b)
}

// POST /sign-out (wire spec §4.6): deletes the session of a verified cookie
// (an unsigned or forged value deletes nothing) and always expires the
// cookies.
func (s *server) signOut(c *fiber.Ctx, r *request) error {
	if err := s.auth.SignOut(c.UserContext(), r.cookie.token); err != nil {
		return err
	}
	s.expireSessionCookies(c)
	return sendJSON(c, []byte(`{"success":true}`))
}
