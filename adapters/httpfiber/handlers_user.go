package httpfiber

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// POST /update-user (wire spec §4.8). Only name and image are read; every
// other key, emailVerified and id included, is ignored. A truthy email is
// refused like better-auth refuses it, whatever its type.
func (s *server) updateUser(c *fiber.Ctx, r *request) error {
	in := core.UpdateUserInput{Name: getStrPtr(r.body, "name")}
	if e, ok := r.body["email"]; ok && truthy(e) {
		es, isStr := e.(string)
		if !isStr {
			return core.ErrEmailCannotBeUpdated
		}
		in.Email = &es
	}
	if _, ok := r.body["image"]; ok {
		in.ImageSet = true
		in.Image = getStrPtr(r.body, "image") // nil for null: remove the image
	}
	user, err := s.auth.UpdateUser(c.UserContext(), *r.view, in)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, core.SessionView{Session: r.view.Session, User: user}, r.cookie.dontRemember, r.cookie.dontRemember)
	return sendJSON(c, []byte(statusTrue))
}

// POST /change-password (wire spec §4.9). With revokeOtherSessions every
// session ends and a new one (token and cookie) replaces the caller's.
func (s *server) changePassword(c *fiber.Ctx, r *request) error {
	res, err := s.auth.ChangePassword(c.UserContext(), *r.view, core.ChangePasswordInput{
		CurrentPassword:     getStr(r.body, "currentPassword"),
		NewPassword:         getStr(r.body, "newPassword"),
		RevokeOtherSessions: boolOr(r.body, "revokeOtherSessions", false),
		DontRemember:        r.cookie.dontRemember,
		Meta:                s.clientMeta(c, r),
	})
	if err != nil {
		return err
	}
	w := &jw{b: make([]byte, 0, 512)}
	w.raw(`{"token":`)
	if res.Session != nil {
		s.setSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, r.cookie.dontRemember, r.cookie.dontRemember)
		w.str(res.Session.Token())
	} else {
		w.raw("null")
	}
	w.raw(`,"user":`).user(res.User).raw("}")
	return sendJSON(c, w.b)
}

// POST /verify-password (wire spec §4.10): checks the caller's password and
// changes nothing.
func (s *server) verifyPassword(c *fiber.Ctx, r *request) error {
	if err := s.auth.VerifyPassword(c.UserContext(), *r.view, getStr(r.body, "password"), s.clientMeta(c, r)); err != nil {
		return err
	}
	return sendJSON(c, []byte(statusTrue))
}

// POST /change-email (wire spec §4.12).
func (s *server) changeEmail(c *fiber.Ctx, r *request) error {
	if err := s.auth.ChangeEmail(c.UserContext(), *r.view, getStr(r.body, "newEmail"), getStr(r.body, "callbackURL")); err != nil {
		return err
	}
	return sendJSON(c, []byte(statusTrue))
}

// POST /delete-user (wire spec §4.11): deletes at once, or mails a
// confirmation link first.
func (s *server) deleteUser(c *fiber.Ctx, r *request) error {
	in := core.DeleteUserInput{CallbackURL: getStr(r.body, "callbackURL"), Meta: s.clientMeta(c, r)}
	// better-auth tests these for truthiness: an empty string is absent.
	if p := getStr(r.body, "password"); p != "" {
		in.Password = &p
	}
	if t := getStr(r.body, "token"); t != "" {
		in.Token = &t
	}
	res, err := s.auth.DeleteUser(c.UserContext(), *r.view, in)
	if err != nil {
		return err
	}
	if !res.Deleted {
		return sendJSON(c, []byte(`{"success":true,"message":"Verification email sent"}`))
	}
	s.expireSessionCookies(c)
	return sendJSON(c, []byte(`{"success":true,"message":"User deleted"}`))
}

var errDeleteCallbackDisabled = &apiError{Status: fiber.StatusNotFound, Code: "NOT_FOUND", Message: "Not found"}

// GET /delete-user/callback: the mailed confirmation link. It needs the
// session of the user being deleted. As in better-auth, a disabled route
// answers its 404 before the session is looked at (so a stale cookie is not
// cleared either), and names it where POST /delete-user sends an empty body.
func (s *server) deleteUserCallback(c *fiber.Ctx, r *request) error {
	if !s.auth.DeleteUserEnabled() {
		return errDeleteCallbackDisabled
	}
	v, err := s.loadSession(c, r.cookie)
	if err != nil {
		return err
	}
	if v == nil {
		return core.ErrFailedToGetUserInfo
	}
	if err := s.auth.DeleteUserCallback(c.UserContext(), *v, getStr(r.query, "token")); err != nil {
		return err
	}
	s.expireSessionCookies(c)
	if cb := getStr(r.query, "callbackURL"); cb != "" {
		return redirect(c, cb)
	}
	return sendJSON(c, []byte(`{"success":true,"message":"User deleted"}`))
}

// GET /list-accounts (wire spec §4.16).
func (s *server) listAccounts(c *fiber.Ctx, r *request) error {
	accounts, err := s.auth.ListAccounts(c.UserContext(), *r.view)
	if err != nil {
		return err
	}
	noStore(c)
	return sendJSON(c, jsonArray(accounts, 256, (*jw).account))
}
