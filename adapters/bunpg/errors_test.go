package bunpg_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core"
)

func mustUser(t testing.TB, email string) core.User {
	t.Helper()
	u, err := core.NewUser(randID(), "Name", email, nil, core.SystemClock{}.Now())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustSession(t testing.TB, token, userID string) core.Session {
	t.Helper()
	s, err := core.NewSession(randID(), token, userID, core.SystemClock{}.Now(), time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pgCode returns the SQLSTATE carried by err, if any.
func pgCode(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C')
	}
	return ""
}

// Constraint violations become the sentinels the ports promise, with the
// driver error kept as the cause.
func TestConstraintErrors(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	users, sessions := bunpg.NewUserRepository(db, cfg), bunpg.NewSessionRepository(db, cfg)
	accounts := bunpg.NewAccountRepository(db, cfg)
	ctx := context.Background()

	u := mustUser(t, "taken@example.com")
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	s := mustSession(t, randID(), u.ID())
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	other := mustUser(t, "other@example.com")
	if err := users.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	acc, err := core.NewCredentialAccount(randID(), randID(), "salt:hash", core.SystemClock{}.Now())
	if err != nil {
		t.Fatal(err)
	}
	renamed := other
	if err := renamed.ChangeEmail("TAKEN@example.com", false, core.SystemClock{}.Now()); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		err      error
		want     error
		sqlState string
	}{
		{"duplicate email", users.Create(ctx, mustUser(t, "Taken@Example.com")), core.ErrUserExists, "23505"},
		{"update to a taken email", users.Update(ctx, renamed), core.ErrUserExists, "23505"},
		{"duplicate user id", users.Create(ctx, u), core.ErrDuplicate, "23505"},
		{"duplicate session token", sessions.Create(ctx, mustSession(t, s.Token(), u.ID())), core.ErrDuplicate, "23505"},
		{"session of a missing user", sessions.Create(ctx, mustSession(t, randID(), "ghost")), core.ErrUserNotFound, "23503"},
		{"account of a missing user", accounts.Create(ctx, acc), core.ErrUserNotFound, "23503"},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
		if got := pgCode(tc.err); got != tc.sqlState {
			t.Errorf("%s: cause SQLSTATE %q, want %q (cause kept for the logs)", tc.name, got, tc.sqlState)
		}
	}
}

// A database that cannot be reached must never read as "not found": that
// would sign users out (get-session answering null) or let sign-up proceed.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	cfg.Port = deadPort(t)
	db := open(t, cfg)
	ctx := context.Background()

	_, err := bunpg.NewUserRepository(db, cfg).ByID(ctx, "x")
	wantUnavailable(t, "ByID", err)
	_, _, err = bunpg.NewSessionRepository(db, cfg).ByToken(ctx, "x")
	wantUnavailable(t, "ByToken", err)
	_, err = bunpg.NewVerificationRepository(db, cfg).Consume(ctx, "x")
	wantUnavailable(t, "Consume", err)
	_, err = bunpg.NewRateLimiter(db, cfg).Consume(ctx, "k", time.Second, 3, time.Now())
	wantUnavailable(t, "RateLimiter.Consume", err)
	err = bunpg.NewTransactor(db, cfg).WithinTx(ctx, func(context.Context) error {
		t.Error("fn ran without a transaction")
		return nil
	})
	wantUnavailable(t, "WithinTx", err)
}

func wantUnavailable(t *testing.T, op string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("%s: got %v, want %v", op, err, core.ErrUnavailable)
	}
	for _, wrong := range []error{core.ErrUserNotFound, core.ErrSessionNotFound, core.ErrVerificationNotFound} {
		if errors.Is(err, wrong) {
			t.Errorf("%s: an outage reported as %v", op, wrong)
		}
	}
}

// A query stuck behind a lock fails at QueryTimeout with ErrUnavailable when
// the caller's context has no deadline or a later one.
func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	lockTable(t, db, "session")

	short := cfg
	short.QueryTimeout = 300 * time.Millisecond
	later, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, ctx := range map[string]context.Context{"no deadline": context.Background(), "later deadline": later} {
		start := time.Now()
		_, _, err := bunpg.NewSessionRepository(db, short).ByToken(ctx, "any")
		wantUnavailable(t, "ByToken behind a lock, "+name, err)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: ByToken returned after %v, want about %v", name, d, short.QueryTimeout)
		}
	}
}

// A connection killed by the server (57P01, as in a failover or restart)
// reads as unavailable.
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	lockTable(t, db, `"user"`)

	done := make(chan error, 1)
	go func() {
		_, err := bunpg.NewUserRepository(db, cfg).ByID(ctx, "x")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var pids []int
		err := db.NewRaw(`SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'SELECT%'`).Scan(ctx, &pids)
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pids[0]); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query never blocked on the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantUnavailable(t, "ByID on a terminated connection", <-done)
}

// A transaction that outlives its deadline is rolled back and reported as
// unavailable, not as a bug.
func TestTransactionDeadline(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	cfg.QueryTimeout = 100 * time.Millisecond
	users := bunpg.NewUserRepository(db, cfg)
	u := mustUser(t, "slow@example.com")
	err := bunpg.NewTransactor(db, cfg).WithinTx(context.Background(), func(ctx context.Context) error {
		if err := users.Create(ctx, u); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // beyond the transaction's deadline
		return nil
	})
	wantUnavailable(t, "WithinTx past its deadline", err)
	if _, err := users.ByID(context.Background(), u.ID()); !errors.Is(err, core.ErrUserNotFound) {
		t.Errorf("write of the expired transaction survived: %v", err)
	}
}

// seedSession stores a user with one session.
func seedSession(t testing.TB, db *bun.DB, cfg bunpg.Config, email string) (core.User, core.Session) {
	t.Helper()
	u := mustUser(t, email)
	if err := bunpg.NewUserRepository(db, cfg).Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s := mustSession(t, randID(), u.ID())
	if err := bunpg.NewSessionRepository(db, cfg).Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return u, s
}

// lockTable holds an ACCESS EXCLUSIVE lock on table until release is called
// or the test ends.
func lockTable(t *testing.T, db *bun.DB, table string) (release func()) {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	release = func() { _ = tx.Rollback() }
	t.Cleanup(release)
	if _, err := tx.ExecContext(context.Background(), "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return release
}

func randID() string { return rand.Text() }
