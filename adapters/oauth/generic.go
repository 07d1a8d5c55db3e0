// Package oauth implements core/social's Provider port: better-auth's
// genericOAuth (OIDC discovery or explicit OAuth2 endpoints) and the
// built-in providers, each a small mapping of its profile onto
// social.Profile. Token requests are golang.org/x/oauth2 with the client
// credentials in the form body (client_secret_post, as better-auth sends
// them); id_tokens are verified with github.com/coreos/go-oidc/v3.
package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authd/authd/core/social"
)

// GenericConfig is one entry of better-auth's genericOAuth config.
type GenericConfig struct {
	ID, ClientID, ClientSecret              string
	DiscoveryURL                            string
	AuthorizationURL, TokenURL, UserInfoURL string
	Scopes                                  []string
	PKCE                                    bool
	DisableSignUp, DisableImplicitSignUp    bool
	Timeout                                 time.Duration
	// Transport carries the provider's requests (tests); nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// Generic is a genericOAuth provider. Discovery runs on first use and is
// retried on later uses until it succeeds, as better-auth retries a
// provider whose discovery failed at start-up.
type Generic struct {
	cfg    GenericConfig
	client *http.Client

	mu sync.Mutex
	ep *endpoints
}

var _ social.Provider = (*Generic)(nil)

type endpoints struct {
	auth, token, userInfo, issuer string
	oidc                          bool
	verifier                      *oidc.IDTokenVerifier // nil without jwks_uri and issuer
}

// clockTolerance is better-auth's allowance on exp, as jose's clockTolerance.
const clockTolerance = 30 * time.Second

// NewGeneric builds the provider; nothing is fetched yet.
func NewGeneric(cfg GenericConfig) *Generic {
	return &Generic{cfg: cfg, client: newClient(&http.Client{Transport: cfg.Transport}, cfg.Timeout)}
}

func (g *Generic) endpoints(ctx context.Context) (*endpoints, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ep != nil {
		return g.ep, nil
	}
	ep := &endpoints{auth: g.cfg.AuthorizationURL, token: g.cfg.TokenURL, userInfo: g.cfg.UserInfoURL}
	if g.cfg.DiscoveryURL != "" {
		if err := g.discover(ctx, ep); err != nil {
			return nil, err
		}
	}
	if ep.auth == "" || ep.token == "" {
		return nil, fmt.Errorf("oauth: provider %q has no authorization or token endpoint", g.cfg.ID)
	}
	g.ep = ep
	return ep, nil
}

type discoveryDoc struct {
	Issuer           string   `json:"issuer"`
	AuthEndpoint     string   `json:"authorization_endpoint"`
	TokenEndpoint    string   `json:"token_endpoint"`
	UserInfoEndpoint string   `json:"userinfo_endpoint"`
	JWKSURI          string   `json:"jwks_uri"`
	Algs             []string `json:"id_token_signing_alg_values_supported"`
}

func (g *Generic) discover(ctx context.Context, ep *endpoints) error {
	body, err := getJSON(ctx, g.client, g.cfg.DiscoveryURL, "")
	if err != nil {
		return err
	}
	var d discoveryDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("oauth: discovery of %q: %w", g.cfg.ID, err)
	}
	if d.Issuer != "" {
		if _, err := url.ParseRequestURI(d.Issuer); err != nil {
			return fmt.Errorf("oauth: discovery of %q: bad issuer", g.cfg.ID)
		}
	}
	ep.auth = cmpOr(ep.auth, d.AuthEndpoint)
	ep.token = cmpOr(ep.token, d.TokenEndpoint)
	ep.userInfo = cmpOr(ep.userInfo, d.UserInfoEndpoint)
	ep.issuer = d.Issuer
	ep.oidc = len(d.Algs) > 0
	if d.JWKSURI != "" && d.Issuer != "" {
		base, _ := url.Parse(g.cfg.DiscoveryURL)
		jwks, err := base.Parse(d.JWKSURI)
		if err != nil {
			return fmt.Errorf("oauth: discovery of %q: bad jwks_uri", g.cfg.ID)
		}
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), g.client), jwks.String())
		ep.verifier = oidc.NewVerifier(d.Issuer, keys, &oidc.Config{ClientID: g.cfg.ClientID,
			SupportedSigningAlgs: d.Algs, Now: func() time.Time { return time.Now().Add(-clockTolerance) }})
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (g *Generic) Describe(ctx context.Context) (social.Info, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return social.Info{}, err
	}
	return social.Info{Issuer: ep.issuer, RequiresNonce: ep.verifier != nil,
		DisableSignUp: g.cfg.DisableSignUp, DisableImplicitSignUp: g.cfg.DisableImplicitSignUp}, nil
}

