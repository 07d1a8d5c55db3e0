package pgconn_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/bunpg/internal/pgconn"
)

// kvSQL looks keys up in table kv. The key "bad" fails the whole query
// (division by zero), as a key Postgres cannot take would.
const kvSQL = `SELECT kv.k, kv.v FROM unnest($1::text[]) AS t(k) JOIN kv ON kv.k = t.k
WHERE 1 / (length(t.k) - 3) IS NOT NULL`

// newKV is a database holding kv rows "key-N" -> "vN", "bad" and "boom",
// the admin pool on it, and lookups on kvSQL with one query in flight. The
// scan panics on the row of "boom".
func newKV(t *testing.T) (*bun.DB, *pgconn.Lookups[string]) {
	t.Helper()
	cfg := bunpgtest.NewDatabase(t)
	db, err := bunpg.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.ExecContext(context.Background(), `CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL);
		INSERT INTO kv SELECT 'key-' || i, 'v' || i FROM generate_series(0, 9) AS i;
		INSERT INTO kv VALUES ('bad', 'never'), ('boom', 'never')`)
	if err != nil {
		t.Fatal(err)
	}
	q := pgconn.NewQuery(db.DB, kvSQL, 2, 4, true)
	return db, pgconn.NewLookups(q, 1, func(scan func(dest ...any) error) (string, string, error) {
		var k, v string
		err := scan(&k, &v)
		if k == "boom" {
			panic("boom")
		}
		return k, v, err
	})
}

type answer struct {
	key, v   string
	err      error
	panicked bool
}

// get runs a lookup and reports its answer, or its panic, on a channel.
func get(l *pgconn.Lookups[string], key string) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		a := answer{key: key}
		defer func() {
			if p := recover(); p != nil {
				a.panicked = true
			}
			c <- a
		}()
		a.v, a.err = l.Get(context.Background(), key)
	}()
	return c
}

// lineUp starts a lookup of first, stuck behind a lock on kv, then queues
// lookups of keys behind it in that order. release lets them through.
func lineUp(t *testing.T, db *bun.DB, l *pgconn.Lookups[string], first string, keys ...string) (answers []<-chan answer, release func()) {
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
	answers = append(answers, get(l, first))
	waitQueued(t, l, 0)
	for i, key := range keys {
		answers = append(answers, get(l, key))
		waitQueued(t, l, i+1)
	}
	return answers, release
}

func waitQueued(t *testing.T, l *pgconn.Lookups[string], pending int) {
	t.Helper()
	for {
		in, p := l.Queued()
		if in == 1 && p == pending {
			return
		}
		runtime.Gosched()
	}
}

// receive returns a lookup's answer. The bound only turns a hang into a
// failure; every lookup here answers at once when nothing hangs.
func receive(t *testing.T, c <-chan answer) answer {
	t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("a lookup never returned")
		return answer{}
	}
}

// One key that fails the shared query does not fail the others batched
// with it: each is asked again on its own.
func TestFailedBatchRetriesEachKey(t *testing.T) {
	t.Parallel()
	db, l := newKV(t)
	answers, release := lineUp(t, db, l, "key-0", "key-1", "bad", "key-2", "missing", "key-1")
	release()
	for _, c := range answers {
		a := receive(t, c)
		switch a.key {
		case "bad":
			if a.err == nil {
				t.Errorf("bad: %q, want the query's error", a.v)
			}
		case "missing":
			if !errors.Is(a.err, sql.ErrNoRows) {
				t.Errorf("missing: %q, %v, want sql.ErrNoRows", a.v, a.err)
			}
		default:
			if want := "v" + a.key[len("key-"):]; a.err != nil || a.v != want {
				t.Errorf("%s: %q, %v, want %q", a.key, a.v, a.err, want)
			}
		}
	}
}

// A panic while a batch runs goes up the leader's stack; the others in the
// batch get an error instead of waiting forever, and the slot is free again.
func TestPanicInBatchReleasesItsSlot(t *testing.T) {
	t.Parallel()
	t.Run("alone", func(t *testing.T) {
		t.Parallel()
		_, l := newKV(t)
		if a := receive(t, get(l, "boom")); !a.panicked {
			t.Fatalf("boom: %q, %v, want a panic", a.v, a.err)
		}
		if a := receive(t, get(l, "key-1")); a.err != nil || a.v != "v1" {
			t.Fatalf("lookup after a panic: %q, %v", a.v, a.err)
		}
	})
	t.Run("with others", func(t *testing.T) {
		t.Parallel()
		db, l := newKV(t)
		// key-1, the oldest waiter, leads the batch that meets boom.
		answers, release := lineUp(t, db, l, "key-0", "key-1", "boom", "key-2")
		release()
		got := make(map[string]answer)
		for _, c := range answers {
			a := receive(t, c)
			got[a.key] = a
		}
		if a := got["key-0"]; a.err != nil || a.v != "v0" {
			t.Errorf("key-0, a batch of its own: %q, %v", a.v, a.err)
		}
		if !got["key-1"].panicked {
			t.Errorf("the leader did not panic: %+v", got["key-1"])
		}
		for _, key := range []string{"boom", "key-2"} {
			if a := got[key]; a.panicked || a.err == nil {
				t.Errorf("%s in the panicking batch: %+v, want an error", key, a)
			}
		}
		for i := range 3 {
			if a := receive(t, get(l, fmt.Sprintf("key-%d", i))); a.err != nil {
				t.Fatalf("lookup after a panic: %q, %v", a.v, a.err)
			}
		}
	})
}
