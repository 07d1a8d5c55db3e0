package bunpg_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core"
)

// queryCounter counts the statements a *bun.DB sends.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (c *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) { c.n.Add(1) }

// get-session runs on every request: ByToken must cost one execution of a
// statement Postgres has prepared, and nothing else. With a pool of one
// connection, that connection's pg_prepared_statements shows the plan
// being reused.
func TestByTokenIsOnePreparedStatement(t *testing.T) {
	t.Parallel()
	cfg, _ := bunpgtest.NewMigratedDatabase(t)
	cfg.MaxOpenConns = 1
	db := open(t, cfg)
	ctx := context.Background()
	u := mustUser(t, "one@example.com")
	if err := bunpg.NewUserRepository(db, cfg).Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	sessions := bunpg.NewSessionRepository(db, cfg)
	s := mustSession(t, randID(), u.ID())
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}

	var c queryCounter
	db.AddQueryHook(&c)
	const calls = 3
	for range calls {
		gotS, gotU, err := sessions.ByToken(ctx, s.Token())
		if err != nil || gotU.Email() != "one@example.com" || gotS.Token() != s.Token() {
			t.Fatalf("ByToken: %v, %v", gotU.Email(), err)
		}
	}
	if n := c.n.Load(); n != 0 {
		t.Fatalf("ByToken sent %d statements through Bun, want none besides the prepared one", n)
	}
	var execs int
	err := db.DB.QueryRowContext(ctx, `SELECT coalesce(sum(generic_plans + custom_plans), 0)
		FROM pg_prepared_statements WHERE statement LIKE '%unnest($1::text[])%'`).Scan(&execs)
	if err != nil {
		t.Fatal(err)
	}
	if execs != calls {
		t.Fatalf("the prepared lookup ran %d times for %d calls", execs, calls)
	}
}

// Inside a transaction ByToken sees the transaction's own writes.
func TestByTokenInTransaction(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	users := bunpg.NewUserRepository(db, cfg)
	sessions := bunpg.NewSessionRepository(db, cfg)
	u := mustUser(t, "tx@example.com")
	s := mustSession(t, randID(), u.ID())
	err := bunpg.NewTransactor(db, cfg).WithinTx(ctx, func(ctx context.Context) error {
		if err := users.Create(ctx, u); err != nil {
			return err
		}
		if err := sessions.Create(ctx, s); err != nil {
			return err
		}
		_, gotU, err := sessions.ByToken(ctx, s.Token())
		if err != nil || gotU.ID() != u.ID() {
			t.Errorf("ByToken in the transaction: %v, %v", gotU.ID(), err)
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("WithinTx swallowed fn's error")
	}
	if _, _, err := sessions.ByToken(ctx, s.Token()); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatalf("ByToken after rollback: %v, want %v", err, core.ErrSessionNotFound)
	}
}

// Times go in as UTC whatever their location, and come back as UTC.
func TestTimesAreStoredAsUTC(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, tokyo)

	u, err := core.NewUser(randID(), "n", "utc@example.com", nil, at)
	if err != nil {
		t.Fatal(err)
	}
	users := bunpg.NewUserRepository(db, cfg)
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.NewRaw(`SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.MS') FROM "user"`).Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if stored != "2026-03-03 20:06:07.008" {
		t.Errorf("stored created_at = %s, want the UTC wall clock 2026-03-03 20:06:07.008", stored)
	}
	got, err := users.ByID(ctx, u.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt().Equal(at) || got.CreatedAt().Location() != time.UTC {
		t.Errorf("read back %v, want %v in UTC", got.CreatedAt(), at)
	}
}

// Rows written by another client (better-auth, psql) may leave columns to
// their defaults and nullable columns NULL; they must still load, with the
// time defaults in UTC for a writer whose session runs in UTC.
func TestRowsWrittenByOthers(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SET TIME ZONE 'UTC'",
		`INSERT INTO "user" (id, name, email) VALUES ('u1', 'Other', 'other@example.com')`,
		`INSERT INTO session (id, expires_at, token, user_id) VALUES ('s1', '2030-01-01 00:00:00', 'tok1', 'u1')`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	s, u, err := bunpg.NewSessionRepository(db, cfg).ByToken(ctx, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if s.IPAddress() != "" || s.UserAgent() != "" {
		t.Errorf("NULL ip/user agent read as %q, %q", s.IPAddress(), s.UserAgent())
	}
	if u.EmailVerified() {
		t.Error("email_verified default should be false")
	}
	if d := time.Since(u.CreatedAt()); d < -time.Minute || d > time.Minute {
		t.Errorf("default created_at %v is %v away from now: not UTC", u.CreatedAt(), d)
	}
}

func TestByEmailIgnoresCase(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	users := bunpg.NewUserRepository(db, cfg)
	ctx := context.Background()
	u := mustUser(t, "Mixed.Case@Example.com")
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.NewRaw(`SELECT email FROM "user"`).Scan(ctx, &stored); err != nil || stored != "mixed.case@example.com" {
		t.Fatalf("stored email %q (%v), want lower case", stored, err)
	}
	got, err := users.ByEmail(ctx, "MIXED.case@EXAMPLE.COM")
	if err != nil || got.ID() != u.ID() {
		t.Fatalf("ByEmail: %v, %v", got.ID(), err)
	}
}

// Several instances share one budget per key: the limit holds across
// separate pools, as across separate processes.
func TestRateLimiterAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg, _ := bunpgtest.NewMigratedDatabase(t)
	limiters := []*bunpg.RateLimiter{
		bunpg.NewRateLimiter(open(t, cfg), cfg),
		bunpg.NewRateLimiter(open(t, cfg), cfg),
	}
	const callers, limit = 50, 3
	now := time.Now()
	start := make(chan struct{})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			d, err := limiters[i%2].Consume(context.Background(), "192.0.2.7|/sign-in/email", 10*time.Second, limit, now)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			} else if d.RetryAfter <= 0 || d.RetryAfter > 10*time.Second {
				t.Errorf("RetryAfter = %v", d.RetryAfter)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := allowed.Load(); n != limit {
		t.Fatalf("%d of %d requests allowed across two instances, want %d", n, callers, limit)
	}
}
