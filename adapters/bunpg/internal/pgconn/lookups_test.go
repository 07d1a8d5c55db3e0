package pgconn_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg/internal/pgconn"
)

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
	release = lockKV(t, db)
	answers = append(answers, get(l, first))
	waitQueued(t, l, 0)
	// Holding the slot is not yet having taken the queue: only a query
	// waiting for the lock shows that first's batch is formed and sent.
	waitBlocked(t, db)
	for i, key := range keys {
		answers = append(answers, get(l, key))
		waitQueued(t, l, i+1)
	}
	return answers, release
}

func waitBlocked(t *testing.T, db *bun.DB) {
	t.Helper()
	for {
		var n int
		err := db.NewRaw(`SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'kv'::regclass
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(context.Background(), &n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
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

// Lookups that arrive while the one query in flight is stuck are answered
// together by the next, each with its own row (or none).
func TestLookupsAreBatched(t *testing.T) {
	t.Parallel()
	cfg, admin := kvDatabase(t)
	// One connection, so that its pg_prepared_statements counts every query.
	one := cfg
	one.MaxOpenConns = 1
	pool := open(t, one)
	l := kvLookups(pool, 1)
	if a := receive(t, get(l, "key-0")); a.err != nil {
		t.Fatal(a.err) // prepares the statement
	}

	const callers = 100
	keys := make([]string, callers)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i%10) // every key several times
		if i%3 == 0 {
			keys[i] = fmt.Sprintf("missing-%d", i)
		}
	}
	answers, release := lineUp(t, admin, l, keys[0], keys[1:]...)
	release()
	for _, c := range answers {
		a := receive(t, c)
		if strings.HasPrefix(a.key, "missing-") {
			if !errors.Is(a.err, sql.ErrNoRows) {
				t.Errorf("%s: %q, %v, want sql.ErrNoRows", a.key, a.v, a.err)
			}
		} else if want := "v" + a.key[len("key-"):]; a.err != nil || a.v != want {
			t.Errorf("%s: %q, %v, want %q", a.key, a.v, a.err, want)
		}
	}
	var runs int
	err := pool.NewRaw(`SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements WHERE statement LIKE '%unnest%'`).Scan(context.Background(), &runs)
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
	cfg, admin := kvDatabase(t)
	two := cfg
	two.MaxOpenConns = 2
	l := kvLookups(open(t, two), 1)

	release := lockKV(t, admin)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if v, err := l.Get(ctx, "key-1"); err == nil {
				t.Errorf("a lookup behind a stuck one: %q, want an error at its deadline", v)
			}
		})
	}
	wg.Wait() // returns at all only if every queued lookup gave up
	release()
	for range 3 {
		if a := receive(t, get(l, "key-1")); a.err != nil || a.v != "v1" {
			t.Fatalf("lookup after the lock: %q, %v", a.v, a.err)
		}
	}
}
