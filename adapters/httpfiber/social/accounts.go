package social

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
)

type unlinkInput struct {
	AccountID string `json:"accountId" zod:"required"`
}

// POST /unlink-account {accountId: <account row id>} (fresh session).
func (h handlers) unlinkAccount(c *fiber.Ctx, r *endpoint.Request, in *unlinkInput) error {
	if err := h.svc.Unlink(c.UserContext(), *r.View, in.AccountID); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// accountInput is better-auth's strict account selection; userId is
// accepted and, with a session present, ignored as it is there.
type accountInput struct {
	_         body.Strict
	AccountID string `json:"accountId" zod:"required"`
	UserID    string `json:"userId"`
}

// POST /get-access-token: the stored access token, refreshed when it is
// about to expire.
func (h handlers) getAccessToken(c *fiber.Ctx, r *endpoint.Request, in *accountInput) error {
	t, err := h.svc.GetAccessToken(c.UserContext(), *r.View, in.AccountID)
	if err != nil {
		return err
	}
	w := jsonw.New(256 + len(t.AccessToken))
	w.Raw(`{"accessToken":`).Str(t.AccessToken)
	if t.ExpiresAt != nil {
		w.Raw(`,"accessTokenExpiresAt":`).Date(*t.ExpiresAt)
	}
	w.Raw(`,"scopes":[`)
	for i, s := range t.Scopes {
		if i > 0 {
			w.Raw(",")
		}
		w.Str(s)
	}
	w.Raw("]")
	if t.IDToken != nil {
		w.Raw(`,"idToken":`).Str(*t.IDToken)
	}
	endpoint.NoStore(c)
	return endpoint.SendJSON(c, w.Raw("}").B)
}

// POST /refresh-token: one refresh grant, always.
func (h handlers) refreshToken(c *fiber.Ctx, r *endpoint.Request, in *accountInput) error {
	t, err := h.svc.RefreshToken(c.UserContext(), *r.View, in.AccountID)
	if err != nil {
		return err
	}
	w := jsonw.New(512)
	w.Raw(`{"accessToken":`).Str(t.AccessToken).Raw(`,"refreshToken":`).Str(t.RefreshToken)
	if t.AccessTokenExpiresAt != nil {
		w.Raw(`,"accessTokenExpiresAt":`).Date(*t.AccessTokenExpiresAt)
	}
	w.Raw(`,"refreshTokenExpiresAt":`)
	dateOrNull(w, t.RefreshTokenExpiresAt)
	w.Raw(`,"scope":`)
	if t.Scope != nil {
		w.Str(*t.Scope)
	} else {
		w.Raw("null")
	}
	w.Raw(`,"idToken":`).StrOrNull(t.IDToken).
		Raw(`,"providerId":`).Str(t.ProviderID).
		Raw(`,"accountId":`).Str(t.AccountID).Raw("}")
	endpoint.NoStore(c)
	return endpoint.SendJSON(c, w.B)
}

func dateOrNull(w *jsonw.W, t *time.Time) {
	if t == nil {
		w.Raw("null")
		return
	}
	w.Date(*t)
}

type accountInfoQuery struct {
	AccountID string `query:"accountId" zod:"required"`
}

// accountInfoBody is GET /account-info's answer.
type accountInfoBody struct {
	User struct {
		Email         string  `json:"email,omitempty"`
		EmailVerified bool    `json:"emailVerified"`
		Name          string  `json:"name,omitempty"`
		Image         *string `json:"image,omitempty"`
	} `json:"user"`
	Data    map[string]any `json:"data"`
	Account struct {
		ID         string `json:"id"`
		ProviderID string `json:"providerId"`
		AccountID  string `json:"accountId"`
	} `json:"account"`
}

// GET /account-info?accountId=: the provider's current profile of one of
// the user's accounts.
func (h handlers) accountInfo(c *fiber.Ctx, r *endpoint.Request, in *accountInfoQuery) error {
	info, err := h.svc.AccountInfo(c.UserContext(), *r.View, in.AccountID)
	if err != nil {
		return err
	}
	var out accountInfoBody
	p := info.Profile
	out.User.Email, out.User.EmailVerified, out.User.Name, out.User.Image = p.Email, p.EmailVerified, p.Name, p.Image
	out.Data = p.Data
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	out.Account.ID, out.Account.ProviderID, out.Account.AccountID = info.Account.ID(), info.Account.ProviderID(), info.Account.AccountID()
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	endpoint.NoStore(c)
	return endpoint.SendJSON(c, b)
}
