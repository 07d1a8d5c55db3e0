package bunpg_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core"
)

// Purge deletes exactly the rows idle since before, and the limiter then
// starts those keys afresh.
func TestRateLimiterPurge(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	l := bunpg.NewRateLimiter(db, cfg)
	now := time.Now()
	old, recent := "purge-old-"+randID(), "purge-recent-"+randID()
	for _, k := range []struct {
		key string
		at  time.Time
	}{{old, now.Add(-bunpg.RateLimitRetention - time.Minute)}, {recent, now.Add(-time.Hour)}} {
		for range 3 {
			if _, err := l.Consume(ctx, k.key, 2*time.Hour, 3, k.at); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := l.Purge(ctx, now.Add(-bunpg.RateLimitRetention))
	if err != nil || n != 1 {
		t.Fatalf("Purge: %d rows, %v; want 1", n, err)
	}
	var keys []string
	if err := db.NewRaw("SELECT key FROM rate_limit ORDER BY key").Scan(ctx, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != recent {
		t.Fatalf("rows left %v, want only %s", keys, recent)
	}
	if d, err := l.Peek(ctx, recent, 2*time.Hour, 3, now); err != nil || d.Allowed {
		t.Fatalf("the recent key lost its count: %+v, %v", d, err)
	}
}

// A key longer than core.MaxRateKeyLen is stored bounded, and still counts
// as itself.
func TestRateLimiterBoundsKeys(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	l := bunpg.NewRateLimiter(db, cfg)
	long := "203.0.113.1|/" + strings.Repeat("x", 8000) + randID()
	now := time.Now()
	for range 3 {
		if _, err := l.Consume(ctx, long, time.Minute, 3, now); err != nil {
			t.Fatal(err)
		}
	}
	var lengths []int
	if err := db.NewRaw("SELECT octet_length(key) FROM rate_limit").Scan(ctx, &lengths); err != nil {
		t.Fatal(err)
	}
	if len(lengths) != 1 || lengths[0] > core.MaxRateKeyLen {
		t.Fatalf("stored key lengths %v, want one key of at most %d bytes", lengths, core.MaxRateKeyLen)
	}
	if d, err := l.Peek(ctx, long, time.Minute, 3, now); err != nil || d.Allowed {
		t.Fatalf("Peek of the long key: %+v, %v; want denied", d, err)
	}
}
