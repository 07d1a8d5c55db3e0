package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/adapters/httpfiber"
	"github.com/authd/authd/adapters/jwtkeys"
	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/password"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

// Start must cover the database ping (dial timeout); stop must cover the HTTP
// drain (HTTP_SHUTDOWN_TIMEOUT) plus the mail queue's last deliveries
// (SMTP_SEND_TIMEOUT), which fx's 15 s default would cut short.
const startTimeout = 30 * time.Second

// storage selects the adapters behind the repository ports.
type storage func(cfg config.Config) fx.Option

// postgresStorage is production: one shared *bun.DB behind every port.
func postgresStorage(cfg config.Config) fx.Option {
	return fx.Options(
		fx.Supply(dbConfig(cfg)),
		bunpg.Module,
		fx.Provide(func(db *bun.DB) httpfiber.ReadinessFunc {
			return func(ctx context.Context) error { return db.PingContext(ctx) }
		}),
		rateLimiterOption(cfg),
		redisOption(cfg),
	)
}

// memoryStorage runs authd without a database, for tests of the wiring.
func memoryStorage(cfg config.Config) fx.Option {
	return fx.Options(
		memory.Module,
		fx.Supply(httpfiber.ReadinessFunc(func(context.Context) error { return nil })),
	)
}

// rateLimiterOption keeps counters in process memory unless the operator asked
// for Postgres, which every instance behind a load balancer shares.
func rateLimiterOption(cfg config.Config) fx.Option {
	if cfg.Auth.RateLimitStorage == "secondary-storage" {
		return redisRateLimiter(cfg)
	}
	if cfg.Auth.RateLimitStorage == "database" {
		return fx.Provide(fx.Annotate(bunpg.NewPurgedRateLimiter, fx.As(new(core.RateLimiter))))
	}
	return fx.Provide(fx.Annotate(memory.NewRateLimiter, fx.As(new(core.RateLimiter))))
}

// newApp builds the application; extra adds to it (the serve command's
// optional pprof listener).
func newApp(cfg config.Config, log *slog.Logger, store storage, extra ...fx.Option) *fx.App {
	return fx.New(appOptions(cfg, log, store), fx.Options(extra...))
}

func appOptions(cfg config.Config, log *slog.Logger, store storage) fx.Option {
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger { return quietFxLogger{&fxevent.SlogLogger{Logger: log}} }),
		fx.StartTimeout(startTimeout),
		fx.StopTimeout(cfg.HTTP.ShutdownTimeout+cfg.SMTP.SendTimeout),
		fx.Supply(cfg, log, httpfiber.ListenAddr(cfg.HTTP.Addr)),
		fx.Supply(passwordLimits(cfg), emailTokenConfig(cfg), mailConfig(cfg)),
		fx.Supply(jwtkeys.Config{Secret: cfg.App.Secret.Reveal()}),
		store(cfg),
		password.Module,
		emailtoken.Module,
		mail.Module,
		jwtkeys.Module,
		fx.Provide(
			policy,
			newAuth,
			newTokens,
			withObservers(httpOptions),
			func() core.Clock { return core.SystemClock{} },
		),
		httpfiber.Module,
		socialModule,
		twoFactorOption(cfg),
		metricsOption(cfg),
		tracingOption(tracingEnv),
		fx.Invoke(startJanitor),
		// Last: its first release follows the other start hooks.
		fx.Invoke(startIdleRelease),
	)
}

func dbConfig(cfg config.Config) bunpg.Config {
	return bunpg.Config{
		Host: cfg.DB.Host, Port: cfg.DB.Port, Name: cfg.DB.Name, User: cfg.DB.User,
		Password: cfg.DB.Password.Reveal(), SSLMode: cfg.DB.SSLMode, MaxOpenConns: cfg.DB.MaxOpenConns,
		DialTimeout: cfg.DB.DialTimeout, QueryTimeout: cfg.DB.QueryTimeout, SessionLookups: cfg.DB.SessionLookups,
		NoPreparedStatements: !cfg.DB.PreparedStatements,
	}
}

func policy(cfg config.Config) core.Policy {
	p := core.DefaultPolicy(cfg.AuthBaseURL())
	p.RequireEmailVerification = cfg.Auth.RequireEmailVerification
	p.DeleteUserEnabled = cfg.Auth.DeleteUserEnabled
	p.RevokeSessionsOnPasswordReset = cfg.Auth.RevokeSessionsOnPasswordReset
	p.FailedSignInsPerNetwork = cfg.Auth.SignInFailuresPerNetwork
	p.FailedSignInsPerAccount = cfg.Auth.SignInFailuresPerAccount
	p.DeleteUserAtOnce = !cfg.Auth.DeleteUserConfirmByEmail
	return p
}

func passwordLimits(cfg config.Config) password.Limits {
	return password.Limits{Concurrent: cfg.Auth.PasswordHashConcurrency, Queue: cfg.Auth.PasswordHashQueue}
}