func (g *Generic) AuthorizationURL(ctx context.Context, r social.AuthorizationRequest) (string, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return "", err
	}
	scopes := append(append([]string{}, r.Scopes...), g.cfg.Scopes...)
	if ep.oidc && !contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	verifier := ""
	if g.cfg.PKCE {
		verifier = r.CodeVerifier
	}
	return authorizationURL(ep.auth, g.cfg.ClientID, r, scopes, " ", verifier, nil)
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// authorizationURL is better-auth's createAuthorizationURL: the endpoint's
// own query kept except the keys set here, then response_type, client_id,
// state, scope, redirect_uri, login_hint, nonce, extra (provider
// parameters), the PKCE pair and the request's additional parameters.
func authorizationURL(endpoint, clientID string, r social.AuthorizationRequest, scopes []string, joiner, verifier string,
	extra []social.Param) (string, error) {
	var params []social.Param
	set := func(k, v string) {
		for i := range params {
			if params[i].Key == k {
				params[i].Value = v
				return
			}
		}
		params = append(params, social.Param{Key: k, Value: v})
	}
	set("response_type", "code")
	set("client_id", clientID)
	set("state", r.State)
	if len(scopes) > 0 {
		set("scope", strings.Join(scopes, joiner))
	}
	set("redirect_uri", r.RedirectURI)
	if r.LoginHint != "" {
		set("login_hint", r.LoginHint)
	}
	if r.Nonce != "" {
		set("nonce", r.Nonce)
	}
	for _, p := range extra {
		set(p.Key, p.Value)
	}
	if verifier != "" {
		set("code_challenge_method", "S256")
		set("code_challenge", social.CodeChallenge(verifier))
	}
	for _, p := range r.Params {
		set(p.Key, p.Value)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); pair == "" || err == nil && hasKey(params, n) {
			continue
		}
		kept = append(kept, pair)
	}
	for _, p := range params {
		kept = append(kept, url.QueryEscape(p.Key)+"="+url.QueryEscape(p.Value))
	}
	u.RawQuery = strings.Join(kept, "&")
	return u.String(), nil
}

func hasKey(params []social.Param, k string) bool {
	for _, p := range params {
		if p.Key == k {
			return true
		}
	}
	return false
}

// oauthConfig is the x/oauth2 view of the token endpoint; the auth style is
// set explicitly because auto-detection tries the Authorization header
// first, which better-auth never sends.
func oauthConfig(clientID, secret, tokenURL, redirectURI string) *oauth2.Config {
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
}

func (g *Generic) ExchangeCode(ctx context.Context, code, verifier, redirectURI string) (social.Tokens, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return social.Tokens{}, err
	}
	var opts []oauth2.AuthCodeOption
	if g.cfg.PKCE {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	return exchange(ctx, g.client, oauthConfig(g.cfg.ClientID, g.cfg.ClientSecret, ep.token, redirectURI), code, opts...)
}

func exchange(ctx context.Context, c *http.Client, conf *oauth2.Config, code string, opts ...oauth2.AuthCodeOption) (social.Tokens, error) {
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c), code, opts...)
	if err != nil {
		return social.Tokens{}, err
	}
	return tokens(tok), nil
}

func refresh(ctx context.Context, c *http.Client, conf *oauth2.Config, refreshToken string) (social.Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c)
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return social.Tokens{}, err
	}
	t := tokens(tok)
	if t.RefreshToken == refreshToken {
		// x/oauth2 carries the old refresh token over when none is sent.
		t.RefreshToken = ""
	}
	return t, nil
}

// tokens reads better-auth's getOAuth2Tokens fields from a token answer.
func tokens(tok *oauth2.Token) social.Tokens {
	t := social.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		AccessTokenExpiresIn: time.Duration(tok.ExpiresIn) * time.Second}
	if s, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = s
	}
	t.RefreshTokenExpiresIn = time.Duration(number(tok.Extra("refresh_token_expires_in"))) * time.Second
	switch sc := tok.Extra("scope").(type) {
	case string:
		t.Scopes = strings.Fields(sc)
	case []any:
		for _, v := range sc {
			if s, ok := v.(string); ok {
				t.Scopes = append(t.Scopes, s)
			}
		}
	}
	return t
}

func number(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	case string:
		var i int64
		fmt.Sscan(n, &i)
		return i
	}
	return 0
}

