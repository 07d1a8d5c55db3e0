// Package social is better-auth 1.7's social sign-in and account linking:
// the authorization-code flow with PKCE, state and nonce, the callback that
// finds, creates or links the user, and the account routes that use the
// stored provider tokens. Providers are ports (Provider); every sign-in ends
// in core's one session-issuing step.
package social

import (
	"context"
	"time"
)

// Provider is one identity provider: a built-in one (GitHub, Google, ...)
// or a generic OAuth2/OIDC one. Implementations bound every call to the
// provider in time and size, and map its profile to Profile.
type Provider interface {
	// Describe tells what the flow needs to know. An error means the
	// provider cannot be used now (its discovery failed): the flow treats
	// it as not configured.
	Describe(ctx context.Context) (Info, error)
	// AuthorizationURL is where the user is sent to consent.
	AuthorizationURL(ctx context.Context, r AuthorizationRequest) (string, error)
	// ExchangeCode redeems an authorization code.
	ExchangeCode(ctx context.Context, code, codeVerifier, redirectURI string) (Tokens, error)
	// Refresh runs a refresh grant; ErrRefreshNotSupported when the
	// provider has none.
	Refresh(ctx context.Context, refreshToken string) (Tokens, error)
	// UserInfo identifies the user behind t. When t has an id_token the
	// provider verifies it first; nonce, when not empty, must be its nonce.
	UserInfo(ctx context.Context, t Tokens, nonce string) (Profile, error)
	// VerifyIDToken checks an id_token the client obtained itself (the
	// idToken branch of sign-in); nonce is compared only when not empty.
	// ErrIDTokenNotSupported when the provider cannot verify id_tokens.
	VerifyIDToken(ctx context.Context, token, nonce string) (Profile, error)
}

// Info is what a provider is, as the flow sees it.
type Info struct {
	// Issuer is checked against the callback's iss (RFC 9207) when both
	// are known.
	Issuer string
	// RequiresNonce: the flow sends a nonce and the callback needs one.
	RequiresNonce bool
	// DisableSignUp refuses new users; DisableImplicitSignUp refuses them
	// unless the sign-in asked for sign-up (requestSignUp).
	DisableSignUp, DisableImplicitSignUp bool
}

// AuthorizationRequest is one authorization redirect. The provider adds
// its configured scopes after Scopes, and openid for OIDC.
type AuthorizationRequest struct {
	State, CodeVerifier, Nonce, RedirectURI, LoginHint string
	Scopes                                             []string
	Params                                             []Param // additionalParams, in order
}

// Param is one extra query parameter of the authorization URL.
type Param struct{ Key, Value string }

// Tokens is a token endpoint's answer. Zero durations are unknown.
type Tokens struct {
	AccessToken, RefreshToken, IDToken string
	AccessTokenExpiresIn               time.Duration
	RefreshTokenExpiresIn              time.Duration
	Scopes                             []string
	// User is the callback's user parameter (Apple sends the name there,
	// once); empty elsewhere.
	User string
}

// Profile is the user as the provider describes them. ID is the account
// subject (account.account_id); Data is the raw profile that account-info
// returns.
type Profile struct {
	ID            string
	Email         string
	EmailVerified bool
	Name          string
	Image         *string
	Data          map[string]any
}

// Cipher is better-auth's symmetric encryption (XChaCha20-Poly1305, hex)
// keyed from the app secret, so that either server opens what the other
// sealed.
type Cipher interface {
	// SealToken and OpenToken are encryptOAuthTokens' format for stored
	// access and refresh tokens.
	SealToken(plain string) (string, error)
	OpenToken(sealed string) (string, error)
	// SealLinkSession and OpenLinkSession hide the session token that a
	// link flow's state carries (purpose key oauth-link-session-token).
	SealLinkSession(token string) (string, error)
	OpenLinkSession(sealed string) (string, error)
}
