package battery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// outageQueryTimeout is DB_QUERY_TIMEOUT for the outage test; no request may
// take longer than this plus a second (battery 34, decision 7 and 10).
const outageQueryTimeout = 2 * time.Second

// sample is one request made while faults are injected.
type sample struct {
	kind    string
	sentAt  time.Duration // since the fault's reference moment
	status  int           // 0 = transport error
	latency time.Duration
	detail  string
}

type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) all() []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sample(nil), r.samples...)
}

// probe runs the outage test's request mix (get-session with a valid cookie,
// sign-in with the right and a wrong password, health) from a few
// goroutines until stop is closed.
func probe(a *authd, session *client, email, password string, ref time.Time, rec *recorder, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	run := func(kind string, pause time.Duration, call func() (*reply, error), check func(*reply) string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent := time.Since(ref)
				r, err := call()
				s := sample{kind: kind, sentAt: sent}
				if err != nil {
					s.latency = time.Since(ref) - sent
					s.detail = err.Error()
				} else {
					s.status, s.latency, s.detail = r.Status, r.Latency, check(r)
				}
				rec.add(s)
				time.Sleep(pause)
			}
		}()
	}
	none := func(*reply) string { return "" }
	getSession := func() (*reply, error) { return session.get("/api/auth/get-session") }
	checkSession := func(r *reply) string {
		if r.Status != http.StatusOK {
			return unavailableProblem(r)
		}
		got, err := sessionEmail(r.Body)
		switch {
		case err != nil:
			return err.Error()
		case got != email:
			return fmt.Sprintf("200 without the session (user %q)", got)
		}
		return ""
	}
	other := newClient(a)
	for range 3 {
		run("get-session", 20*time.Millisecond, getSession, checkSession)
	}
	run("sign-in", 50*time.Millisecond, func() (*reply, error) { return other.signIn(email, password) }, unavailableProblem)
	run("sign-in-wrong", 50*time.Millisecond, func() (*reply, error) { return other.signIn(email, "wrong-password-1") }, unavailableProblem)
	run("health", 100*time.Millisecond, func() (*reply, error) { return other.get("/api/health") }, none)
	return &wg
}

// TestPostgresOutage is battery 34 (stop/restart variant): while Postgres is
// down authd must answer 503 (never "signed out", never a wrong-password
// 401, never a hang), stay alive, and recover by itself once Postgres is
// back.
func TestPostgresOutage(t *testing.T) {
	pg := privateCluster(t)
	db := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("DB_QUERY_TIMEOUT", outageQueryTimeout.String()))

	email, password := uniqueEmail("outage"), "outage-password-1"
	newClient(a).mustSignUp(t, email, password)
	session := newClient(a)
	if r, err := session.signIn(email, password); err != nil || r.Status != http.StatusOK {
		t.Fatalf("sign-in before the outage: %v %v", r, err)
	}
	if r, err := session.get("/api/auth/get-session"); err != nil || r.Status != http.StatusOK {
		t.Fatalf("get-session before the outage: %v %v", r, err)
	} else if got, _ := sessionEmail(r.Body); got != email {
		t.Fatalf("get-session before the outage: %s", r)
	}

	// --- outage ---
	if err := pg.stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	readyAfter := waitStatus(t, newClient(a), "/api/ready", http.StatusServiceUnavailable, 5*time.Second)
	t.Logf("outage: /api/ready answered 503 %s after pg_ctl stop returned", readyAfter.Round(time.Millisecond))
	if readyAfter > 2*time.Second {
		t.Errorf("/api/ready took %s to turn 503, want <= 2s", readyAfter.Round(time.Millisecond))
	}

	outage := &recorder{}
	stop := make(chan struct{})
	wg := probe(a, session, email, password, down, outage, stop)
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()
	checkOutage(t, outage.all())
	if !a.alive() {
		t.Fatalf("authd exited during the outage: %v", a.exit)
	}

	// --- recovery ---
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	recovery := &recorder{}
	stop = make(chan struct{})
	wg = probe(a, session, email, password, up, recovery, stop)
	time.Sleep(7 * time.Second)
	close(stop)
	wg.Wait()
	checkRecovery(t, recovery.all())

	if r, err := newClient(a).get("/api/ready"); err != nil || r.Status != http.StatusOK {
		t.Errorf("/api/ready after recovery: %v %v", r, err)
	}
	if !a.alive() {
		t.Fatalf("authd exited: %v", a.exit)
	}
}

