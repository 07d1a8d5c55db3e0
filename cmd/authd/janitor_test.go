package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core"
)

// janitorStore is what a janitor works on: the two repositories (recording
// every DeleteExpired call) and the store's TaskLock.
type janitorStore struct {
	users         core.UserRepository
	sessions      *recordingSessions
	verifications *recordingVerifications
	lock          core.TaskLock
}

func (s janitorStore) janitor(batch int) janitor {
	return janitor{sessions: s.sessions, verifications: s.verifications, lock: s.lock, clock: core.SystemClock{}, batch: batch}
}

type deleteCall struct{ limit, deleted int }

type recordingSessions struct {
	core.SessionRepository
	mu    sync.Mutex
	calls []deleteCall
	// hold, when set, runs inside DeleteExpired before the delete.
	hold func()
}

func (r *recordingSessions) DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error) {
	if r.hold != nil {
		r.hold()
	}
	n, err := r.SessionRepository.DeleteExpired(ctx, t, limit)
	r.mu.Lock()
	r.calls = append(r.calls, deleteCall{limit, n})
	r.mu.Unlock()
	return n, err
}

type recordingVerifications struct {
	core.VerificationRepository
	mu    sync.Mutex
	calls []deleteCall
}

func (r *recordingVerifications) DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error) {
	n, err := r.VerificationRepository.DeleteExpired(ctx, t, limit)
	r.mu.Lock()
	r.calls = append(r.calls, deleteCall{limit, n})
	r.mu.Unlock()
	return n, err
}

func memoryJanitorStore(*testing.T) janitorStore {
	s := memory.NewStore()
	return janitorStore{users: s.Users(), sessions: &recordingSessions{SessionRepository: s.Sessions()},
		verifications: &recordingVerifications{VerificationRepository: s.Verifications()}, lock: s.TaskLock()}
}

// postgresJanitorStores are two instances on one database, each with its
// own pool.
func postgresJanitorStores(t *testing.T) (janitorStore, janitorStore) {
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	instance := func(db *bun.DB) janitorStore {
		return janitorStore{users: bunpg.NewUserRepository(db, cfg),
			sessions:      &recordingSessions{SessionRepository: bunpg.NewSessionRepository(db, cfg)},
			verifications: &recordingVerifications{VerificationRepository: bunpg.NewVerificationRepository(db, cfg)},
			lock:          bunpg.NewTaskLock(db, cfg)}
	}
	other, err := bunpg.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return instance(db), instance(other)
}

