package main

import (
	"context"
	"fmt"
	"log/slog"

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
		socialProviders,
		newSocial,
		fx.Annotate(
			func(svc *social.Service) httpfiber.Feature { return httpsocial.Routes(svc) },
			fx.ResultTags(httpfiber.FeatureGroup),
		),
	),
	fx.Invoke(warmProviders),
)

// providerSet is the configured providers by id.
type providerSet map[string]social.Provider

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
	Providers     providerSet
}

func newSocial(p socialParams) (*social.Service, error) {
	cfg := p.Config
	cipher, err := oauth.NewCipher(cfg.App.Secret.Reveal())
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
		}}, p.Providers), nil
}

// socialProviders builds the configured providers; a generic provider
// shadows a built-in one of the same id, as in better-auth.
func socialProviders(cfg config.Config) (providerSet, error) {
	out := providerSet{}
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

// warmProviders fetches the generic providers' discovery documents once
// the server starts, as better-auth does at start-up, so that the first
// sign-in does not wait for it. It never delays or fails the start: a
// provider whose discovery fails is retried when a request names it.
func warmProviders(lc fx.Lifecycle, providers providerSet, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			for id, p := range providers {
				go func() {
					if _, err := p.Describe(ctx); err != nil && ctx.Err() == nil {
						log.Warn("social provider not reachable yet; retried on use", "provider", id, "error", err.Error())
					}
				}()
			}
			return nil
		},
		OnStop: func(context.Context) error { cancel(); return nil },
	})
}
