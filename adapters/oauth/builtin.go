package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/authd/authd/core/social"
)

// BuiltinConfig is one of better-auth's socialProviders.
type BuiltinConfig struct {
	Name                   string // github, google, discord, microsoft, apple, gitlab
	ClientID, ClientSecret string
	// BaseURL points the provider elsewhere: GitHub Enterprise Server,
	// self-managed GitLab, a Microsoft authority, or a test fake; "" is the
	// public service.
	BaseURL  string
	TenantID string // Microsoft; "" is "common"
	// Apple's client secret is a JWT signed with PrivateKey (PKCS#8 PEM,
	// P-256) when ClientSecret is empty.
	TeamID, KeyID, PrivateKey string
	Timeout                   time.Duration
	Transport                 http.RoundTripper
}

// builtin is a provider with fixed endpoints; the differences between
// providers are data (scopes, parameters) and a profile mapping.
type builtin struct {
	cfg         BuiltinConfig
	client      *http.Client
	auth, token string
	scopes      []string
	pkce        bool
	extra       []social.Param
	profile     func(ctx context.Context, b *builtin, t social.Tokens) (social.Profile, error)
	// idToken, when set, verifies client-supplied id_tokens.
	idToken *idTokenCheck
	secret  func() (string, error)
	api     string // GitHub's API, Discord's and GitLab's user endpoint base
}

var _ social.Provider = (*builtin)(nil)

// NewBuiltin builds a built-in provider.
func NewBuiltin(cfg BuiltinConfig) (social.Provider, error) {
	b := &builtin{cfg: cfg, client: newClient(&http.Client{Transport: cfg.Transport}, cfg.Timeout)}
	b.secret = func() (string, error) { return cfg.ClientSecret, nil }
	base := strings.TrimRight(cfg.BaseURL, "/")
	switch cfg.Name {
	case "github":
		b.auth, b.token, b.api = "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token", "https://api.github.com"
		if base != "" {
			b.auth, b.token, b.api = base+"/login/oauth/authorize", base+"/login/oauth/access_token", base+"/api/v3"
		}
		b.scopes, b.pkce, b.profile = []string{"read:user", "user:email"}, true, githubProfile
	case "gitlab":
		base = cmpOr(base, "https://gitlab.com")
		b.auth, b.token, b.api = base+"/oauth/authorize", base+"/oauth/token", base+"/api/v4/user"
		b.scopes, b.pkce, b.profile = []string{"read_user"}, true, gitlabProfile
	case "discord":
		base = cmpOr(base, "https://discord.com")
		b.auth, b.token, b.api = base+"/api/oauth2/authorize", base+"/api/oauth2/token", base+"/api/users/@me"
		b.scopes, b.profile = []string{"identify", "email"}, discordProfile
		b.extra = []social.Param{{Key: "prompt", Value: "none"}}
	case "google":
		b.auth, b.token = "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token"
		certs, issuers := "https://www.googleapis.com/oauth2/v3/certs", []string{"https://accounts.google.com", "accounts.google.com"}
		if base != "" {
			b.auth, b.token, certs, issuers = base+"/o/oauth2/v2/auth", base+"/token", base+"/oauth2/v3/certs", []string{base}
		}
		b.scopes, b.pkce, b.profile = []string{"email", "profile", "openid"}, true, googleProfile
		b.extra = []social.Param{{Key: "include_granted_scopes", Value: "true"}}
		b.idToken = b.newIDTokenCheck(certs, issuers, nil)
	case "microsoft":
		authority, tenant := cmpOr(base, "https://login.microsoftonline.com"), cmpOr(cfg.TenantID, "common")
		b.auth, b.token = authority+"/"+tenant+"/oauth2/v2.0/authorize", authority+"/"+tenant+"/oauth2/v2.0/token"
		b.scopes, b.pkce, b.profile = []string{"openid", "profile", "email", "User.Read", "offline_access"}, true, microsoftProfile
		var issuers []string
		if tenant != "common" && tenant != "organizations" && tenant != "consumers" {
			issuers = []string{authority + "/" + tenant + "/v2.0"}
		}
		b.idToken = b.newIDTokenCheck(authority+"/"+tenant+"/discovery/v2.0/keys", issuers, microsoftTenantRule(authority, tenant))
	case "apple":
		base = cmpOr(base, "https://appleid.apple.com")
		b.auth, b.token = base+"/auth/authorize", base+"/auth/token"
		b.scopes, b.pkce, b.profile = []string{"email", "name"}, true, appleProfile
		b.extra = []social.Param{{Key: "response_type", Value: "code id_token"}, {Key: "response_mode", Value: "form_post"}}
		b.idToken = b.newIDTokenCheck(base+"/auth/keys", []string{base}, nil)
		b.idToken.sha256Nonce = true
		if cfg.ClientSecret == "" {
			s, err := newAppleSecret(cfg, base)
			if err != nil {
				return nil, err
			}
			b.secret = s.get
		}
	default:
		return nil, fmt.Errorf("oauth: unknown built-in provider %q", cfg.Name)
	}
	return b, nil
}

