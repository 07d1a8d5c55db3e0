package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/core"
)

const (
	// janitorTask names the sweep's TaskLock: among instances sharing a
	// database, one sweeps and the others skip that round.
	janitorTask = "janitor"
	// janitorBatch bounds each delete statement: it holds row locks and
	// WAL for a moment, and never meets DB_QUERY_TIMEOUT however much has
	// expired.
	janitorBatch = 1000
)

// janitor deletes expired sessions and verifications, which nothing else
// removes: get-session and the token flows only refuse them.
type janitor struct {
	sessions      core.SessionRepository
	verifications core.VerificationRepository
	lock          core.TaskLock
	clock         core.Clock
	batch         int
}

// sweep deletes everything expired, batch after batch, unless another
// instance is sweeping. It reports the rows deleted and whether it swept.
func (j janitor) sweep(ctx context.Context) (deleted int, ran bool, err error) {
	ran, err = j.lock.TryRun(ctx, janitorTask, func(ctx context.Context) error {
		now := j.clock.Now()
		for _, deleteExpired := range []func(context.Context, time.Time, int) (int, error){
			j.sessions.DeleteExpired, j.verifications.DeleteExpired,
		} {
			for {
				n, err := deleteExpired(ctx, now, j.batch)
				deleted += n
				if err != nil {
					return err
				}
				if n < j.batch {
					break
				}
			}
		}
		return nil
	})
	return deleted, ran, err
}

// startJanitor sweeps every AUTH_JANITOR_INTERVAL (never when 0) while the
// application runs. Its hook is added after the pool's, so fx stops it
// first: no sweep outlives the pool.
func startJanitor(lc fx.Lifecycle, cfg config.Config, log *slog.Logger, clock core.Clock,
	sessions core.SessionRepository, verifications core.VerificationRepository, lock core.TaskLock) {
	every := cfg.Auth.JanitorInterval
	if every <= 0 {
		return
	}
	j := janitor{sessions: sessions, verifications: verifications, lock: lock, clock: clock, batch: janitorBatch}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() {
				tick := time.NewTicker(every)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					n, ran, err := j.sweep(ctx)
					switch {
					case err != nil && ctx.Err() == nil:
						log.Warn("deleting expired sessions and verifications failed; retrying at the next interval",
							slog.Int("rows", n), slog.Any("error", err))
					case ran && n > 0:
						log.Info("deleted expired sessions and verifications", slog.Int("rows", n))
					}
				}
			})
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}
