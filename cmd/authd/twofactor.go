package main

import (
	"crypto/rand"

	"go.uber.org/fx"

	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/httpfiber"
	"github.com/authd/authd/adapters/twofactorcrypto"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// twoFactorOption wires better-auth's twoFactor plugin when
// AUTH_TWO_FACTOR_ENABLED is set: the gate password sign-in asks (as the
// engine's core.SecondFactor) and the service the HTTP adapter serves
// /two-factor/* with.
func twoFactorOption(cfg config.Config) fx.Option {
	if !cfg.Auth.TwoFactorEnabled {
		return fx.Options()
	}
	return fx.Options(
		fx.Supply(twofactorcrypto.Secret(cfg.App.Secret.Reveal()), twofactor.Options{Issuer: cfg.Auth.TwoFactorIssuer}),
		twofactorcrypto.Module,
		fx.Provide(
			twoFactorDeps,
			fx.Annotate(twofactor.NewGate, fx.As(new(core.SecondFactor))),
			twofactor.New,
		),
		fx.Decorate(func(o httpfiber.Options, s *twofactor.Service) httpfiber.Options {
			o.TwoFactor = s
			return o
		}),
	)
}

type twoFactorParams struct {
	fx.In
	Repo          twofactor.Repository
	Users         core.UserRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	Keys          twofactor.Keys
	Codes         twofactor.Codes
	Mailer        core.Mailer
	Clock         core.Clock
}

func twoFactorDeps(p twoFactorParams) twofactor.Deps {
	return twofactor.Deps{Repo: p.Repo, Users: p.Users, Verifications: p.Verifications, Tx: p.Tx, Keys: p.Keys,
		Codes: p.Codes, Mailer: p.Mailer, Clock: p.Clock, Random: rand.Reader}
}
