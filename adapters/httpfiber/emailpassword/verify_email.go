package emailpassword

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type sendVerificationInput struct {
	Email       string `json:"email" zod:"required,email"`
	CallbackURL string `json:"callbackURL"`
}

// POST /send-verification-email (wire spec §4.14); the session, if any,
// decides between the anonymous and the signed-in flow.
func (h handlers) sendVerificationEmail(c *fiber.Ctx, r *endpoint.Request, in *sendVerificationInput) error {
	if err := h.Auth.SendVerificationEmail(c.UserContext(), r.View, in.Email, in.CallbackURL); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

type verifyEmailInput struct {
	Token       string `query:"token" zod:"required"`
	CallbackURL string `query:"callbackURL"`
}

// verifyFailures are the token failures better-auth reports by redirect
// with their code (with a callbackURL) or as a 401 (see the route table).
var verifyFailures = map[*core.Error]string{
	core.ErrInvalidToken: "INVALID_TOKEN",
	core.ErrTokenExpired: "TOKEN_EXPIRED",
	core.ErrUserNotFound: "USER_NOT_FOUND",
	core.ErrInvalidUser:  "INVALID_USER",
}

// GET /verify-email, the mailed link (wire spec §4.15).
func (h handlers) verifyEmail(c *fiber.Ctx, r *endpoint.Request, in *verifyEmailInput) error {
	cb := in.CallbackURL
	res, err := h.Auth.VerifyEmail(c.UserContext(), in.Token, cb, r.View)
	if err != nil {
		if code, ok := verifyFailures[sentinel(err)]; ok && cb != "" {
			return endpoint.Redirect(c, appendQueryParam(cb, "error", code))
		}
		return err
	}
	if res.EmailChanged && r.View != nil {
		v := *r.View
		if res.User != nil {
			v.User = *res.User
		}
		h.SetSessionCookie(c, v, r.Cookie.DontRemember, r.Cookie.DontRemember)
	}
	if cb != "" {
		return endpoint.Redirect(c, cb)
	}
	if res.ConfirmationSent {
		return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
	}
	w := h.JSON(512)
	w.Raw(`{"status":true,"user":`)
	if res.EmailChanged && res.User != nil {
		w.User(*res.User)
	} else {
		w.Raw("null")
	}
	return endpoint.SendJSON(c, w.Raw("}").B)
}

// sentinel is the core sentinel err derives from, or nil.
func sentinel(err error) *core.Error {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return nil
	}
	return ce.Sentinel()
}
