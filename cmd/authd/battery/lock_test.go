package battery

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

const (
	// lockQueryTimeout is DB_QUERY_TIMEOUT for the lock-contention test.
	lockQueryTimeout = time.Second
	// lockHeld is how long the side transaction holds the session table.
	lockHeld = 4 * time.Second
	// lockPool is DB_MAX_OPEN_CONNS, and lockProbes the get-session callers
	// stuck on the lock at any moment: twice the pool, which would starve
	// every other route if each stuck lookup held a connection. Lookups
	// queue for the few lookup queries instead (bunpg.SessionRepository, via pgconn.Lookups).
	lockPool   = 8
	lockProbes = 2 * lockPool
)

// TestSessionTableLocked is battery 35 (lock leg, shortened, with more
// stuck callers than pooled connections): while a side transaction holds
// the session table in ACCESS EXCLUSIVE mode, get-session
// fails at the database deadline with a clean 503 (never "signed out",
// never a hang, so requests cannot pile up), routes that do not touch the
// table stay fast, and the session works again right after the release.
// Fiber never cancels a handler's context, so only authd's own per-call
// deadline can end the wait.
func TestSessionTableLocked(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("DB_QUERY_TIMEOUT", lockQueryTimeout.String(),
		"DB_MAX_OPEN_CONNS", fmt.Sprint(lockPool)))
	db := pg.open(t, name)
	email := uniqueEmail("lock")
	session := newClient(a)
	session.mustSignUp(t, email, "lock-password-1")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.ExecContext(ctx, `LOCK TABLE session IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()

	type probe struct {
		kind    string
		status  int
		latency time.Duration
		problem string
	}
	var (
		mu     sync.Mutex
		probes []probe
		wg     sync.WaitGroup
	)
	record := func(kind string, r *reply, err error, problem string) {
		p := probe{kind: kind, problem: problem}
		if err != nil {
			p.problem = err.Error()
		} else {
			p.status, p.latency = r.Status, r.Latency
		}
		mu.Lock()
		probes = append(probes, p)
		mu.Unlock()
	}
	until := locked.Add(lockHeld - lockQueryTimeout) // no request may straddle the release
	for range lockProbes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				r, err := session.get("/api/auth/get-session")
				problem := ""
				if err == nil {
					switch r.Status {
					case http.StatusServiceUnavailable:
						problem = unavailableProblem(r)
					default:
						problem = "want 503 while the session table is locked: " + r.String()
					}
				}
				record("get-session", r, err, problem)
			}
		}()
	}
	other := newClient(a)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(until) {
			r, err := other.get("/api/health")
			record("health", r, err, statusProblem(r, err, http.StatusOK))
			// Reads the user and verification tables only.
			r, err = other.post("/api/auth/request-password-reset", map[string]any{"email": uniqueEmail("lock-nobody")})
			record("reset-request", r, err, statusProblem(r, err, http.StatusOK))
			time.Sleep(100 * time.Millisecond)
		}
	}()
	wg.Wait()
	time.Sleep(time.Until(locked.Add(lockHeld)))
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	released := time.Now()

	// After the release every answer is the session or, at worst, a 503
	// while the pool recovers; a 500 would mean a connection came back from
	// a timed-out query unusable.
	var recovered time.Duration
	for {
		r, err := session.get("/api/auth/get-session")
		if err == nil && r.Status == http.StatusOK {
			if got, _ := sessionEmail(r.Body); got == email {
				recovered = time.Since(released)
				break
			}
		}
		if err == nil && r.Status != http.StatusOK && r.Status != http.StatusServiceUnavailable {
			t.Errorf("get-session %s after the release: %s", time.Since(released).Round(time.Millisecond), r)
		}
		if time.Since(released) > 5*time.Second {
			t.Fatalf("get-session did not recover within 5 s of the release (last: %v %v)", r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	slowest := map[string]time.Duration{}
	counts := map[string]map[int]int{}
	for _, p := range probes {
		if p.problem != "" {
			t.Errorf("%s: %s", p.kind, p.problem)
		}
		slowest[p.kind] = max(slowest[p.kind], p.latency)
		if counts[p.kind] == nil {
			counts[p.kind] = map[int]int{}
		}
		counts[p.kind][p.status]++
	}
	t.Logf("session table locked %s: get-session %s (slowest %s); health %s (slowest %s); reset-request %s (slowest %s); recovered %s after the release",
		lockHeld, histogram(counts["get-session"]), slowest["get-session"].Round(time.Millisecond),
		histogram(counts["health"]), slowest["health"].Round(time.Millisecond),
		histogram(counts["reset-request"]), slowest["reset-request"].Round(time.Millisecond), recovered.Round(time.Millisecond))
	if counts["get-session"][http.StatusServiceUnavailable] == 0 {
		t.Errorf("no get-session ran into the lock")
	}
	// A lookup may queue behind one batch that runs into the lock for
	// DB_QUERY_TIMEOUT and then lead its own: two timeouts at most, plus
	// scheduling slack. What matters is that none waits for the release.
	if bound := 2*lockQueryTimeout + 500*time.Millisecond; slowest["get-session"] > bound {
		t.Errorf("slowest get-session took %s, want <= 2 × DB_QUERY_TIMEOUT + 0.5 s = %s", slowest["get-session"].Round(time.Millisecond), bound)
	}
	for _, kind := range []string{"health", "reset-request"} {
		if s := slowest[kind]; s > 500*time.Millisecond {
			t.Errorf("%s, which does not touch the session table, took %s", kind, s.Round(time.Millisecond))
		}
	}
	if recovered > 2*time.Second {
		t.Errorf("get-session recovered %s after the release, want <= 2 s", recovered.Round(time.Millisecond))
	}
}

// statusProblem describes a reply that is not want, "" if it is.
func statusProblem(r *reply, err error, want int) string {
	switch {
	case err != nil:
		return err.Error()
	case r.Status != want:
		return "unexpected " + r.String()
	}
	return ""
}
