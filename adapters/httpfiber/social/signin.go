package social

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	socialcore "github.com/authd/authd/core/social"
)

// stateCookie is better-auth's signed state cookie: it binds a flow to the
// browser that started it, for as long as the user may take to consent.
const (
	stateCookie = "better-auth.state"
	stateMaxAge = 300
)

type signInSocialInput struct {
	Provider           string            `json:"provider" zod:"required"`
	CallbackURL        string            `json:"callbackURL"`
	NewUserCallbackURL string            `json:"newUserCallbackURL"`
	ErrorCallbackURL   string            `json:"errorCallbackURL"`
	DisableRedirect    bool              `json:"disableRedirect"`
	IDToken            map[string]any    `json:"idToken"`
	Scopes             []string          `json:"scopes"`
	RequestSignUp      *bool             `json:"requestSignUp"`
	LoginHint          string            `json:"loginHint"`
	AdditionalParams   map[string]string `json:"additionalParams"`
	AdditionalData     map[string]any    `json:"additionalData"`
}

// params orders additionalParams; a decoded object keeps no order, and a
// stable one makes the authorization URL reproducible.
func params(m map[string]string) []socialcore.Param {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]socialcore.Param, len(keys))
	for i, k := range keys {
		out[i] = socialcore.Param{Key: k, Value: m[k]}
	}
	return out
}

// POST /sign-in/social: the redirect branch answers 200 {url, redirect}
// (and Location unless disableRedirect); the idToken branch signs in at once.
func (h handlers) signInSocial(c *fiber.Ctx, r *endpoint.Request, in *signInSocialInput) error {
	if in.IDToken != nil {
		return h.signInIDToken(c, r, in)
	}
	st, err := h.svc.StartSignIn(c.UserContext(), socialcore.StartInput{ProviderID: in.Provider,
		CallbackURL: in.CallbackURL, NewUserCallbackURL: in.NewUserCallbackURL, ErrorCallbackURL: in.ErrorCallbackURL,
		LoginHint: in.LoginHint, Scopes: in.Scopes, RequestSignUp: in.RequestSignUp, Params: params(in.AdditionalParams),
		AdditionalData: in.AdditionalData})
	if err != nil {
		return err
	}
	return h.redirectTo(c, st, in.DisableRedirect)
}

// redirectTo sets the state cookie and answers with the provider's URL.
func (h handlers) redirectTo(c *fiber.Ctx, st socialcore.Started, disableRedirect bool) error {
	h.PutCookie(c, stateCookie, h.Cookies.Sign(st.State), stateMaxAge)
	if !disableRedirect {
		c.Set(fiber.HeaderLocation, st.URL)
	}
	w := jsonw.New(len(st.URL) + 32)
	w.Raw(`{"url":`).Str(st.URL).Raw(`,"redirect":`).Bool(!disableRedirect).Raw("}")
	return endpoint.SendJSON(c, w.B)
}

// idTokenInput is the idToken object of both routes.
type idTokenInput struct {
	Token        string `json:"token"`
	Nonce        string `json:"nonce"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// parseIDToken checks the idToken object as better-auth's schema does:
// token a required string, nonce, accessToken and refreshToken strings and
// expiresAt a number when present.
func parseIDToken(m map[string]any) (idTokenInput, error) {
	var in idTokenInput
	var issues []string
	str := func(k string, dst *string, required bool) {
		v, ok := m[k]
		if !ok {
			if required {
				issues = append(issues, "[body.idToken."+k+"] Invalid input: expected string, received undefined")
			}
			return
		}
		if *dst, ok = v.(string); !ok {
			issues = append(issues, "[body.idToken."+k+"] Invalid input: expected string, received "+body.JSType(v))
		}
	}
	str("token", &in.Token, true)
	str("nonce", &in.Nonce, false)
	str("accessToken", &in.AccessToken, false)
	str("refreshToken", &in.RefreshToken, false)
	if v, ok := m["expiresAt"]; ok {
		if _, ok := v.(json.Number); !ok {
			issues = append(issues, "[body.idToken.expiresAt] Invalid input: expected number, received "+body.JSType(v))
		}
	}
	if len(issues) > 0 {
		return idTokenInput{}, apierror.BadRequest("VALIDATION_ERROR", strings.Join(issues, "; "))
	}
	return in, nil
}

func (h handlers) signInIDToken(c *fiber.Ctx, r *endpoint.Request, in *signInSocialInput) error {
	tok, err := parseIDToken(in.IDToken)
	if err != nil {
		return err
	}
	user, sess, err := h.svc.SignInIDToken(c.UserContext(), socialcore.IDTokenInput{ProviderID: in.Provider,
		Token: tok.Token, Nonce: tok.Nonce, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		RequestSignUp: in.RequestSignUp != nil && *in.RequestSignUp, Meta: h.Meta(c)})
	if err != nil {
		return err
	}
	h.SetSessionCookie(c, sessionView(user, sess), false, r.Cookie.DontRemember)
	h.SetKnownDevice(c, user.ID())
	w := jsonw.New(512)
	w.Raw(`{"redirect":false,"token":`).Str(sess.Token()).Raw(`,"user":`).User(user).Raw("}")
	return endpoint.SendJSON(c, w.B)
}