func (b *builtin) Describe(context.Context) (social.Info, error) { return social.Info{}, nil }

func (b *builtin) AuthorizationURL(_ context.Context, r social.AuthorizationRequest) (string, error) {
	scopes := append(append([]string{}, b.scopes...), r.Scopes...)
	verifier := ""
	if b.pkce {
		verifier = r.CodeVerifier
	}
	if b.cfg.Name == "discord" {
		// Discord takes no login hint.
		r.LoginHint = ""
	}
	return authorizationURL(b.auth, b.cfg.ClientID, r, scopes, " ", verifier, b.extra)
}

func (b *builtin) conf(redirectURI string) (*oauth2.Config, error) {
	secret, err := b.secret()
	if err != nil {
		return nil, err
	}
	return oauthConfig(b.cfg.ClientID, secret, b.token, redirectURI), nil
}

func (b *builtin) ExchangeCode(ctx context.Context, code, verifier, redirectURI string) (social.Tokens, error) {
	conf, err := b.conf(redirectURI)
	if err != nil {
		return social.Tokens{}, err
	}
	var opts []oauth2.AuthCodeOption
	if b.pkce {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	return exchange(ctx, b.client, conf, code, opts...)
}

func (b *builtin) Refresh(ctx context.Context, refreshToken string) (social.Tokens, error) {
	conf, err := b.conf("")
	if err != nil {
		return social.Tokens{}, err
	}
	return refresh(ctx, b.client, conf, refreshToken)
}

func (b *builtin) UserInfo(ctx context.Context, t social.Tokens, _ string) (social.Profile, error) {
	p, err := b.profile(ctx, b, t)
	if err != nil {
		return social.Profile{}, err
	}
	if p.ID == "" {
		return social.Profile{}, errors.New("oauth: profile without a subject")
	}
	return p, nil
}

func (b *builtin) VerifyIDToken(ctx context.Context, token, nonce string) (social.Profile, error) {
	if b.idToken == nil {
		return social.Profile{}, social.ErrIDTokenNotSupported
	}
	if _, err := b.idToken.verify(ctx, token, nonce); err != nil {
		return social.Profile{}, social.ErrInvalidToken
	}
	return b.UserInfo(ctx, social.Tokens{IDToken: token}, "")
}

// idTokenCheck is better-auth's verifyIdToken for a built-in provider:
// RS256 signature from the provider's keys, aud = client id, one of the
// issuers (any when none), exp and iat with 30 s tolerance, at most an
// hour old, and the nonce when one is expected.
type idTokenCheck struct {
	v           *oidc.IDTokenVerifier
	issuers     []string
	rule        func(claims map[string]any) bool
	sha256Nonce bool
}

const idTokenMaxAge = time.Hour

func (b *builtin) newIDTokenCheck(jwksURL string, issuers []string, rule func(map[string]any) bool) *idTokenCheck {
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), b.client), jwksURL)
	v := oidc.NewVerifier("", keys, &oidc.Config{ClientID: b.cfg.ClientID, SupportedSigningAlgs: []string{"RS256"},
		SkipIssuerCheck: true, Now: func() time.Time { return time.Now().Add(-clockTolerance) }})
	return &idTokenCheck{v: v, issuers: issuers, rule: rule}
}

