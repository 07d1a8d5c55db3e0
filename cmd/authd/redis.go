package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/httpfiber"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// redisOption puts Redis in the graph when AUTH_SECONDARY_STORAGE is redis
// (better-auth's secondaryStorage): sessions are read from Redis first, in
// front of Postgres (AUTH_STORE_SESSION_IN_DATABASE, the default) or alone;
// verification values live only there, and the limiter counts there unless
// AUTH_RATE_LIMIT_STORAGE says otherwise. authd starts whether or not Redis
// answers.
func redisOption(cfg config.Config) fx.Option {
	if cfg.Auth.SecondaryStorage != "redis" {
		return fx.Options()
	}
	rcfg := redisstore.Config{URL: cfg.Redis.URL.Reveal(), TwoFactor: cfg.Auth.TwoFactorEnabled}
	sessions := fx.Options(
		fx.Provide(func(rdb redis.UniversalClient, db *bun.DB, bcfg bunpg.Config, clock core.Clock, log *slog.Logger) *redisstore.Layered {
			return redisstore.NewLayered(rdb, rcfg, redisstore.LayeredDeps{
				Sessions: bunpg.NewSessionRepository(db, bcfg), Users: bunpg.NewUserRepository(db, bcfg),
				Tx: bunpg.NewTransactor(db, bcfg), Backlog: bunpg.NewCacheBacklog(db, bcfg), Clock: clock, Log: log,
			})
		}),
		fx.Provide(func(l *redisstore.Layered) *redisstore.Health { return l.Health() }),
		fx.Provide(func(l *redisstore.Layered) redisstore.UserNotifier { return l }),
		fx.Decorate(
			func(l *redisstore.Layered) core.SessionRepository { return l.Sessions() },
			func(l *redisstore.Layered) core.UserRepository { return l.Users() },
		),
	)
	if !cfg.Auth.StoreSessionInDatabase {
		sessions = fx.Options(
			fx.Provide(func(rdb redis.UniversalClient, db *bun.DB, bcfg bunpg.Config, clock core.Clock, log *slog.Logger) *redisstore.RedisOnly {
				return redisstore.NewRedisOnly(rdb, rcfg, redisstore.RedisOnlyDeps{
					Users: bunpg.NewUserRepository(db, bcfg), Clock: clock, Log: log,
				})
			}),
			fx.Provide(func(r *redisstore.RedisOnly) *redisstore.Health { return r.Health() }),
			fx.Provide(func(r *redisstore.RedisOnly) redisstore.UserNotifier { return r }),
			fx.Decorate(
				func(r *redisstore.RedisOnly) core.SessionRepository { return r.Sessions() },
				func(r *redisstore.RedisOnly) core.UserRepository { return r.Users() },
				// Sessions live only in Redis: without it, no session route
				// can answer, so the instance is not ready.
				func(ready httpfiber.ReadinessFunc, rdb redis.UniversalClient) httpfiber.ReadinessFunc {
					return func(ctx context.Context) error {
						return errors.Join(ready(ctx), rdb.Ping(ctx).Err())
					}
				},
			),
		)
	}
	return fx.Options(
		fx.Provide(func(lc fx.Lifecycle) (redis.UniversalClient, error) {
			rdb, err := redisstore.NewClient(rcfg)
			if err != nil {
				return nil, err
			}
			lc.Append(fx.StopHook(rdb.Close))
			return rdb, nil
		}),
		sessions,
		twoFactorFlagToRedis(cfg),
		fx.Decorate(
			func(tx core.Transactor) core.Transactor { return redisstore.NewTransactor(tx) },
			func(rdb redis.UniversalClient, clock core.Clock) core.VerificationRepository {
				return redisstore.NewVerifications(rdb, rcfg, clock)
			},
		),
		fx.Invoke(func(lc fx.Lifecycle, h *redisstore.Health) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					go func() { defer close(done); h.Run(ctx) }()
					return nil
				},
				OnStop: func(context.Context) error { cancel(); <-done; return nil },
			})
		}),
	)
}

// redisRateLimiter counts in Redis, and per instance in memory while Redis
// is not trusted.
func redisRateLimiter(cfg config.Config) fx.Option {
	return fx.Provide(func(rdb redis.UniversalClient, clock core.Clock, h *redisstore.Health) core.RateLimiter {
		return redisstore.NewRateLimiter(rdb, redisstore.Config{URL: cfg.Redis.URL.Reveal()}, clock, h, memory.NewRateLimiter())
	})
}

// twoFactorFlagToRedis: the twoFactor plugin writes user.two_factor_enabled
// through its own repository; the user's cached sessions must show the new
// flag, as better-auth's updateUser refreshes them.
func twoFactorFlagToRedis(cfg config.Config) fx.Option {
	if !cfg.Auth.TwoFactorEnabled {
		return fx.Options()
	}
	return fx.Decorate(func(r twofactor.Repository, n redisstore.UserNotifier) twofactor.Repository {
		return redisstore.NotifyingTwoFactors(r, n)
	})
}