// unavailableProblem describes how a 503 falls short of battery 34's shape
// (JSON error body and Retry-After); "" for a good 503 or another status.
func unavailableProblem(r *reply) string {
	if r.Status != http.StatusServiceUnavailable {
		return ""
	}
	var problems []string
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !json.Valid(r.Body) {
		problems = append(problems, "no JSON body")
	}
	if r.Header.Get("Retry-After") == "" {
		problems = append(problems, "no Retry-After")
	}
	if len(problems) == 0 {
		return ""
	}
	return strings.Join(problems, ", ") + ": " + r.String()
}

// waitStatus polls path until it answers want and returns how long that took.
func waitStatus(t *testing.T, c *client, path string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < limit {
		r, err := c.get(path)
		if err == nil && r.Status == want {
			return time.Since(start)
		}
		if err != nil {
			last = err.Error()
		} else {
			last = r.String()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %s (last: %s)", path, want, limit, last)
	return 0
}

func checkOutage(t *testing.T, samples []sample) {
	t.Helper()
	statuses := map[string]map[int]int{}
	var maxLatency time.Duration
	var maxKind string
	var failures []string
	fail := func(s sample, why string) {
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s sent at +%s: %s (%d in %s) %s",
				s.kind, s.sentAt.Round(time.Millisecond), why, s.status, s.latency.Round(time.Millisecond), truncate(s.detail, 200)))
		}
	}
	for _, s := range samples {
		if statuses[s.kind] == nil {
			statuses[s.kind] = map[int]int{}
		}
		statuses[s.kind][s.status]++
		if s.latency > maxLatency {
			maxLatency, maxKind = s.latency, s.kind
		}
		if s.latency > outageQueryTimeout+time.Second {
			fail(s, "slower than the DB deadline + 1s")
		}
		switch {
		case s.status == 0:
			fail(s, "no answer")
		case s.kind == "health":
			if s.status != http.StatusOK {
				fail(s, "liveness not 200")
			}
		case s.status != http.StatusServiceUnavailable:
			fail(s, "want 503")
		case s.detail != "":
			fail(s, "malformed 503")
		}
	}
	t.Logf("outage: %d requests in 4s; max latency %s (%s); statuses get-session[%s] sign-in[%s] sign-in-wrong[%s] health[%s]",
		len(samples), maxLatency.Round(time.Millisecond), maxKind,
		histogram(statuses["get-session"]), histogram(statuses["sign-in"]), histogram(statuses["sign-in-wrong"]), histogram(statuses["health"]))
	if statuses["get-session"][http.StatusServiceUnavailable] == 0 {
		t.Errorf("no get-session request was answered 503 during the outage")
	}
	for _, f := range failures {
		t.Errorf("outage: %s", f)
	}
}

func checkRecovery(t *testing.T, samples []sample) {
	t.Helper()
	const settle = 5 * time.Second
	firstOK := time.Duration(-1)
	late5xx, early5xx, lateTotal := 0, 0, 0
	var failures []string
	for _, s := range samples {
		if s.kind == "get-session" && s.status == http.StatusOK && s.detail == "" && (firstOK < 0 || s.sentAt+s.latency < firstOK) {
			firstOK = s.sentAt + s.latency
		}
		if s.sentAt < settle {
			if s.status >= 500 || s.status == 0 {
				early5xx++
			}
			continue
		}
		lateTotal++
		ok := s.status == http.StatusOK && s.detail == ""
		if s.kind == "sign-in-wrong" {
			ok = s.status == http.StatusUnauthorized
		}
		if s.status >= 500 || s.status == 0 {
			late5xx++
		}
		if !ok && len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s sent at +%s: %d %s", s.kind, s.sentAt.Round(time.Millisecond), s.status, truncate(s.detail, 200)))
		}
	}
	t.Logf("recovery: first get-session with the session %s after pg_ctl start returned; %d 5xx/errors in the first 5s; %d 5xx/errors among %d requests after 5s",
		firstOK.Round(time.Millisecond), early5xx, late5xx, lateTotal)
	if firstOK < 0 {
		t.Errorf("get-session never returned the session again after Postgres came back")
	}
	if lateTotal == 0 {
		t.Errorf("no request was sent more than 5s after Postgres came back")
	}
	for _, f := range failures {
		t.Errorf("more than 5s after Postgres came back: %s", f)
	}
}
