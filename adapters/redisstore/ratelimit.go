package redisstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// incrScript is redisStorage's increment (INCR, and EXPIRE on the first),
// returning the TTL left too so that a refusal can say when the window
// ends.
var incrScript = redis.NewScript(`
local v = redis.call("INCR", KEYS[1])
if v == 1 then redis.call("EXPIRE", KEYS[1], ARGV[1]) end
return {v, redis.call("PTTL", KEYS[1])}
`)

// RateLimiter counts as better-auth's "secondary-storage" rate limits do,
// so that authd and better-auth servers share one budget per key
// ("<ip>|<path>"): a fixed window that starts at a key's first request,
// every request counted, refused ones included, allowed while the count is
// at most max. While Redis is not trusted (see Health) it counts in
// fallback, per instance, instead of failing requests.
type RateLimiter struct {
	c        *cache
	health   *Health
	fallback core.RateLimiter
}

var _ core.RateLimiter = (*RateLimiter)(nil)

func NewRateLimiter(rdb redis.UniversalClient, cfg Config, clock core.Clock, health *Health, fallback core.RateLimiter) *RateLimiter {
	return &RateLimiter{c: newCache(rdb, cfg, clock), health: health, fallback: fallback}
}

func windowSeconds(w time.Duration) int64 { return max(int64(w/time.Second), 1) }

func (r *RateLimiter) Consume(ctx context.Context, key string, window time.Duration, maxN int, now time.Time) (core.RateDecision, error) {
	if !r.health.Usable() {
		return r.fallback.Consume(ctx, key, window, maxN, now)
	}
	cctx, cancel := r.c.call(ctx)
	defer cancel()
	res, err := incrScript.Run(cctx, r.c.rdb, []string{Prefix + key}, windowSeconds(window)).Int64Slice()
	if err != nil || len(res) != 2 {
		r.health.fail("rate limit", err)
		return r.fallback.Consume(ctx, key, window, maxN, now)
	}
	if res[0] <= int64(maxN) {
		return core.RateDecision{Allowed: true}, nil
	}
	return denied(res[1], window), nil
}

func denied(pttl int64, window time.Duration) core.RateDecision {
	wait := time.Duration(pttl) * time.Millisecond
	return core.RateDecision{RetryAfter: min(max(wait, time.Millisecond), window)}
}

func (r *RateLimiter) Peek(ctx context.Context, key string, window time.Duration, maxN int, now time.Time) (core.RateDecision, error) {
	if !r.health.Usable() {
		return r.fallback.Peek(ctx, key, window, maxN, now)
	}
	cctx, cancel := r.c.call(ctx)
	defer cancel()
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := r.c.rdb.Pipelined(cctx, func(p redis.Pipeliner) error {
		get = p.Get(cctx, Prefix+key)
		ttl = p.PTTL(cctx, Prefix+key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		r.health.fail("rate limit", err)
		return r.fallback.Peek(ctx, key, window, maxN, now)
	}
	if n, err := get.Int64(); err != nil || n < int64(maxN) {
		return core.RateDecision{Allowed: true}, nil
	}
	return denied(ttl.Val().Milliseconds(), window), nil
}

func (r *RateLimiter) Reset(ctx context.Context, key string) error {
	err := r.fallback.Reset(ctx, key)
	if !r.health.Usable() {
		return err
	}
	cctx, cancel := r.c.call(ctx)
	defer cancel()
	if rerr := r.c.rdb.Del(cctx, Prefix+key).Err(); rerr != nil {
		r.health.fail("rate limit", rerr)
	}
	return err
}

// ResetPrefix scans for the keys (rare: a completed password reset), on
// every master of a Cluster.
func (r *RateLimiter) ResetPrefix(ctx context.Context, prefix string) error {
	err := r.fallback.ResetPrefix(ctx, prefix)
	if !r.health.Usable() {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*r.c.timeout)
	defer cancel()
	pattern := Prefix + globEscaper.Replace(prefix) + "*"
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 100).Iterator()
		for key := range it.Vals(ctx) {
			if err := c.Del(ctx, key).Err(); err != nil {
				return err
			}
		}
		return it.Err()
	}
	var rerr error
	if cc, ok := r.c.rdb.(*redis.ClusterClient); ok {
		rerr = cc.ForEachMaster(cctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		rerr = scan(cctx, r.c.rdb)
	}
	if rerr != nil {
		r.health.fail("rate limit", rerr)
	}
	return err
}

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
