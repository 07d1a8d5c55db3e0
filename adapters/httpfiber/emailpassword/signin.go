package emailpassword

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type signInInput struct {
	Email       string  `json:"email" zod:"required"`
	Password    string  `json:"password" zod:"required"`
	CallbackURL *string `json:"callbackURL"`
	RememberMe  *bool   `json:"rememberMe"`
}

// POST /sign-in/email (wire spec §4.2). With a callbackURL the answer stays
// 200 but carries a Location header and redirect:true (a challenge: the
// Location alone).
func (h handlers) signIn(c *fiber.Ctx, r *endpoint.Request, in *signInInput) error {
	rememberMe := in.RememberMe == nil || *in.RememberMe
	callbackURL := ""
	if in.CallbackURL != nil {
		callbackURL = *in.CallbackURL
	}
	res, err := h.Auth.SignInEmail(c.UserContext(), core.SignInInput{
		Email:       in.Email,
		Password:    in.Password,
		RememberMe:  rememberMe,
		CallbackURL: callbackURL,
		Meta:        h.ClientMeta(c, r),
		TrustDevice: h.TrustDevice(r.Cookie),
	})
	if err != nil {
		return err
	}
	// better-auth sets Location before its twoFactor hook swaps the body
	// for a challenge, so a challenged answer carries it too.
	if callbackURL != "" {
		c.Set(fiber.HeaderLocation, callbackURL)
	}
	// The password was right: the browser is the account's known device,
	// whether or not a second factor is still to come.
	if answered, err := h.SignInGate(c, r, res.Gate, !rememberMe); answered || err != nil {
		h.SetKnownDevice(c, res.User.ID())
		return err
	}
	if res.Session == nil {
		return core.ErrFailedToCreateSession
	}
	h.SetSessionCookie(c, core.SessionView{Session: *res.Session, User: res.User}, !rememberMe, r.Cookie.DontRemember)
	h.SetKnownDevice(c, res.User.ID())
	w := h.JSON(512)
	w.Raw(`{"redirect":`).Bool(callbackURL != "").
		Raw(`,"token":`).Str(res.Session.Token())
	if in.CallbackURL != nil {
		w.Raw(`,"url":`).Str(callbackURL)
	}
	w.Raw(`,"user":`).User(res.User).Raw("}")
	return endpoint.SendJSON(c, w.B)
}
