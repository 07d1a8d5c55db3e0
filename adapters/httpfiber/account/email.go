package account

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
)

type changeEmailInput struct {
	NewEmail    string `json:"newEmail" zod:"required,email"`
	CallbackURL string `json:"callbackURL"`
}

// POST /change-email (wire spec §4.12); the change itself completes at
// GET /verify-email (package emailpassword).
func (h handlers) changeEmail(c *fiber.Ctx, r *endpoint.Request, in *changeEmailInput) error {
	if err := h.Auth.ChangeEmail(c.UserContext(), *r.View, in.NewEmail, in.CallbackURL); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}