func (c *idTokenCheck) verify(ctx context.Context, raw, nonce string) (map[string]any, error) {
	tok, err := c.v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if len(c.issuers) > 0 && !contains(c.issuers, tok.Issuer) || tok.Subject == "" || tok.IssuedAt.IsZero() ||
		time.Since(tok.IssuedAt) > idTokenMaxAge+clockTolerance {
		return nil, errIDToken
	}
	if nonce != "" && tok.Nonce != nonce && !(c.sha256Nonce && tok.Nonce == sha256Hex(nonce)) {
		return nil, errIDToken
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	if c.rule != nil && !c.rule(claims) {
		return nil, errIDToken
	}
	return claims, nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// microsoftTenantRule is better-auth's verifyClaims for Entra ID: the
// issuer is the token's own tenant, and organizations/consumers admit only
// their kind of tenant.
func microsoftTenantRule(authority, tenant string) func(map[string]any) bool {
	const consumers = "9188040d-6c67-4c5b-b112-36a304b66dad"
	return func(c map[string]any) bool {
		tid, ok := c["tid"].(string)
		if !ok || c["iss"] != authority+"/"+tid+"/v2.0" {
			return false
		}
		return !(tenant == "organizations" && tid == consumers) && !(tenant == "consumers" && tid != consumers)
	}
}

func (b *builtin) getProfile(ctx context.Context, url, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("User-Agent", "better-auth")
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("oauth: GET %s: status %d", redactURL(url), resp.StatusCode)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("oauth: GET %s: not a JSON object", redactURL(url))
	}
	return m, nil
}

func imagePtr(v any) *string {
	if s := text(v); s != "" {
		return &s
	}
	return nil
}

// githubProfile: /user, and /user/emails for the primary (or first)
// address when the profile has none, and for whether it is verified.
func githubProfile(ctx context.Context, b *builtin, t social.Tokens) (social.Profile, error) {
	profile, err := b.getProfile(ctx, b.api+"/user", t.AccessToken)
	if err != nil {
		return social.Profile{}, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if body, err := getJSON(ctx, b.client, b.api+"/user/emails", t.AccessToken); err == nil {
		_ = json.Unmarshal(body, &emails)
	}
	email := text(profile["email"])
	if email == "" && len(emails) > 0 {
		email = emails[0].Email
		for _, e := range emails {
			if e.Primary {
				email = e.Email
				break
			}
		}
		profile["email"] = email
	}
	verified := false
	for _, e := range emails {
		if e.Email == email {
			verified = e.Verified
			break
		}
	}
	return social.Profile{ID: text(profile["id"]), Email: email, EmailVerified: verified,
		Name: cmpOr(text(profile["name"]), text(profile["login"])), Image: imagePtr(profile["avatar_url"]), Data: profile}, nil
}

func gitlabProfile(ctx context.Context, b *builtin, t social.Tokens) (social.Profile, error) {
	profile, err := b.getProfile(ctx, b.api, t.AccessToken)
	if err != nil {
		return social.Profile{}, err
	}
	if profile["state"] != "active" || profile["locked"] == true {
		return social.Profile{}, errors.New("oauth: GitLab account is not active")
	}
	name := text(profile["name"])
	if _, ok := profile["name"]; !ok || profile["name"] == nil {
		name = text(profile["username"])
	}
	return social.Profile{ID: text(profile["id"]), Email: text(profile["email"]), EmailVerified: profile["email_verified"] == true,
		Name: name, Image: imagePtr(profile["avatar_url"]), Data: profile}, nil
}

func discordProfile(ctx context.Context, b *builtin, t social.Tokens) (social.Profile, error) {
	profile, err := b.getProfile(ctx, b.api, t.AccessToken)
	if err != nil {
		return social.Profile{}, err
	}
	id := text(profile["id"])
	if avatar, ok := profile["avatar"].(string); ok {
		format := "png"
		if strings.HasPrefix(avatar, "a_") {
			format = "gif"
		}
		profile["image_url"] = "https://cdn.discordapp.com/avatars/" + id + "/" + avatar + "." + format
	} else {
		var n int64
		if d := text(profile["discriminator"]); d == "0" {
			snowflake, _ := new(big.Int).SetString(id, 10)
			if snowflake != nil {
				n = new(big.Int).Rsh(snowflake, 22).Int64() % 6
			}
		} else {
			fmt.Sscan(d, &n)
			n %= 5
		}
		profile["image_url"] = fmt.Sprintf("https://cdn.discordapp.com/embed/avatars/%d.png", n)
	}
	return social.Profile{ID: id, Email: text(profile["email"]), EmailVerified: profile["verified"] == true,
		Name: cmpOr(text(profile["global_name"]), text(profile["username"])), Image: imagePtr(profile["image_url"]), Data: profile}, nil
}

// idTokenClaims reads the id_token of a token answer; it came from the
// token endpoint over TLS, so better-auth decodes it without a check.
func idTokenClaims(t social.Tokens) (map[string]any, error) {
	if t.IDToken == "" {
		return nil, errors.New("oauth: no id_token")
	}
	c := unverifiedClaims(t.IDToken)
	if c == nil {
		return nil, errors.New("oauth: id_token is not a JWT")
	}
	return c, nil
}

func googleProfile(_ context.Context, _ *builtin, t social.Tokens) (social.Profile, error) {
	c, err := idTokenClaims(t)
	if err != nil {
		return social.Profile{}, err
	}
	return social.Profile{ID: text(c["sub"]), Email: text(c["email"]), EmailVerified: c["email_verified"] == true,
		Name: text(c["name"]), Image: imagePtr(c["picture"]), Data: c}, nil
}

func microsoftProfile(_ context.Context, _ *builtin, t social.Tokens) (social.Profile, error) {
	c, err := idTokenClaims(t)
	if err != nil {
		return social.Profile{}, err
	}
	oid, _ := c["oid"].(string)
	if strings.TrimSpace(oid) == "" {
		return social.Profile{}, errors.New("oauth: Entra ID token without oid")
	}
	email := text(c["email"])
	verified := false
	if v, ok := c["email_verified"]; ok {
		verified = stringBool(v)
	} else if email != "" {
		verified = listHas(c["verified_primary_email"], email) || listHas(c["verified_secondary_email"], email)
	}
	return social.Profile{ID: oid, Email: email, EmailVerified: verified, Name: text(c["name"]),
		Image: imagePtr(c["picture"]), Data: c}, nil
}

func listHas(v any, s string) bool {
	list, _ := v.([]any)
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appleProfile(_ context.Context, _ *builtin, t social.Tokens) (social.Profile, error) {
	c, err := idTokenClaims(t)
	if err != nil {
		return social.Profile{}, err
	}
	name := text(c["name"])
	var user struct {
		Name *struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
	}
	if t.User != "" && json.Unmarshal([]byte(t.User), &user) == nil && user.Name != nil {
		name = strings.TrimSpace(user.Name.FirstName + " " + user.Name.LastName)
	}
	c["name"] = name
	return social.Profile{ID: text(c["sub"]), Email: text(c["email"]), EmailVerified: stringBool(c["email_verified"]),
		Name: name, Data: c}, nil
}

// appleSecret is Apple's client secret: an ES256 JWT from the team's key,
// re-signed before it expires.
type appleSecret struct {
	cfg      BuiltinConfig
	audience string
	key      *ecdsa.PrivateKey

	mu      sync.Mutex
	current string
	expires time.Time
}

const appleSecretLifetime = 24 * time.Hour

func newAppleSecret(cfg BuiltinConfig, audience string) (*appleSecret, error) {
	block, _ := pem.Decode([]byte(strings.ReplaceAll(cfg.PrivateKey, `\n`, "\n")))
	if block == nil {
		return nil, errors.New("oauth: AUTH_SOCIAL_APPLE_PRIVATE_KEY is not a PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("oauth: AUTH_SOCIAL_APPLE_PRIVATE_KEY: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("oauth: AUTH_SOCIAL_APPLE_PRIVATE_KEY must be an EC P-256 key")
	}
	return &appleSecret{cfg: cfg, audience: audience, key: ec}, nil
}

func (a *appleSecret) get() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if a.current != "" && now.Add(time.Hour).Before(a.expires) {
		return a.current, nil
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: a.key},
		(&jose.SignerOptions{}).WithHeader("kid", a.cfg.KeyID))
	if err != nil {
		return "", err
	}
	exp := now.Add(appleSecretLifetime)
	payload, _ := json.Marshal(map[string]any{"iss": a.cfg.TeamID, "iat": now.Unix(), "exp": exp.Unix(),
		"aud": a.audience, "sub": a.cfg.ClientID})
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	if a.current, err = jws.CompactSerialize(); err != nil {
		return "", err
	}
	a.expires = exp
	return a.current, nil
}
