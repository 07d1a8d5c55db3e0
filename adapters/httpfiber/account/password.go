package account

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type changePasswordInput struct {
	NewPassword         string `json:"newPassword" zod:"required"`
	CurrentPassword     string `json:"currentPassword" zod:"required"`
	RevokeOtherSessions bool   `json:"revokeOtherSessions"`
}

// POST /change-password (wire spec §4.9). With revokeOtherSessions every
// session ends and a new one (token and cookie) replaces the caller's.
func (h handlers) changePassword(c *fiber.Ctx, r *endpoint.Request, in *changePasswordInput) error {
	res, err := h.Auth.ChangePassword(c.UserContext(), *r.View, core.ChangePasswordInput{
		CurrentPassword:     in.CurrentPassword,
		NewPassword:         in.NewPassword,
		RevokeOtherSessions: in.RevokeOtherSessions,
		DontRemember:        r.Cookie.DontRemember,
		Meta:                h.ClientMeta(c, r),
	})
	if err != nil {
		return err
	}
	w := h.JSON(512)
	w.Raw(`{"token":`)
	if res.Session != nil {
		h.SetSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, r.Cookie.DontRemember, r.Cookie.DontRemember)
		w.Str(res.Session.Token())
	} else {
		w.Raw("null")
	}
	w.Raw(`,"user":`).User(res.User).Raw("}")
	return endpoint.SendJSON(c, w.B)
}

type verifyPasswordInput struct {
	Password string `json:"password" zod:"required"`
}

// POST /verify-password (wire spec §4.10): checks the caller's password and
// changes nothing.
func (h handlers) verifyPassword(c *fiber.Ctx, r *endpoint.Request, in *verifyPasswordInput) error {
	if err := h.Auth.VerifyPassword(c.UserContext(), *r.View, in.Password, h.ClientMeta(c, r)); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}
