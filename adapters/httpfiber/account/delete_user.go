package account

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type deleteUserInput struct {
	CallbackURL string `json:"callbackURL"`
	Password    string `json:"password"`
	Token       string `json:"token"`
}

// POST /delete-user (wire spec §4.11): deletes at once, or mails a
// confirmation link first.
func (h handlers) deleteUser(c *fiber.Ctx, r *endpoint.Request, in *deleteUserInput) error {
	del := core.DeleteUserInput{CallbackURL: in.CallbackURL, Meta: h.ClientMeta(c, r)}
	// better-auth tests these for truthiness: an empty string is absent.
	if in.Password != "" {
		del.Password = &in.Password
	}
	if in.Token != "" {
		del.Token = &in.Token
	}
	res, err := h.Auth.DeleteUser(c.UserContext(), *r.View, del)
	if err != nil {
		return err
	}
	if !res.Deleted {
		return endpoint.SendJSON(c, []byte(`{"success":true,"message":"Verification email sent"}`))
	}
	h.ExpireSessionCookies(c)
	return endpoint.SendJSON(c, []byte(`{"success":true,"message":"User deleted"}`))
}

var errDeleteCallbackDisabled = apierror.New(fiber.StatusNotFound, "NOT_FOUND", "Not found")

type deleteCallbackInput struct {
	Token       string `query:"token" zod:"required"`
	CallbackURL string `query:"callbackURL"`
}

// GET /delete-user/callback: the mailed confirmation link. It needs the
// session of the user being deleted. As in better-auth, a disabled route
// answers its 404 before the session is looked at (so a stale cookie is not
// cleared either), and names it where POST /delete-user sends an empty body.
func (h handlers) deleteUserCallback(c *fiber.Ctx, r *endpoint.Request, in *deleteCallbackInput) error {
	if !h.Auth.DeleteUserEnabled() {
		return errDeleteCallbackDisabled
	}
	v, err := h.LoadSession(c, r.Cookie)
	if err != nil {
		return err
	}
	if v == nil {
		return core.ErrFailedToGetUserInfo
	}
	if err := h.Auth.DeleteUserCallback(c.UserContext(), *v, in.Token); err != nil {
		return err
	}
	h.ExpireSessionCookies(c)
	if in.CallbackURL != "" {
		return endpoint.Redirect(c, in.CallbackURL)
	}
	return endpoint.SendJSON(c, []byte(`{"success":true,"message":"User deleted"}`))
}
