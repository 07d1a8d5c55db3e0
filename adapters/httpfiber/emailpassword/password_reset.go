package emailpassword

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type requestResetInput struct {
	Email      string `json:"email" zod:"required,email"`
	RedirectTo string `json:"redirectTo"`
}

// POST /request-password-reset (wire spec §4.13): the same answer whether
// or not the email belongs to a user.
func (h handlers) requestPasswordReset(c *fiber.Ctx, _ *endpoint.Request, in *requestResetInput) error {
	if err := h.Auth.RequestPasswordReset(c.UserContext(), in.Email, in.RedirectTo); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(`{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`))
}

type resetLinkInput struct {
	CallbackURL string `query:"callbackURL" zod:"required"`
}

// GET /reset-password/:token, the mailed link: a 302 to the (already
// vetted) callbackURL carrying ?token= when the token is live, or
// ?error=INVALID_TOKEN. The token is not consumed here.
func (h handlers) resetPasswordLink(c *fiber.Ctx, _ *endpoint.Request, in *resetLinkInput) error {
	cb := in.CallbackURL
	token, ok := endpoint.PathParam(c, "token")
	valid := false
	if ok && cb != "" {
		var err error
		if valid, err = h.Auth.CheckResetToken(c.UserContext(), token); err != nil {
			return err
		}
	}
	loc := ""
	if valid {
		loc = resolveWithParam(h.BaseURL, cb, "token", token)
	} else {
		loc = resolveWithParam(h.BaseURL, cb, "error", "INVALID_TOKEN")
	}
	if loc == "" {
		loc = resolveWithParam(h.BaseURL, "", "error", "INVALID_TOKEN")
	}
	return endpoint.Redirect(c, loc)
}

type resetPasswordInput struct {
	NewPassword string `json:"newPassword" zod:"required"`
	Token       string `json:"token"`
	QueryToken  string `query:"token"`
}

// POST /reset-password: the token comes from the body or, failing that, the
// query.
func (h handlers) resetPassword(c *fiber.Ctx, _ *endpoint.Request, in *resetPasswordInput) error {
	token := in.Token
	if token == "" {
		token = in.QueryToken
	}
	if token == "" {
		return core.ErrInvalidToken
	}
	if err := h.Auth.ResetPassword(c.UserContext(), token, in.NewPassword); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}
