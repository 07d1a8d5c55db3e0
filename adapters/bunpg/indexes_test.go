package bunpg_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// lastQuery keeps the last statement bun sent.
type lastQuery struct {
	mu    sync.Mutex
	query string
}

func (q *lastQuery) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (q *lastQuery) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q.mu.Lock()
	q.query = e.Query
	q.mu.Unlock()
}

// The housekeeping deletes (janitor, rate-limit purge, the reset of an
// account's limits by key prefix) can be served by an index: with
// sequential scans priced out, each statement's plan names its index. On a
// table without that index the plan stays a sequential scan.
func TestHousekeepingUsesIndexes(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	sent := &lastQuery{}
	db.AddQueryHook(sent)
	limiter := bunpg.NewRateLimiter(db, cfg)
	for _, c := range []struct {
		index string
		run   func() error
	}{
		{"session_expires_at_idx", func() error {
			_, err := bunpg.NewSessionRepository(db, cfg).DeleteExpired(ctx, time.Now(), 100)
			return err
		}},
		{"verification_expires_at_idx", func() error {
			_, err := bunpg.NewVerificationRepository(db, cfg).DeleteExpired(ctx, time.Now(), 100)
			return err
		}},
		{"rate_limit_last_request_idx", func() error {
			_, err := limiter.Purge(ctx, time.Now())
			return err
		}},
		{"rate_limit_key_prefix_idx", func() error { return limiter.ResetPrefix(ctx, `signin-failed_net%:x\:`) }},
	} {
		if err := c.run(); err != nil {
			t.Fatalf("%s: %v", c.index, err)
		}
		sent.mu.Lock()
		query := sent.query
		sent.mu.Unlock()
		var plan []string
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			return tx.NewRaw("EXPLAIN "+query).Scan(ctx, &plan)
		})
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", query, err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), c.index) {
			t.Errorf("%s\nis planned without %s:\n%s", query, c.index, strings.Join(plan, "\n"))
		}
	}
}
