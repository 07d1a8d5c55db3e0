package social

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	socialcore "github.com/authd/authd/core/social"
)

type linkSocialInput struct {
	Provider         string            `json:"provider" zod:"required"`
	CallbackURL      string            `json:"callbackURL"`
	ErrorCallbackURL string            `json:"errorCallbackURL"`
	Scopes           []string          `json:"scopes"`
	LoginHint        string            `json:"loginHint"`
	DisableRedirect  bool              `json:"disableRedirect"`
	RequestSignUp    *bool             `json:"requestSignUp"`
	IDToken          map[string]any    `json:"idToken"`
	AdditionalParams map[string]string `json:"additionalParams"`
	AdditionalData   map[string]any    `json:"additionalData"`
}

// POST /link-social starts linking a provider account to the signed-in
// user (the redirect branch), or links a verified id_token at once.
func (h handlers) linkSocial(c *fiber.Ctx, r *endpoint.Request, in *linkSocialInput) error {
	if in.IDToken != nil {
		tok, err := parseIDToken(in.IDToken)
		if err != nil {
			return err
		}
		err = h.svc.LinkIDToken(c.UserContext(), *r.View, socialcore.IDTokenInput{ProviderID: in.Provider,
			Token: tok.Token, Nonce: tok.Nonce, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
		if err != nil {
			return err
		}
		return endpoint.SendJSON(c, []byte(`{"url":"","status":true,"redirect":false}`))
	}
	st, err := h.svc.StartLink(c.UserContext(), *r.View, socialcore.StartInput{ProviderID: in.Provider,
		CallbackURL: in.CallbackURL, ErrorCallbackURL: in.ErrorCallbackURL, LoginHint: in.LoginHint, Scopes: in.Scopes,
		RequestSignUp: in.RequestSignUp, Params: params(in.AdditionalParams), AdditionalData: in.AdditionalData})
	if err != nil {
		return err
	}
	return h.redirectTo(c, st, in.DisableRedirect)
}
