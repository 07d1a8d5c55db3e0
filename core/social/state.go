package social

import (
	"context"
	"encoding/json"
	"maps"

	"github.com/authd/authd/core"
)

// flowState is the JSON of the `auth-state:<state>` verification row, in
// better-auth's shape so that either server finishes the other's flows.
// additionalData is spread into it, under the flow's own keys.
type flowState struct {
	CallbackURL   string
	CodeVerifier  string
	ErrorURL      string
	NewUserURL    string
	Link          *linkState
	ExpiresAt     int64 // epoch ms
	RequestSignUp *bool
	IDTokenNonce  string
	OAuthState    string
	Extra         map[string]any
}

type linkState struct {
	Email                 string `json:"email"`
	UserID                string `json:"userId"`
	EncryptedSessionToken string `json:"encryptedSessionToken,omitempty"`
}

func (f flowState) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(f.Extra)+10)
	maps.Copy(m, f.Extra)
	m["callbackURL"] = f.CallbackURL
	m["codeVerifier"] = f.CodeVerifier
	m["expiresAt"] = f.ExpiresAt
	m["oauthState"] = f.OAuthState
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		} else {
			delete(m, k)
		}
	}
	put("errorURL", f.ErrorURL)
	put("newUserURL", f.NewUserURL)
	put("idTokenNonce", f.IDTokenNonce)
	if f.Link != nil {
		m["link"] = f.Link
	} else {
		delete(m, "link")
	}
	if f.RequestSignUp != nil {
		m["requestSignUp"] = *f.RequestSignUp
	} else {
		delete(m, "requestSignUp")
	}
	delete(m, "serverContext")
	return json.Marshal(m)
}

// stateWire is what the callback reads back; like better-auth's schema it
// requires callbackURL, codeVerifier and expiresAt and ignores the rest.
type stateWire struct {
	CallbackURL   *string    `json:"callbackURL"`
	CodeVerifier  *string    `json:"codeVerifier"`
	ErrorURL      string     `json:"errorURL"`
	NewUserURL    string     `json:"newUserURL"`
	ExpiresAt     *float64   `json:"expiresAt"`
	OAuthState    *string    `json:"oauthState"`
	Link          *linkState `json:"link"`
	RequestSignUp *bool      `json:"requestSignUp"`
	IDTokenNonce  string     `json:"idTokenNonce"`
}

func parseFlow(v string) (flowState, *string, bool) {
	var w stateWire
	if err := json.Unmarshal([]byte(v), &w); err != nil || w.CallbackURL == nil || w.CodeVerifier == nil || w.ExpiresAt == nil {
		return flowState{}, nil, false
	}
	if w.Link != nil && (w.Link.UserID == "" || w.Link.Email == "") {
		return flowState{}, nil, false
	}
	return flowState{CallbackURL: *w.CallbackURL, CodeVerifier: *w.CodeVerifier, ErrorURL: w.ErrorURL,
		NewUserURL: w.NewUserURL, ExpiresAt: int64(*w.ExpiresAt), Link: w.Link, RequestSignUp: w.RequestSignUp,
		IDTokenNonce: w.IDTokenNonce}, w.OAuthState, true
}

// saveState stores f under a fresh state and returns the state.
func (s *Service) saveState(ctx context.Context, f flowState) (string, error) {
	state, err := s.d.Auth.RandomString(stateLength)
	if err != nil {
		return "", err
	}
	id, err := s.d.Auth.NewID()
	if err != nil {
		return "", err
	}
	now := s.now()
	f.OAuthState = state
	f.ExpiresAt = now.Add(stateTTL).UnixMilli()
	value, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	v, err := core.NewVerification(id, stateIdentPrefix+state, string(value), now, stateTTL)
	if err != nil {
		return "", err
	}
	return state, s.d.Verifications.Create(ctx, v)
}
