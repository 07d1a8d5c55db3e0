// Package redistest gives tests a Redis: AUTHD_TEST_REDIS_URL (set by the
// test task from .ci/ensure-redis.sh), default redis://127.0.0.1:6379/14.
// Tests use random keys and never flush a shared database. An unreachable
// Redis fails the test: the Redis tests are never skipped.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/adapters/redisstore"
)

// URL is the Redis tests use.
func URL() string {
	if u := os.Getenv("AUTHD_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/14"
}

// Client connects to URL, fails t if Redis does not answer, and closes the
// client when t ends.
func Client(t testing.TB) (redis.UniversalClient, redisstore.Config) {
	t.Helper()
	cfg := redisstore.Config{URL: URL(), Timeout: 2 * time.Second}
	rdb, err := redisstore.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s does not answer (run .ci/ensure-redis.sh and set AUTHD_TEST_REDIS_URL): %v", URL(), err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, cfg
}
