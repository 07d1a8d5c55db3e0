package sessions

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
)

// signOutInput is validated for better-auth's sake; the callbackURL is
// vetted by the pipeline's redirect check and otherwise unused, as the
// client redirects itself.
type signOutInput struct {
	_               body.OptionalBody
	CallbackURL     string `json:"callbackURL"`
	DisableRedirect *bool  `json:"disableRedirect"`
	State           string `json:"state"`
}

// POST /sign-out (wire spec §4.6): deletes the session of a verified cookie
// (an unsigned or forged value deletes nothing) and always expires the
// cookies.
func (h handlers) signOut(c *fiber.Ctx, r *endpoint.Request, _ *signOutInput) error {
	if err := h.Auth.SignOut(c.UserContext(), r.Cookie.Token); err != nil {
		return err
	}
	h.ExpireSessionCookies(c)
	return endpoint.SendJSON(c, []byte(`{"success":true}`))
}
