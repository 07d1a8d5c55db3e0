package main

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/core"
)

// redisOption puts Redis in front of Postgres when AUTH_SECONDARY_STORAGE
// is redis (better-auth's secondaryStorage with storeSessionInDatabase):
// sessions are read from Redis first, verification values live only there,
// and the limiter counts there unless AUTH_RATE_LIMIT_STORAGE says
// otherwise. authd starts whether or not Redis answers.
func redisOption(cfg config.Config) fx.Option {
	if cfg.Auth.SecondaryStorage != "redis" {
		return fx.Options()
	}
	rcfg := redisstore.Config{URL: cfg.Redis.URL.Reveal()}
	return fx.Options(
		fx.Provide(
			func(lc fx.Lifecycle) (redis.UniversalClient, error) {
				rdb, err := redisstore.NewClient(rcfg)
				if err != nil {
					return nil, err
				}
				lc.Append(fx.StopHook(rdb.Close))
				return rdb, nil
			},
			func(rdb redis.UniversalClient, db *bun.DB, bcfg bunpg.Config, clock core.Clock, log *slog.Logger) *redisstore.Layered {
				return redisstore.NewLayered(rdb, rcfg, redisstore.LayeredDeps{
					Sessions: bunpg.NewSessionRepository(db, bcfg), Users: bunpg.NewUserRepository(db, bcfg),
					Tx: bunpg.NewTransactor(db, bcfg), Backlog: bunpg.NewCacheBacklog(db, bcfg), Clock: clock, Log: log,
				})
			},
		),
		fx.Decorate(
			func(l *redisstore.Layered) core.SessionRepository { return l.Sessions() },
			func(l *redisstore.Layered) core.UserRepository { return l.Users() },
			func(tx core.Transactor) core.Transactor { return redisstore.NewTransactor(tx) },
			func(rdb redis.UniversalClient, clock core.Clock) core.VerificationRepository {
				return redisstore.NewVerifications(rdb, rcfg, clock)
			},
		),
		fx.Invoke(func(lc fx.Lifecycle, l *redisstore.Layered) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					go func() { defer close(done); l.Health().Run(ctx) }()
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
	return fx.Provide(func(rdb redis.UniversalClient, clock core.Clock, l *redisstore.Layered) core.RateLimiter {
		return redisstore.NewRateLimiter(rdb, redisstore.Config{URL: cfg.Redis.URL.Reveal()}, clock, l.Health(), memory.NewRateLimiter())
	})
}
