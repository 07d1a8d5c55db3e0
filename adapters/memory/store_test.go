package memory

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/authd/authd/core"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Fiber's strings alias buffers it reuses for the next request; the store
// must not keep such aliases.
func TestStoreCopiesStrings(t *testing.T) {
	ctx, s := t.Context(), NewStore()
	buf := []byte("alias@example.com")
	email := unsafe.String(&buf[0], len(buf))
	u, err := core.NewUser("u1", "Name", email, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	// NewUser lower-cases an already lower-case address without copying it.
	if unsafe.StringData(u.Email()) != &buf[0] {
		t.Fatal("test setup: the user's email does not alias the buffer")
	}
	if err := s.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	tokenBuf := []byte("token-aaaa")
	sess, err := core.NewSession("s1", unsafe.String(&tokenBuf[0], len(tokenBuf)), "u1", t0, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sessions().Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxxx")
	copy(tokenBuf, "TOKEN-BBBB")

	if _, err := s.Users().ByEmail(ctx, "alias@example.com"); err != nil {
		t.Fatalf("ByEmail after the caller's buffer changed: %v", err)
	}
	_, got, err := s.Sessions().ByToken(ctx, "token-aaaa")
	if err != nil {
		t.Fatalf("ByToken after the caller's buffer changed: %v", err)
	}
	if got.Email() != "alias@example.com" {
		t.Fatalf("stored email changed with the caller's buffer: %q", got.Email())
	}
}

func TestTxCtxUnusableAfterWithinTx(t *testing.T) {
	s := NewStore()
	var leaked context.Context
	if err := s.Tx().WithinTx(t.Context(), func(ctx context.Context) error { leaked = ctx; return nil }); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Users().ByID(leaked, "x"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, errTxDone) {
			t.Fatalf("call with a finished transaction's ctx: %v, want %v", err, errTxDone)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("call with a finished transaction's ctx hung")
	}
}

func TestNestedWithinTxIsASavepoint(t *testing.T) {
	s := NewStore()
	users := s.Users()
	outer, _ := core.NewUser("outer", "Outer", "outer@example.com", nil, t0)
	inner, _ := core.NewUser("inner", "Inner", "inner@example.com", nil, t0)
	boom := errors.New("boom")
	err := s.Tx().WithinTx(t.Context(), func(ctx context.Context) error {
		if err := users.Create(ctx, outer); err != nil {
			return err
		}
		err := s.Tx().WithinTx(ctx, func(ctx context.Context) error {
			if err := users.Create(ctx, inner); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("nested WithinTx: %v, want %v", err, boom)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.ByID(t.Context(), "outer"); err != nil {
		t.Fatalf("outer write lost with the nested rollback: %v", err)
	}
	if _, err := users.ByID(t.Context(), "inner"); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatalf("nested write survived its rollback: %v", err)
	}
}

func TestPanicInTxRollsBackAndUnlocks(t *testing.T) {
	s := NewStore()
	u, _ := core.NewUser("p", "P", "p@example.com", nil, t0)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic did not propagate")
			}
		}()
		_ = s.Tx().WithinTx(t.Context(), func(ctx context.Context) error {
			if err := s.Users().Create(ctx, u); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Users().ByID(ctx, "p"); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatalf("ByID after a panicking transaction: %v, want %v", err, core.ErrUserNotFound)
	}
}

// A caller stuck behind a long transaction gives up with its ctx, reporting
// the store as unavailable rather than the row as missing.
func TestWaitingCallerHonoursCtx(t *testing.T) {
	s := NewStore()
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = s.Tx().WithinTx(context.Background(), func(context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	defer close(release)
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Users().ByID(ctx, "x")
	if !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ByID behind a transaction: %v, want %v wrapping the deadline", err, core.ErrUnavailable)
	}
}

func TestRateLimiterForgetsIdleKeys(t *testing.T) {
	ctx, l := t.Context(), NewRateLimiter()
	for _, k := range []string{"a", "b", "c"} {
		for range 3 {
			if _, err := l.Consume(ctx, k, 10*time.Second, 3, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	later := t0.Add(sweepEvery)
	if d, _ := l.Consume(ctx, "a", 10*time.Second, 3, later); !d.Allowed {
		t.Fatal("key denied after its window passed")
	}
	if len(l.entries) != 1 {
		t.Fatalf("%d keys kept after the sweep, want 1", len(l.entries))
	}
	// A key swept away starts over exactly as a kept one would.
	for i := range 3 {
		if d, _ := l.Consume(ctx, "b", 10*time.Second, 3, later); !d.Allowed {
			t.Fatalf("request %d on a swept key denied", i+1)
		}
	}
	if d, _ := l.Consume(ctx, "b", 10*time.Second, 3, later); d.Allowed {
		t.Fatal("4th request on a swept key allowed")
	}
}

// Without a cap, every key ever counted within its window stays: one client
// with many addresses could fill the heap.
func TestRateLimiterCapsItsCounters(t *testing.T) {
	ctx, l := t.Context(), newRateLimiter(100)
	consume := func(key string) core.RateDecision {
		d, err := l.Consume(ctx, key, time.Hour, 3, t0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for range 3 {
		consume("hot")
	}
	for i := range 10_000 {
		consume(fmt.Sprintf("198.51.100.%d|/sign-in/email|%d", i%256, i))
		if i%50 == 0 && consume("hot").Allowed {
			t.Fatalf("the key in use was evicted after %d others", i)
		}
	}
	if len(l.entries) != 100 || l.recent.Len() != 100 {
		t.Fatalf("%d counters (%d in the recency list), want the cap of 100", len(l.entries), l.recent.Len())
	}
	if _, ok := l.entries["198.51.100.0|/sign-in/email|0"]; ok {
		t.Fatal("the least recently used counter was kept")
	}
}

func TestRateLimiterBoundsKeys(t *testing.T) {
	ctx, l := t.Context(), NewRateLimiter()
	long := "203.0.113.1|/" + strings.Repeat("é", 4000)
	for range 3 {
		if _, err := l.Consume(ctx, long, time.Minute, 3, t0); err != nil {
			t.Fatal(err)
		}
	}
	for k := range l.entries {
		if len(k) > core.MaxRateKeyLen || !utf8.ValidString(k) {
			t.Fatalf("stored key of %d bytes (valid UTF-8: %v), want at most %d", len(k), utf8.ValidString(k), core.MaxRateKeyLen)
		}
	}
	if d, _ := l.Peek(ctx, long, time.Minute, 3, t0); d.Allowed {
		t.Fatal("Peek lost the long key's count")
	}
	if err := l.Reset(ctx, long); err != nil || len(l.entries) != 0 {
		t.Fatalf("Reset of the long key: %v, %d counters left", err, len(l.entries))
	}
}

// TestRateLimiterMemoryPerCounter backs DefaultRateCounters' figure: a full
// limiter of longest keys stays within 400 bytes a counter (about 300 is
// typical; the map's growth steps make it vary with the count).
func TestRateLimiterMemoryPerCounter(t *testing.T) {
	const n = 20_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := newRateLimiter(n)
	for i := range n {
		key := fmt.Sprintf("%0*d", core.MaxRateKeyLen, i)
		if _, err := l.Consume(t.Context(), key, time.Hour, 3, t0); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (after.HeapAlloc - before.HeapAlloc) / n
	t.Logf("%d bytes per counter", per)
	if per > 400 {
		t.Fatalf("%d bytes per counter, documented as at most 400", per)
	}
	runtime.KeepAlive(l)
}
