package emailpassword

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
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
// (with a callbackURL) or as a 401.
var verifyFailures = []string{
	core.ErrInvalidToken.Code, core.ErrTokenExpired.Code, core.ErrUserNotFound.Code, core.ErrInvalidUser.Code,
}

// GET /verify-email, the mailed link (wire spec §4.15).
func (h handlers) verifyEmail(c *fiber.Ctx, r *endpoint.Request, in *verifyEmailInput) error {
	cb := in.CallbackURL
	res, err := h.Auth.VerifyEmail(c.UserContext(), in.Token, cb, r.View)
	if err != nil {
		ce, ok := isCode(err, verifyFailures...)
		if !ok {
			return err
		}
		if cb != "" {
			return endpoint.Redirect(c, appendQueryParam(cb, "error", ce.Code))
		}
		return ce.WithKind(core.KindUnauthenticated)
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
	w := jsonw.New(512)
	w.Raw(`{"status":true,"user":`)
	if res.EmailChanged && res.User != nil {
		w.User(*res.User)
	} else {
		w.Raw("null")
	}
	return endpoint.SendJSON(c, w.Raw("}").B)
}

// isCode reports whether err is a core error with one of the given codes.
func isCode(err error, codes ...string) (*core.Error, bool) {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return nil, false
	}
	for _, code := range codes {
		if ce.Code == code {
			return ce, true
		}
	}
	return nil, false
}
