package pgconn_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"
)

// A prepared query abandoned at its deadline must not leave its reply
// behind for the next query on the same connection: once the lock is gone,
// the one pooled connection still answers correctly.
func TestAbandonedQueryLeavesThePoolInStep(t *testing.T) {
	t.Parallel()
	cfg, admin := kvDatabase(t)
	ctx := context.Background()
	one := cfg
	one.MaxOpenConns = 1
	q := kvQuery(open(t, one))
	if _, err := rows(ctx, q, "key-0"); err != nil {
		t.Fatal(err) // prepares the statement on the one connection
	}

	release := lockKV(t, admin)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if got, err := rows(short, q, "key-0"); err == nil {
		t.Fatalf("query behind a lock: %v, want an error at its deadline", got)
	}
	release()
	time.Sleep(200 * time.Millisecond) // the abandoned statement completes

	for i := range 3 {
		if got, err := rows(ctx, q, "key-1"); err != nil || len(got) != 1 || got["key-1"] != "v1" {
			t.Fatalf("query %d after the lock: %v, %v", i, got, err)
		}
		if got, err := rows(ctx, q, "missing"); err != nil || len(got) != 0 {
			t.Fatalf("query %d of a missing key after the lock: %v, %v", i, got, err)
		}
	}
}

// Pooled connections that the server ended while idle (a restart, an
// administrator's pg_terminate_backend) are replaced, not reported: the
// query answers as if nothing happened.
func TestDeadPooledConnectionsAreReplaced(t *testing.T) {
	t.Parallel()
	cfg, admin := kvDatabase(t)
	ctx := context.Background()
	three := cfg
	three.MaxOpenConns, three.AppName = 3, "authd-dead-pool-"+rand.Text()
	q := kvQuery(open(t, three))
	var wg sync.WaitGroup
	for range 3 { // three queries at once open and prepare three connections
		wg.Go(func() {
			if _, err := rows(ctx, q, "key-0"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	err := admin.NewRaw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?`, three.AppName).Scan(ctx, &n)
	if err != nil || n == 0 {
		t.Fatalf("terminated %d connections: %v", n, err)
	}
	time.Sleep(100 * time.Millisecond) // the backends exit

	for i := range 4 {
		if got, err := rows(ctx, q, "key-0"); err != nil || got["key-0"] != "v0" {
			t.Fatalf("query %d after %d pooled connections were terminated: %v, %v", i, n, got, err)
		}
	}
}
