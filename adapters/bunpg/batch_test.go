package bunpg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core"
)

// Lookups that arrive while the one lookup query in flight is stuck are
// answered together by the next, each with its own row (or none), and a
// lookup whose caller gives up while queued returns at its deadline.
func TestSessionLookupsAreBatched(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	var sessions []core.Session
	for i := range 20 {
		_, s := seedSession(t, db, cfg, fmt.Sprintf("batch-%d@example.com", i))
		sessions = append(sessions, s)
	}

	// One connection, so that its pg_prepared_statements counts every query.
	one := cfg
	one.MaxOpenConns, one.SessionLookups = 1, 1
	pool := open(t, one)
	repo := bunpg.NewSessionRepository(pool, one)
	if _, _, err := repo.ByToken(ctx, sessions[0].Token()); err != nil {
		t.Fatal(err) // prepares the statement
	}

	// The lock holds the first query; everything after it queues.
	release := lockTable(t, db, "session")
	const callers = 100
	type answer struct {
		want, got string
		err       error
	}
	answers := make(chan answer, callers)
	var wg sync.WaitGroup
	for i := range callers {
		token, want := "missing-"+randID(), ""
		if i%3 != 0 {
			s := sessions[i%len(sessions)] // some tokens twice in one batch
			token, want = s.Token(), s.ID()
		}
		wg.Go(func() {
			s, u, err := repo.ByToken(ctx, token)
			if err == nil && u.ID() != s.UserID() {
				err = errors.New("user of another session")
			}
			answers <- answer{want: want, got: s.ID(), err: err}
		})
	}
	time.Sleep(300 * time.Millisecond) // all callers queue behind the lock
	release()
	wg.Wait()
	close(answers)
	for a := range answers {
		switch {
		case a.want == "" && !errors.Is(a.err, core.ErrSessionNotFound):
			t.Errorf("missing token: %q, %v", a.got, a.err)
		case a.want != "" && (a.err != nil || a.got != a.want):
			t.Errorf("session %s: got %q, %v", a.want, a.got, a.err)
		}
	}
	var runs int
	err := pool.NewRaw(`SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements WHERE statement LIKE '%unnest%'`).Scan(ctx, &runs)
	if err != nil {
		t.Fatal(err)
	}
	if runs > 4 { // the warm-up, the stuck query, then two batches of at most 64
		t.Errorf("%d lookups took %d queries, want them batched into at most 4", callers+1, runs)
	}
}

// Queued lookups give up at their own deadline when the query ahead of them
// is stuck, and the pool answers correctly once it is free again.
func TestQueuedLookupsGiveUpAtTheirDeadline(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	_, s := seedSession(t, db, cfg, "queued@example.com")
	one := cfg
	one.MaxOpenConns, one.SessionLookups, one.QueryTimeout = 2, 1, 300*time.Millisecond
	repo := bunpg.NewSessionRepository(open(t, one), one)

	release := lockTable(t, db, "session")
	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, _, err := repo.ByToken(ctx, s.Token())
			wantUnavailable(t, "a lookup behind a stuck one", err)
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("queued lookups returned after %v, want about %v", d, one.QueryTimeout)
	}
	release()
	for range 3 {
		if got, _, err := repo.ByToken(ctx, s.Token()); err != nil || got.ID() != s.ID() {
			t.Fatalf("lookup after the lock: %q, %v", got.ID(), err)
		}
	}
}
