package memory

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authd/authd/core"
)

// RateLimiter keeps better-auth's per-key counters in memory.
type RateLimiter struct {
	mu        sync.Mutex
	entries   map[string]rateEntry
	nextSweep time.Time
}

type rateEntry struct {
	count  int
	last   time.Time
	window time.Duration
}

var _ core.RateLimiter = (*RateLimiter)(nil)

// sweepEvery bounds how often Consume scans for idle keys; without the sweep
// every client address ever seen would stay in memory.
const sweepEvery = time.Minute

// NewRateLimiter returns a limiter for a single instance; the store uses one too.
func NewRateLimiter() *RateLimiter { return &RateLimiter{entries: map[string]rateEntry{}} }

func (l *RateLimiter) Consume(_ context.Context, key string, window time.Duration, max int, now time.Time) (core.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	e, ok := l.entries[key]
	switch {
	case !ok || now.Sub(e.last) >= window:
		e = rateEntry{count: 1, last: now}
	case e.count >= max:
		return core.Denied(e.last, now, window), nil
	default:
		e.count++
		e.last = now
	}
	e.window = window
	l.entries[strings.Clone(key)] = e
	return core.RateDecision{Allowed: true}, nil
}

// Peek answers what Consume would for key at now, and changes nothing.
func (l *RateLimiter) Peek(_ context.Context, key string, window time.Duration, max int, now time.Time) (core.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if ok && now.Sub(e.last) < window && e.count >= max {
		return core.Denied(e.last, now, window), nil
	}
	return core.RateDecision{Allowed: true}, nil
}

func (l *RateLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
	return nil
}

// ResetPrefix forgets every key that starts with prefix. It scans all keys,
// which is fine for its one caller, a completed password reset.
func (l *RateLimiter) ResetPrefix(_ context.Context, prefix string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.entries {
		if strings.HasPrefix(k, prefix) {
			delete(l.entries, k)
		}
	}
	return nil
}

// sweep drops keys whose window has passed: their next request would start
// from scratch anyway, so forgetting them changes no decision.
func (l *RateLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(sweepEvery)
	for k, e := range l.entries {
		if now.Sub(e.last) >= e.window {
			delete(l.entries, k)
		}
	}
}
