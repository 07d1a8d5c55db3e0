package bunpg

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/authd/authd/core"
)

// RateLimiter keeps better-auth's per-key counters in table rate_limit, so
// that every instance of authd shares one budget per client.
type RateLimiter struct{ store }

var _ core.RateLimiter = (*RateLimiter)(nil)

func NewRateLimiter(db *bun.DB, cfg Config) *RateLimiter { return &RateLimiter{newStore(db, cfg)} }

// consumeSQL is better-auth's sliding window as one statement, atomic under
// any concurrency: the INSERT creates the key with count 1; on conflict the
// row is locked and, unless the window is full, reset (window elapsed) or
// incremented, with last_request = now. A full window fails the DO UPDATE's
// WHERE, so the row is left as it was (a denied request is not counted) and
// "up" returns nothing; the second SELECT then reports the row's
// last_request for Retry-After. It reads the statement's snapshot, which may
// miss a row committed by a racing first request, hence COALESCE in Go.
const consumeSQL = `
WITH up AS (
	INSERT INTO rate_limit AS r (key, count, last_request) VALUES (?0, 1, ?1)
	ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN ?1 - r.last_request >= ?2 THEN 1 ELSE r.count + 1 END,
		last_request = ?1
	WHERE ?1 - r.last_request >= ?2 OR r.count < ?3
	RETURNING r.last_request
)
SELECT true AS allowed, last_request FROM up
UNION ALL
SELECT false, last_request FROM rate_limit WHERE key = ?0 AND NOT EXISTS (SELECT 1 FROM up)`

// Consume counts one request for key at now. now is passed in (milliseconds
// since the epoch, as better-auth stores it) rather than read from the
// database clock, so that tests and the memory limiter agree.
func (l *RateLimiter) Consume(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (core.RateDecision, error) {
	key = core.BoundedRateKey(key)
	ctx, db, cancel := l.call(ctx)
	defer cancel()
	nowMS, windowMS := now.UnixMilli(), window.Milliseconds()
	var rows []struct {
		Allowed     bool  `bun:"allowed"`
		LastRequest int64 `bun:"last_request"`
	}
	if err := db.NewRaw(consumeSQL, key, nowMS, windowMS, limit).Scan(ctx, &rows); err != nil {
		return core.RateDecision{}, mapErr(err, core.ErrUnavailable)
	}
	if len(rows) == 1 && rows[0].Allowed {
		return core.RateDecision{Allowed: true}, nil
	}
	if len(rows) == 1 {
		return core.Denied(time.UnixMilli(rows[0].LastRequest), now, window), nil
	}
	return core.RateDecision{RetryAfter: window}, nil
}

// peekSQL finds the row only when a Consume would be denied: inside the
// window and at the limit (consumeSQL's WHERE, negated). It reads without a
// lock, so a Consume committing at the same moment may be missed; the port
// promises no more.
const peekSQL = `
SELECT last_request FROM rate_limit
WHERE key = ?0 AND ?1 - last_request < ?2 AND count >= ?3`

// Peek answers what Consume would for key at now, and writes nothing.
func (l *RateLimiter) Peek(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (core.RateDecision, error) {
	key = core.BoundedRateKey(key)
	ctx, db, cancel := l.call(ctx)
	defer cancel()
	nowMS, windowMS := now.UnixMilli(), window.Milliseconds()
	var last []int64
	if err := db.NewRaw(peekSQL, key, nowMS, windowMS, limit).Scan(ctx, &last); err != nil {
		return core.RateDecision{}, mapErr(err, core.ErrUnavailable)
	}
	if len(last) == 0 {
		return core.RateDecision{Allowed: true}, nil
	}
	return core.Denied(time.UnixMilli(last[0]), now, window), nil
}

// Reset deletes key's row; inside WithinTx the deletion commits with the
// transaction.
func (l *RateLimiter) Reset(ctx context.Context, key string) error {
	key = core.BoundedRateKey(key)
	ctx, db, cancel := l.call(ctx)
	defer cancel()
	_, err := db.NewDelete().TableExpr("rate_limit").Where("key = ?", key).Exec(ctx)
	return mapErr(err, core.ErrUnavailable)
}

// ResetPrefix deletes the rows of every key that starts with prefix; inside
// WithinTx the deletion commits with the transaction. Under a non-C
// collation only rate_limit_key_prefix_idx (text_pattern_ops) serves
// starts_with; the primary key's index cannot.
func (l *RateLimiter) ResetPrefix(ctx context.Context, prefix string) error {
	ctx, db, cancel := l.call(ctx)
	defer cancel()
	_, err := db.NewDelete().TableExpr("rate_limit").Where("starts_with(key, ?)", prefix).Exec(ctx)
	return mapErr(err, core.ErrUnavailable)
}

const (
	// RateLimitRetention is how long a rate_limit row outlives its last
	// request before Purge deletes it: longer than any window authd uses
	// (an hour at most), so that purging never changes a decision.
	RateLimitRetention = 24 * time.Hour
	purgeEvery         = 10 * time.Minute
)

// Purge deletes the rows whose last request came before before, and says
// how many. Without it the table would keep a row for every client address
// and account ever limited.
func (l *RateLimiter) Purge(ctx context.Context, before time.Time) (int64, error) {
	ctx, db, cancel := l.call(ctx)
	defer cancel()
	res, err := db.NewDelete().TableExpr("rate_limit").Where("last_request < ?", before.UnixMilli()).Exec(ctx)
	if err != nil {
		return 0, mapErr(err, core.ErrUnavailable)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err, core.ErrUnavailable)
}

// NewPurgedRateLimiter is NewRateLimiter for the application: while it runs,
// rows idle for RateLimitRetention are purged every ten minutes. Every
// instance purges; the deletes are idempotent.
func NewPurgedRateLimiter(lc fx.Lifecycle, db *bun.DB, cfg Config, log *slog.Logger) *RateLimiter {
	l := NewRateLimiter(db, cfg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() {
				tick := time.NewTicker(purgeEvery)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case now := <-tick.C:
						n, err := l.Purge(context.Background(), now.Add(-RateLimitRetention))
						if err != nil {
							log.Warn("purging rate_limit failed; retrying later", slog.Any("error", err))
						} else if n > 0 {
							log.Debug("purged idle rate_limit rows", slog.Int64("rows", n))
						}
					}
				}
			})
			return nil
		},
		OnStop: func(context.Context) error {
			close(stop)
			wg.Wait()
			return nil
		},
	})
	return l
}
