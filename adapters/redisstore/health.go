package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// Health decides whether this instance may answer from Redis. It may not
// while Redis fails, nor while the shared backlog (core.CacheBacklog) holds
// removals that Redis has not seen: a session revoked in the database during
// an outage is still cached there, and every instance would read it first.
// Each instance starts not trusting Redis, and its loop (Run) trusts it once
// Redis answers and the backlog is applied and empty; while trusting it, the
// loop still checks the backlog every CheckEvery, since another instance may
// have lost Redis alone.
type Health struct {
	cache   *cache
	backlog core.CacheBacklog
	log     *slog.Logger

	usable atomic.Bool
	kick   chan struct{}

	// Counters for the metrics listener.
	Errors    atomic.Uint64 // Redis calls that failed
	Fallbacks atomic.Uint64 // session reads answered by the database because Redis was not trusted
	Replayed  atomic.Uint64 // backlog entries applied
}

// CheckEvery is how often Run looks at Redis and the backlog; while
// Redis is not trusted it retries four times as often.
const CheckEvery = time.Second

func newHealth(c *cache, backlog core.CacheBacklog, log *slog.Logger) *Health {
	return &Health{cache: c, backlog: backlog, log: log, kick: make(chan struct{}, 1)}
}

// LookupStats reports get-session's pipelined reads so far: pipelines run
// and reads they answered (metrics).
func (h *Health) LookupStats() (batches, reads uint64) {
	return h.cache.reads.calls.Stats()
}

// Usable reports whether Redis may be read now.
func (h *Health) Usable() bool { return h.usable.Load() }

// fail records a failed call and stops trusting Redis until Run has
// re-checked it.
func (h *Health) fail(op string, err error) {
	if errors.Is(err, redis.Nil) {
		return
	}
	h.Errors.Add(1)
	if h.usable.Swap(false) {
		h.log.Warn("redis failed: serving sessions from the database until it answers and the backlog is applied",
			"op", op, "error", err.Error())
	}
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Run checks until ctx ends.
func (h *Health) Run(ctx context.Context) {
	for {
		wait := CheckEvery
		if !h.Check(ctx) {
			wait = CheckEvery / 4
		}
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
			// Let Redis settle before the next try; a failing call kicks.
			select {
			case <-ctx.Done():
				return
			case <-time.After(CheckEvery / 4):
			}
		case <-time.After(wait):
		}
	}
}

// Check pings Redis, applies the backlog and reports whether Redis is
// trusted after that. Run calls it; tests call it to settle the state.
func (h *Health) Check(ctx context.Context) bool {
	pctx, cancel := h.cache.call(ctx)
	err := h.cache.rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		h.fail("ping", err)
		return false
	}
	for h.backlog != nil {
		owed, err := h.backlog.Pending(ctx, 100)
		if err != nil {
			// Without the backlog nobody can tell what Redis must not
			// say; the database is down too, so nothing is served anyway.
			h.untrust("backlog", err)
			return false
		}
		if len(owed) == 0 {
			break
		}
		h.untrust("backlog", errors.New("removals pending"))
		var done []int64
		for _, e := range owed {
			if err := h.cache.apply(ctx, e); err != nil {
				h.fail("replay", err)
				_ = h.backlog.Done(ctx, done)
				return false
			}
			done = append(done, e.ID)
		}
		if err := h.backlog.Done(ctx, done); err != nil {
			h.untrust("backlog", err)
			return false
		}
		h.Replayed.Add(uint64(len(done)))
	}
	if !h.usable.Swap(true) {
		h.log.Info("redis trusted: sessions are read from redis again")
	}
	return true
}

func (h *Health) untrust(why string, err error) {
	if h.usable.Swap(false) {
		h.log.Warn("redis not trusted: serving sessions from the database", "why", why, "error", err.Error())
	}
}

// owe records, in the transaction of ctx if any, a removal Redis did not get.
func (h *Health) owe(ctx context.Context, e core.CacheEntry) error {
	return h.backlog.Add(ctx, e)
}