func (g *Generic) Refresh(ctx context.Context, refreshToken string) (social.Tokens, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return social.Tokens{}, err
	}
	return refresh(ctx, g.client, oauthConfig(g.cfg.ClientID, g.cfg.ClientSecret, ep.token, ""), refreshToken)
}

var errSubjectMismatch = errors.New("oauth: user info is about another subject than the id_token")

func (g *Generic) UserInfo(ctx context.Context, t social.Tokens, nonce string) (social.Profile, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return social.Profile{}, err
	}
	var claims map[string]any
	if t.IDToken != "" && ep.verifier != nil {
		if claims, err = verifyIDToken(ctx, ep.verifier, t.IDToken, nonce); err != nil {
			return social.Profile{}, err
		}
	}
	raw, err := g.rawProfile(ctx, ep, t, claims)
	if err != nil {
		return social.Profile{}, err
	}
	p := genericProfile(raw)
	switch {
	case !ep.oidc:
		p.ID = text(raw["id"])
	case claims != nil:
		p.ID = text(claims["sub"])
	default:
		p.ID = text(raw["sub"])
	}
	return p, nil
}

// rawProfile is better-auth's fetchUserInfo: id_token claims carrying sub
// and email are the profile; otherwise the user-info endpoint, whose sub
// must be the verified id_token's.
func (g *Generic) rawProfile(ctx context.Context, ep *endpoints, t social.Tokens, claims map[string]any) (map[string]any, error) {
	decoded := claims
	if decoded == nil && t.IDToken != "" {
		decoded = unverifiedClaims(t.IDToken)
	}
	if decoded != nil && text(decoded["sub"]) != "" && text(decoded["email"]) != "" {
		raw := map[string]any{"id": decoded["sub"], "emailVerified": stringBool(decoded["email_verified"])}
		if pic, ok := decoded["picture"]; ok {
			raw["image"] = pic
		}
		for k, v := range decoded {
			raw[k] = v
		}
		return raw, nil
	}
	if ep.userInfo == "" || t.AccessToken == "" {
		return nil, errNoEndpoint
	}
	body, err := getJSON(ctx, g.client, ep.userInfo, t.AccessToken)
	if err != nil {
		return nil, err
	}
	data, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if claims != nil && text(data["sub"]) != text(claims["sub"]) {
		return nil, errSubjectMismatch
	}
	data["emailVerified"] = stringBool(data["email_verified"])
	if pic, ok := data["picture"]; ok {
		data["image"] = pic
	}
	return data, nil
}

// genericProfile maps better-auth's resolveUserInfo fields.
func genericProfile(raw map[string]any) social.Profile {
	p := social.Profile{Email: text(raw["email"]), EmailVerified: stringBool(raw["emailVerified"]),
		Name: text(raw["name"]), Data: raw}
	if img := text(raw["image"]); img != "" {
		p.Image = &img
	}
	return p
}

func (g *Generic) VerifyIDToken(ctx context.Context, token, nonce string) (social.Profile, error) {
	ep, err := g.endpoints(ctx)
	if err != nil {
		return social.Profile{}, err
	}
	if ep.verifier == nil {
		return social.Profile{}, social.ErrIDTokenNotSupported
	}
	claims, err := verifyIDToken(ctx, ep.verifier, token, nonce)
	if err != nil {
		return social.Profile{}, social.ErrInvalidToken
	}
	raw, err := g.rawProfile(ctx, ep, social.Tokens{IDToken: token}, claims)
	if err != nil {
		return social.Profile{}, err
	}
	p := genericProfile(raw)
	p.ID = text(claims["sub"])
	return p, nil
}

var errIDToken = errors.New("oauth: id_token lacks a required claim or its nonce")

// verifyIDToken checks signature, iss, aud and exp (go-oidc), the claims
// better-auth also requires (sub, iat) and, when expected, the nonce.
func verifyIDToken(ctx context.Context, v *oidc.IDTokenVerifier, raw, nonce string) (map[string]any, error) {
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if tok.Subject == "" || tok.IssuedAt.IsZero() || nonce != "" && tok.Nonce != nonce {
		return nil, errIDToken
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// unverifiedClaims reads a JWT payload without checking it: better-auth
// does so for an id_token from the token endpoint of a provider that has no
// keys to check it with (the TLS channel vouches for it).
func unverifiedClaims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	m, err := decodeObject(payload)
	if err != nil {
		return nil
	}
	return m
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("oauth: profile is not a JSON object")
	}
	return m, nil
}

// text is JavaScript's String(v) for the values a profile holds; absent
// and null are "".
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

// stringBool is better-auth's parseStringBoolean, anything else false.
func stringBool(v any) bool { return v == true || v == "true" }