// seed stores a user with expired and live sessions and verifications,
// and returns the live ones' tokens and identifiers.
func seed(t *testing.T, s janitorStore, expired, live int) (liveTokens, liveIdentifiers []string) {
	t.Helper()
	ctx, now := t.Context(), time.Now().UTC().Truncate(time.Millisecond)
	u, err := core.NewUser(rand16(), "J", rand16()+"@example.com", nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i := range expired + live {
		expires := now.Add(-time.Minute)
		if i >= expired {
			expires = now.Add(time.Hour)
		}
		token, identifier := rand16(), rand16()
		err := s.sessions.Create(ctx, core.RehydrateSession(core.SessionRecord{ID: rand16(), Token: token, UserID: u.ID(),
			ExpiresAt: expires, CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}))
		if err != nil {
			t.Fatal(err)
		}
		err = s.verifications.Create(ctx, core.RehydrateVerification(core.VerificationRecord{ID: rand16(), Identifier: identifier,
			Value: "v", ExpiresAt: expires, CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}))
		if err != nil {
			t.Fatal(err)
		}
		if i >= expired {
			liveTokens, liveIdentifiers = append(liveTokens, token), append(liveIdentifiers, identifier)
		}
	}
	return liveTokens, liveIdentifiers
}

func rand16() string { return rand.Text()[:16] }

// A sweep deletes every expired session and verification and nothing else,
// in statements of at most the batch size.
func TestJanitorDeletesOnlyExpiredRows(t *testing.T) {
	t.Parallel()
	for name, newStore := range map[string]func(*testing.T) janitorStore{
		"memory":   memoryJanitorStore,
		"postgres": func(t *testing.T) janitorStore { s, _ := postgresJanitorStores(t); return s },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			const expired, live, batch = 5, 2, 2
			tokens, identifiers := seed(t, s, expired, live)
			deleted, ran, err := s.janitor(batch).sweep(t.Context())
			if err != nil || !ran || deleted != 2*expired {
				t.Fatalf("sweep: deleted %d, ran %v, %v; want %d deleted", deleted, ran, err, 2*expired)
			}
			for _, token := range tokens {
				if _, _, err := s.sessions.ByToken(t.Context(), token); err != nil {
					t.Errorf("live session: %v", err)
				}
			}
			for _, id := range identifiers {
				if _, err := s.verifications.Latest(t.Context(), id); err != nil {
					t.Errorf("live verification: %v", err)
				}
			}
			// 5 rows in batches of 2: 2, 2, 1, each call bounded.
			want := []deleteCall{{batch, 2}, {batch, 2}, {batch, 1}}
			for kind, calls := range map[string][]deleteCall{"sessions": s.sessions.calls, "verifications": s.verifications.calls} {
				if !slices.Equal(calls, want) {
					t.Errorf("%s: DeleteExpired calls (limit, deleted) %v, want %v", kind, calls, want)
				}
			}
			if deleted, _, err := s.janitor(batch).sweep(t.Context()); deleted != 0 || err != nil {
				t.Errorf("second sweep: deleted %d, %v", deleted, err)
			}
		})
	}
}

// Two instances never sweep at once: while one sweeps, the other skips its
// round without touching the tables, and sweeps at its next.
func TestJanitorsTakeTurns(t *testing.T) {
	t.Parallel()
	first, second := postgresJanitorStores(t)
	seed(t, first, 3, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	first.sessions.hold = func() {
		first.sessions.hold = nil
		close(entered)
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, ran, err := first.janitor(janitorBatch).sweep(context.Background())
		if err == nil && !ran {
			err = errors.New("the first janitor did not sweep")
		}
		done <- err
	}()
	<-entered
	deleted, ran, err := second.janitor(janitorBatch).sweep(t.Context())
	if ran || deleted != 0 || err != nil || len(second.sessions.calls)+len(second.verifications.calls) != 0 {
		t.Errorf("second janitor while the first sweeps: ran %v, deleted %d, %v, calls %v %v",
			ran, deleted, err, second.sessions.calls, second.verifications.calls)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	seed(t, first, 1, 0)
	if deleted, ran, err := second.janitor(janitorBatch).sweep(t.Context()); !ran || deleted != 2 || err != nil {
		t.Errorf("second janitor after the first finished: ran %v, deleted %d, %v", ran, deleted, err)
	}
}

// The running application sweeps at AUTH_JANITOR_INTERVAL.
func TestAppRunsTheJanitor(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, "AUTH_JANITOR_INTERVAL=20ms")
	var (
		users    core.UserRepository
		sessions core.SessionRepository
	)
	app := newApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), memoryStorage, fx.Populate(&users, &sessions))
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = app.Stop(context.Background()) }()
	ctx, now := t.Context(), time.Now().UTC()
	u, err := core.NewUser(rand16(), "J", "janitor-app@example.com", nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	token := rand16()
	err = sessions.Create(ctx, core.RehydrateSession(core.SessionRecord{ID: rand16(), Token: token, UserID: u.ID(),
		ExpiresAt: now.Add(-time.Minute), CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	// The bound only turns "never swept" into a failure.
	for giveUp := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, _, err := sessions.ByToken(ctx, token)
		if errors.Is(err, core.ErrSessionNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(giveUp) {
			t.Fatal("the expired session was never deleted")
		}
	}
}
