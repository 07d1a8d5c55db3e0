package memory

import (
	"context"
	"errors"
	"testing"
	"time"
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
