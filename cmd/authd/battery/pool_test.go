package battery

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// poolSize is DB_MAX_OPEN_CONNS for the pool-exhaustion test.
const poolSize = 10

// TestPoolExhaustion is battery 36: 300 simultaneous sign-ups against a
// pool of 10 connections. No handler may hold a connection while it waits
// for a second one (that would deadlock the pool), so every request ends,
// as a sign-up (200) or as load shed by the password hasher (503), never a
// 500 or a hang; Postgres never sees more than 10 connections from authd;
// and every 200 left exactly one user with one credential account.
func TestPoolExhaustion(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("DB_MAX_OPEN_CONNS", fmt.Sprint(poolSize)))
	db := pg.open(t, name)

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var n int64
			err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND application_name = 'authd'`, name).Scan(&n)
			cancel()
			if err == nil && n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	c := newClient(a)
	t.Cleanup(c.hc.CloseIdleConnections) // unused connections would hold authd's shutdown
	start := time.Now()
	res := together(300, func(i int) outcome {
		r, err := c.signUp(fmt.Sprintf("pool-%03d-%s@battery.test", i, randomHex(3)), "pool-password-1")
		return outcome{r, err}
	})
	elapsed := time.Since(start)
	close(stop)
	<-sampled

	statuses := map[int]int{}
	var slowest time.Duration
	for i, o := range res {
		if o.err != nil {
			t.Errorf("sign-up %d: %v", i, o.err)
			continue
		}
		statuses[o.r.Status]++
		slowest = max(slowest, o.r.Latency)
		switch o.r.Status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			expectClean(t, fmt.Sprintf("sign-up %d", i), o.r)
		default:
			t.Errorf("sign-up %d: %s, want 200 or 503", i, o)
		}
	}
	t.Logf("300 concurrent sign-ups on a pool of %d: %s in %s, slowest %s; peak %d authd connections in pg_stat_activity",
		poolSize, histogram(statuses), elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond), peak.Load())
	if statuses[http.StatusOK] == 0 {
		t.Errorf("no sign-up succeeded")
	}
	if p := peak.Load(); p > poolSize || p == 0 {
		t.Errorf("peak of %d authd connections, want between 1 and the pool size %d", p, poolSize)
	}
	users := count(t, db, `SELECT count(*) FROM "user" WHERE email LIKE 'pool-%'`)
	accounts := count(t, db, `SELECT count(*) FROM account a JOIN "user" u ON u.id = a.user_id WHERE u.email LIKE 'pool-%' AND a.provider_id = 'credential'`)
	if users != statuses[http.StatusOK] || accounts != users {
		t.Errorf("%d users and %d credential accounts for %d successful sign-ups", users, accounts, statuses[http.StatusOK])
	}
	if r, err := newClient(a).get("/api/ready"); err != nil || r.Status != http.StatusOK {
		t.Errorf("/api/ready after the burst: %v %v", r, err)
	}
}
