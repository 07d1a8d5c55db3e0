package memory

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authd/authd/core"
)

// DefaultRateCounters caps the counters a RateLimiter keeps. Each costs about
// 300 bytes, under 400, at the longest key (core.MaxRateKeyLen;
// TestRateLimiterMemoryPerCounter measures it), so a full limiter holds some
// 30 MiB, 40 at most.
const DefaultRateCounters = 100_000

// RateLimiter keeps better-auth's per-key counters in memory, at most
// DefaultRateCounters of them: when full, the counter used least recently
// goes. Forgetting a counter can only let its key through early, never
// refuse anyone, and a key under attack is the one in use.
type RateLimiter struct {
	mu        sync.Mutex
	entries   map[string]*list.Element // of *rateEntry
	recent    list.List                // most recently used first
	max       int
	nextSweep time.Time
}

type rateEntry struct {
	key    string
	count  int
	last   time.Time
	window time.Duration
}

var _ core.RateLimiter = (*RateLimiter)(nil)

// sweepEvery bounds how often Consume scans for idle keys, so that the
// counters of clients gone quiet do not sit in memory until evicted.
const sweepEvery = time.Minute

// NewRateLimiter returns a limiter for a single instance; the store uses one too.
func NewRateLimiter() *RateLimiter { return newRateLimiter(DefaultRateCounters) }

func newRateLimiter(max int) *RateLimiter {
	return &RateLimiter{entries: map[string]*list.Element{}, max: max}
}

func (l *RateLimiter) Consume(_ context.Context, key string, window time.Duration, max int, now time.Time) (core.RateDecision, error) {
	key = core.BoundedRateKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	el, ok := l.entries[key]
	if !ok {
		if len(l.entries) >= l.max {
			l.remove(l.recent.Back())
		}
		el = l.recent.PushFront(&rateEntry{key: strings.Clone(key), count: 1, last: now, window: window})
		l.entries[el.Value.(*rateEntry).key] = el
		return core.RateDecision{Allowed: true}, nil
	}
	l.recent.MoveToFront(el)
	e := el.Value.(*rateEntry)
	switch {
	case now.Sub(e.last) >= window:
		e.count, e.last = 1, now
	case e.count >= max:
		return core.Denied(e.last, now, window), nil
	default:
		e.count++
		e.last = now
	}
	e.window = window
	return core.RateDecision{Allowed: true}, nil
}

// Peek answers what Consume would for key at now, and changes nothing.
func (l *RateLimiter) Peek(_ context.Context, key string, window time.Duration, max int, now time.Time) (core.RateDecision, error) {
	key = core.BoundedRateKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		e := el.Value.(*rateEntry)
		if now.Sub(e.last) < window && e.count >= max {
			return core.Denied(e.last, now, window), nil
		}
	}
	return core.RateDecision{Allowed: true}, nil
}

func (l *RateLimiter) Reset(_ context.Context, key string) error {
	key = core.BoundedRateKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		l.remove(el)
	}
	return nil
}

// ResetPrefix forgets every key that starts with prefix. It scans all keys,
// which is fine for its one caller, a completed password reset.
func (l *RateLimiter) ResetPrefix(_ context.Context, prefix string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, el := range l.entries {
		if strings.HasPrefix(k, prefix) {
			l.remove(el)
		}
	}
	return nil
}

func (l *RateLimiter) remove(el *list.Element) {
	delete(l.entries, el.Value.(*rateEntry).key)
	l.recent.Remove(el)
}

// sweep drops keys whose window has passed: their next request would start
// from scratch anyway, so forgetting them changes no decision.
func (l *RateLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(sweepEvery)
	for _, el := range l.entries {
		if e := el.Value.(*rateEntry); now.Sub(e.last) >= e.window {
			l.remove(el)
		}
	}
}
