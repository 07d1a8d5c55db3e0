package bunpg_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// A lookup whose prepared statement no longer applies is prepared again and
// answers: after a migration that changes the columns it returns ("cached
// plan must not change result type"), and when the statement is gone from
// the server connection ("prepared statement does not exist"), as behind
// PgBouncer in transaction mode. With NoPreparedStatements (for such
// poolers) nothing is prepared at all.
func TestStalePreparedLookup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stale func(ctx context.Context, admin, pool *bun.DB) error
	}{
		{"migration changed a column's type", func(ctx context.Context, admin, _ *bun.DB) error {
			_, err := admin.ExecContext(ctx, `ALTER TABLE session ALTER COLUMN user_agent TYPE varchar(512)`)
			return err
		}},
		{"statement gone from the connection", func(ctx context.Context, _, pool *bun.DB) error {
			_, err := pool.ExecContext(ctx, `DEALLOCATE ALL`) // the pool's one connection
			return err
		}},
	} {
		for _, noPrepared := range []bool{false, true} {
			name := tc.name
			if noPrepared {
				name += ", no prepared statements"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				cfg, admin := bunpgtest.NewMigratedDatabase(t)
				ctx := context.Background()
				u, s := seedSession(t, admin, cfg, "stale@example.com")
				one := cfg
				one.MaxOpenConns, one.NoPreparedStatements = 1, noPrepared
				pool := open(t, one)
				sessions := bunpg.NewSessionRepository(pool, one)
				if _, _, err := sessions.ByToken(ctx, s.Token()); err != nil {
					t.Fatal(err)
				}
				if err := tc.stale(ctx, admin, pool); err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					gotS, gotU, err := sessions.ByToken(ctx, s.Token())
					if err != nil || gotS.ID() != s.ID() || gotU.ID() != u.ID() {
						t.Fatalf("lookup %d after the statement went stale: %q, %v", i, gotS.ID(), err)
					}
				}
				var prepared int
				err := pool.NewRaw(`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%unnest%'`).Scan(ctx, &prepared)
				if err != nil {
					t.Fatal(err)
				}
				if noPrepared != (prepared == 0) {
					t.Errorf("%d lookup statements prepared on the connection (no prepared statements: %v)", prepared, noPrepared)
				}
			})
		}
	}
}