func emailTokenConfig(cfg config.Config) emailtoken.Config {
	return emailtoken.Config{Secret: []byte(cfg.App.Secret.Reveal())}
}

func mailConfig(cfg config.Config) mail.Config {
	return mail.Config{
		SMTP: mail.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: mail.TLSMode(cfg.SMTP.TLS), Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password.Reveal(), From: cfg.SMTP.From,
		},
		Workers: cfg.SMTP.Workers, QueueSize: cfg.SMTP.QueueSize, Timeout: cfg.SMTP.SendTimeout,
	}
}

type authParams struct {
	fx.In
	Users         core.UserRepository
	Sessions      core.SessionRepository
	Accounts      core.AccountRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	Hasher        *password.ScryptHasher
	EmailTokens   *emailtoken.JWTSigner
	Mailer        core.Mailer
	Limiter       core.RateLimiter
	Clock         core.Clock
	Policy        core.Policy
	// SecondFactor is there when the twoFactor plugin is on.
	SecondFactor core.SecondFactor `optional:"true"`
}

func newAuth(p authParams) *core.Auth {
	return core.NewAuth(core.Deps{
		Users: p.Users, Sessions: p.Sessions, Accounts: p.Accounts, Verifications: p.Verifications,
		Tx: p.Tx, Hasher: p.Hasher, EmailTokens: p.EmailTokens, Mailer: p.Mailer, Limiter: p.Limiter, Clock: p.Clock,
		Random: rand.Reader, DecoyHash: p.Hasher.Decoy(), SecondFactor: p.SecondFactor,
	}, p.Policy)
}

// newTokens is better-auth's jwt plugin when AUTH_JWT_ENABLED is set, else
// nil (off). Keys are made on first use, never here.
func newTokens(cfg config.Config, keys tokens.KeyRepository, crypto tokens.KeyCrypto, lock core.TaskLock, clock core.Clock) *tokens.Service {
	if !cfg.Auth.JWTEnabled {
		return nil
	}
	o := tokens.DefaultOptions(cfg.JWTIssuer(), cfg.JWTAudience())
	o.Expiration = cfg.Auth.JWTExpiration
	o.RotationInterval = cfg.Auth.JWKSRotationInterval
	o.GracePeriod = cfg.Auth.JWKSGracePeriod
	o.TwoFactor = cfg.Auth.TwoFactorEnabled
	return tokens.New(tokens.Deps{Keys: keys, Crypto: crypto, Clock: clock, Random: rand.Reader, Lock: lock}, o)
}

func httpOptions(cfg config.Config, log *slog.Logger, jwt *tokens.Service) httpfiber.Options {
	return httpfiber.Options{
		Tokens:             jwt,
		Bearer:             cfg.Auth.BearerEnabled,
		BasePath:           cfg.AuthBasePath(),
		BaseURL:            cfg.AuthBaseURL(),
		Secret:             []byte(cfg.App.Secret.Reveal()),
		TrustedOrigins:     cfg.Auth.TrustedOrigins,
		RateLimitEnabled:   cfg.Auth.RateLimitEnabled,
		RateLimitWindow:    cfg.Auth.RateLimitWindow,
		RateLimitMax:       cfg.Auth.RateLimitMax,
		TrustedProxies:     cfg.Auth.TrustedProxies,
		CookieCacheMaxAge:  cfg.Auth.CookieCacheMaxAge,
		CookieCacheVersion: cfg.Auth.CookieCacheVersion,
		BodyLimit:          cfg.HTTP.BodyLimit,
		ReadTimeout:        cfg.HTTP.ReadTimeout,
		WriteTimeout:       cfg.HTTP.WriteTimeout,
		IdleTimeout:        cfg.HTTP.IdleTimeout,
		MaxConns:           cfg.HTTP.MaxConns,
		Logger:             log,
	}
}

// quietFxLogger drops fx's per-constructor chatter and keeps what an operator
// needs: failures and the start/stop milestones.
type quietFxLogger struct{ inner fxevent.Logger }

func (l quietFxLogger) LogEvent(e fxevent.Event) {
	var err error
	switch ev := e.(type) {
	case *fxevent.Started, *fxevent.Stopping, *fxevent.Stopped, *fxevent.RollingBack, *fxevent.RolledBack:
		l.inner.LogEvent(e)
		return
	case *fxevent.Provided:
		err = ev.Err
	case *fxevent.Supplied:
		err = ev.Err
	case *fxevent.Decorated:
		err = ev.Err
	case *fxevent.Invoked:
		err = ev.Err
	case *fxevent.Run:
		err = ev.Err
	case *fxevent.OnStartExecuted:
		err = ev.Err
	case *fxevent.OnStopExecuted:
		err = ev.Err
	}
	if err != nil {
		l.inner.LogEvent(e)
	}
}
