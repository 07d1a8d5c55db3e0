package redisstore_test

import (
	"log/slog"
	"testing"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/adapters/redisstore/redistest"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/porttest"
)

// The shared repository contract on Redis in front of Postgres, as authd
// runs with AUTH_SECONDARY_STORAGE=redis, each group on its own database.
// Verifications and rate limits in Redis follow better-auth's semantics
// rather than the contract's (one value per identifier, no transactions, a
// fixed window counting refusals): keys_test.go checks those, and the
// contract runs them on Postgres here.
func TestContract(t *testing.T) {
	porttest.RunAll(t, func(t *testing.T) porttest.Adapters {
		a, _ := newLayered(t)
		return a
	})
}

func newLayered(t testing.TB) (porttest.Adapters, *redisstore.Layered) {
	rdb, rcfg := redistest.Client(t)
	rcfg.TwoFactor = true // the contract checks the plugin's flag too
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	clock := core.SystemClock{}
	tx := bunpg.NewTransactor(db, cfg)
	backlog := bunpg.NewCacheBacklog(db, cfg)
	l := redisstore.NewLayered(rdb, rcfg, redisstore.LayeredDeps{
		Sessions: bunpg.NewSessionRepository(db, cfg), Users: bunpg.NewUserRepository(db, cfg),
		Tx: tx, Backlog: backlog, Clock: clock, Log: slog.New(slog.DiscardHandler),
	})
	if !l.Health().Check(t.Context()) {
		t.Fatal("redis not trusted although it answers and the backlog is empty")
	}
	return porttest.Adapters{
		Users:         l.Users(),
		Sessions:      l.Sessions(),
		Accounts:      bunpg.NewAccountRepository(db, cfg),
		Verifications: bunpg.NewVerificationRepository(db, cfg),
		Tx:            redisstore.NewTransactor(tx),
		RateLimiter:   bunpg.NewRateLimiter(db, cfg),
		TaskLock:      bunpg.NewTaskLock(db, cfg),
		CacheBacklog:  backlog,
		Keys:          bunpg.NewKeyRepository(db, cfg),
		TwoFactors:    redisstore.NotifyingTwoFactors(bunpg.NewTwoFactorRepository(db, cfg), l),
	}, l
}

// The contract with sessions only in Redis (AUTH_STORE_SESSION_IN_DATABASE
// =false), users and the rest in Postgres.
func TestContractRedisOnly(t *testing.T) {
	porttest.RunAll(t, func(t *testing.T) porttest.Adapters {
		rdb, rcfg := redistest.Client(t)
		rcfg.TwoFactor = true
		cfg, db := bunpgtest.NewMigratedDatabase(t)
		r := redisstore.NewRedisOnly(rdb, rcfg, redisstore.RedisOnlyDeps{
			Users: bunpg.NewUserRepository(db, cfg), Clock: core.SystemClock{}, Log: slog.New(slog.DiscardHandler),
		})
		return porttest.Adapters{
			Users:         r.Users(),
			Sessions:      r.Sessions(),
			Accounts:      bunpg.NewAccountRepository(db, cfg),
			Verifications: bunpg.NewVerificationRepository(db, cfg),
			Tx:            redisstore.NewTransactor(bunpg.NewTransactor(db, cfg)),
			RateLimiter:   bunpg.NewRateLimiter(db, cfg),
			TaskLock:      bunpg.NewTaskLock(db, cfg),
			CacheBacklog:  bunpg.NewCacheBacklog(db, cfg),
			Keys:          bunpg.NewKeyRepository(db, cfg),
			TwoFactors:    redisstore.NotifyingTwoFactors(bunpg.NewTwoFactorRepository(db, cfg), r),

			SessionsExpireThemselves: true,
		}
	})
}
