package main

import (
	"fmt"

	"go.uber.org/fx"

	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/httpfiber"
	httpsocial "github.com/authd/authd/adapters/httpfiber/social"
	"github.com/authd/authd/adapters/oauth"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/social"
)

// socialModule is social sign-in: the configured providers, the flow
// service and its route group.
var socialModule = fx.Options(
	fx.Provide(
		newSocial,
		fx.Annotate(
			func(svc *social.Service) httpfiber.Feature { return httpsocial.Routes(svc) },
			fx.ResultTags(httpfiber.FeatureGroup),
		),
	),
)

type socialParams struct {
	fx.In
	Config        config.Config
	Auth          *core.Auth
	Users         core.UserRepository
	Sessions      core.SessionRepository
	Accounts      core.AccountRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	Clock         core.Clock
}

func newSocial(p socialParams) (*social.Service, error) {
	cfg := p.Config
	cipher, err := oauth.NewCipher(cfg.App.Secret.Reveal())
	if err != nil {
		return nil, err
	}
	providers, err := socialProviders(cfg)
	if err != nil {
		return nil, err
	}
	return social.New(social.Deps{Auth: p.Auth, Users: p.Users, Sessions: p.Sessions, Accounts: p.Accounts,
		Verifications: p.Verifications, Tx: p.Tx, Clock: p.Clock, Cipher: cipher},
		social.Config{BaseURL: cfg.AuthBaseURL(), EncryptTokens: cfg.Auth.EncryptOAuthTokens, Linking: social.Linking{
			Enabled:              cfg.Auth.AccountLinkingEnabled,
			TrustedProviders:     cfg.Auth.AccountLinkingTrustedProviders,
			AllowDifferentEmails: cfg.Auth.AccountLinkingAllowDifferentEmails,
			AllowUnlinkingAll:    cfg.Auth.AccountLinkingAllowUnlinkingAll,
			UpdateUserInfoOnLink: cfg.Auth.AccountLinkingUpdateUserInfoOnLink,
		}}, providers), nil
}

// socialProviders builds the configured providers; a generic provider
// shadows a built-in one of the same id, as in better-auth.
func socialProviders(cfg config.Config) (map[string]social.Provider, error) {
	out := map[string]social.Provider{}
	for _, b := range cfg.OAuth.Builtin {
		p, err := oauth.NewBuiltin(oauth.BuiltinConfig{Name: b.Name, ClientID: b.ClientID,
			ClientSecret: b.ClientSecret.Reveal(), BaseURL: b.BaseURL, TenantID: b.TenantID, TeamID: b.TeamID,
			KeyID: b.KeyID, PrivateKey: b.PrivateKey.Reveal(), Timeout: cfg.Auth.OAuthTimeout})
		if err != nil {
			return nil, fmt.Errorf("social provider %s: %w", b.Name, err)
		}
		out[b.Name] = p
	}
	for _, g := range cfg.OAuth.Generic {
		out[g.ID] = oauth.NewGeneric(oauth.GenericConfig{ID: g.ID, ClientID: g.ClientID,
			ClientSecret: g.ClientSecret.Reveal(), DiscoveryURL: g.DiscoveryURL, AuthorizationURL: g.AuthorizationURL,
			TokenURL: g.TokenURL, UserInfoURL: g.UserInfoURL, Scopes: g.Scopes, PKCE: g.PKCE, Timeout: cfg.Auth.OAuthTimeout,
			DisableSignUp: g.DisableSignUp, DisableImplicitSignUp: g.DisableImplicitSignUp})
	}
	return out, nil
}
