package emailpassword

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type signUpInput struct {
	_           body.AndRecord
	Name        string  `json:"name" zod:"required"`
	Email       string  `json:"email" zod:"required,email"`
	Password    string  `json:"password" zod:"required,nonempty"`
	Image       *string `json:"image"`
	CallbackURL string  `json:"callbackURL"`
	RememberMe  *bool   `json:"rememberMe"`
}

// POST /sign-up/email (wire spec §4.1).
func (h handlers) signUp(c *fiber.Ctx, r *endpoint.Request, in *signUpInput) error {
	rememberMe := in.RememberMe == nil || *in.RememberMe
	res, err := h.Auth.SignUpEmail(c.UserContext(), core.SignUpInput{
		Name:        in.Name,
		Email:       in.Email,
		Password:    in.Password,
		Image:       in.Image,
		RememberMe:  rememberMe,
		CallbackURL: in.CallbackURL,
		Meta:        h.Meta(c),
	})
	if err != nil {
		return err
	}
	w := h.JSON(512)
	w.Raw(`{"token":`)
	if res.Session != nil {
		h.SetSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, !rememberMe, r.Cookie.DontRemember)
		w.Str(res.Session.Token())
	} else {
		w.Raw("null")
	}
	w.Raw(`,"user":`).User(res.User).Raw("}")
	return endpoint.SendJSON(c, w.B)
}
