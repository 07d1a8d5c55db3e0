package pgconn_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/bunpg/internal/pgconn"
)

// kvSQL looks keys up in table kv. The key "bad" fails the whole query
// (division by zero), as a key Postgres cannot take would.
const kvSQL = `SELECT kv.k, kv.v FROM unnest($1::text[]) AS t(k) JOIN kv ON kv.k = t.k
WHERE 1 / (length(t.k) - 3) IS NOT NULL`

// kvDatabase is a fresh database holding kv rows "key-N" -> "vN" (N < 10),
// "bad" and "boom", and a pool on it (through pgconn.Connector, as every
// pool bunpg opens).
func kvDatabase(t *testing.T) (bunpg.Config, *bun.DB) {
	t.Helper()
	cfg := bunpgtest.NewDatabase(t)
	db := open(t, cfg)
	_, err := db.ExecContext(context.Background(), `CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL);
		INSERT INTO kv SELECT 'key-' || i, 'v' || i FROM generate_series(0, 9) AS i;
		INSERT INTO kv VALUES ('bad', 'never'), ('boom', 'never')`)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, db
}

func open(t *testing.T, cfg bunpg.Config) *bun.DB {
	t.Helper()
	db, err := bunpg.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// kvQuery is kvSQL prepared on db's connections.
func kvQuery(db *bun.DB) *pgconn.Query {
	return pgconn.NewQuery(db.DB, kvSQL, 2, db.Stats().MaxOpenConnections+1, true)
}

// kvLookups answers lookups with kvSQL, maxInflight queries at once. Its
// scan panics on the row of "boom".
func kvLookups(db *bun.DB, maxInflight int) *pgconn.Lookups[string] {
	return pgconn.NewLookups(kvQuery(db), maxInflight, func(scan func(dest ...any) error) (string, string, error) {
		var k, v string
		err := scan(&k, &v)
		if k == "boom" {
			panic("boom")
		}
		return k, v, err
	})
}

// newKV is kvDatabase with lookups on its pool, one query in flight.
func newKV(t *testing.T) (*bun.DB, *pgconn.Lookups[string]) {
	t.Helper()
	_, db := kvDatabase(t)
	return db, kvLookups(db, 1)
}

// lockKV holds an ACCESS EXCLUSIVE lock on kv until release is called or
// the test ends.
func lockKV(t *testing.T, db *bun.DB) (release func()) {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	release = func() { _ = tx.Rollback() }
	t.Cleanup(release)
	if _, err := tx.ExecContext(context.Background(), "LOCK TABLE kv IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return release
}

// rows runs q for keys and returns the value of each row by key.
func rows(ctx context.Context, q *pgconn.Query, keys ...string) (map[string]string, error) {
	got := map[string]string{}
	err := q.Rows(ctx, nil, func(scan func(dest ...any) error) error {
		var k, v string
		err := scan(&k, &v)
		got[k] = v
		return err
	}, pgconn.TextArray(keys))
	return got, err
}
