package battery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// redisServer is a throwaway redis-server of the test's own, so that it can
// be frozen and killed by its pid.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("the Redis battery needs redis-server (Debian package redis-server): %v", err)
	}
	r := &redisServer{port: port}
	r.cmd = exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	for i := 0; ; i++ {
		out, _ := exec.Command("redis-cli", "-p", strconv.Itoa(port), "ping").Output()
		if strings.TrimSpace(string(out)) == "PONG" {
			return r
		}
		if i > 100 {
			t.Fatalf("redis-server on %d does not answer", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawSession is get-session with an explicit cookie: the instances share a
// host, and cookie jars ignore ports.
func rawSession(origin, cookie string) (status int, email string, err error) {
	req, _ := http.NewRequest(http.MethodGet, origin+"/api/auth/get-session", nil)
	req.Header.Set("Cookie", cookie)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, "", nil
	}
	email, err = sessionEmail(b)
	return res.StatusCode, email, err
}

func rawPost(origin, path, cookie string, body any) (*http.Response, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, origin+"/api/auth"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return res, err
}

func sessionCookie(t *testing.T, res *http.Response) string {
	t.Helper()
	for _, c := range res.Cookies() {
		if strings.HasSuffix(c.Name, "session_token") && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie in the answer (%d)", res.StatusCode)
	return ""
}

// TestRedisInstancesAndOutage (BATTERY.md rows R1-R4): three authd on one
// database and one Redis share sessions and see revocations at once; with
// Redis frozen under load, get-session keeps answering from the database
// (never 5xx, never null) and /api/ready stays 200; a sign-out made during
// the outage is not resurrected when Redis comes back with the old copy;
// Redis killed and restarted empty is picked up again by itself; kill -9 of
// one instance loses nothing on the others.
func TestRedisInstancesAndOutage(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	redis := startRedis(t, port)
	var inst []*authd
	for range 3 {
		addr := authdtest.FreeAddr(t)
		inst = append(inst, startAuthd(t, authdEnv(pg, db, addr).with(
			"AUTH_SECONDARY_STORAGE", "redis", "REDIS_URL", fmt.Sprintf("redis://127.0.0.1:%d/0", port))))
	}

	email := uniqueEmail("redis")
	res, err := rawPost(inst[0].Origin, "/sign-up/email", "", map[string]any{"name": "R", "email": email, "password": "password123"})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %v %v", res, err)
	}
	live := sessionCookie(t, res)
	signIn := func(on *authd) string {
		res, err := rawPost(on.Origin, "/sign-in/email", "", map[string]any{"email": email, "password": "password123"})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %v %v", res, err)
		}
		return sessionCookie(t, res)
	}
	want := func(what, cookie, wantEmail string) {
		t.Helper()
		for i, a := range inst {
			if !a.alive() {
				continue
			}
			status, got, err := rawSession(a.Origin, cookie)
			if err != nil || status != http.StatusOK || got != wantEmail {
				t.Errorf("%s: instance %d get-session = %d %q %v, want 200 %q", what, i, status, got, err, wantEmail)
			}
		}
	}

	// R1: a session made on one is valid on the others; a sign-out on one
	// is seen by the others at once.
	want("session made on instance 0", live, email)
	gone := signIn(inst[1])
	want("session made on instance 1", gone, email)
	if res, err := rawPost(inst[2].Origin, "/sign-out", gone, map[string]any{}); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-out on instance 2: %v %v", res, err)
	}
	want("after sign-out on instance 2", gone, "")

	// Load on every instance from here on: each get-session of the live
	// session must answer 200 with its user, whatever Redis does.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	var served atomic.Int64
	var killed atomic.Pointer[authd] // its requests may fail: it is the one killed
	for _, a := range inst {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if !a.alive() {
						return
					}
					status, got, err := rawSession(a.Origin, live)
					if killed.Load() == a {
						return
					}
					if err != nil || status != http.StatusOK || got != email {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("%s: %d %q %v", a.Addr, status, got, err))
						mu.Unlock()
					}
					served.Add(1)
				}
			}()
		}
	}
	defer func() { stop.Store(true); wg.Wait() }()

	// R2: Redis frozen (it keeps its data, as across a partition). A
	// sign-out on instance 1 cannot delete the cached copy.
	doomed := signIn(inst[0])
	want("session to be revoked during the outage", doomed, email)
	if err := redis.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	res, err = rawPost(inst[1].Origin, "/sign-out", doomed, map[string]any{})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-out during the outage: %v %v", res, err)
	}
	want("revoked during the outage", doomed, "")
	for i, a := range inst {
		if r, err := http.Get(a.Origin + "/api/ready"); err != nil || r.StatusCode != http.StatusOK {
			t.Errorf("instance %d /api/ready during the Redis outage: %v %v, want 200", i, r, err)
		}
	}
	// R3: Redis comes back with the copy; no instance may serve it.
	if err := redis.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		want("revoked during the outage, Redis back", doomed, "")
		time.Sleep(100 * time.Millisecond)
	}
	if out, _ := exec.Command("redis-cli", "-p", strconv.Itoa(port), "dbsize").Output(); strings.TrimSpace(string(out)) == "0" {
		t.Error("Redis lost its data: the resurrection check proved nothing")
	}

	// Redis killed and restarted empty: served throughout, and new sessions
	// are cached again once it is back.
	_ = redis.cmd.Process.Kill()
	_ = redis.cmd.Wait()
	want("Redis killed", live, email)
	startRedis(t, port)
	fresh := signIn(inst[2])
	want("signed in after Redis restarted", fresh, email)

	// R4: kill -9 of one instance under load loses nothing on the others.
	killed.Store(inst[1])
	_ = inst[1].cmd.Process.Kill()
	<-inst[1].done
	want("after kill -9 of instance 1", live, email)
	want("after kill -9 of instance 1", fresh, email)

	stop.Store(true)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of %d get-session requests under load failed, first: %s", len(bad), served.Load(), bad[0])
	}
	t.Logf("%d get-session requests under load across the Redis freeze, kill and restart", served.Load())
}

// TestRedisOnlySessions (BATTERY.md R6): with AUTH_STORE_SESSION_IN_DATABASE
// =false no session row is written; with Redis frozen, session routes answer
// 503 with Retry-After (never "signed out"), /api/ready 503 and
// /api/health 200; when it thaws, the session is there again.
func TestRedisOnlySessions(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	redis := startRedis(t, port)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with(
		"AUTH_SECONDARY_STORAGE", "redis", "REDIS_URL", fmt.Sprintf("redis://127.0.0.1:%d/0", port),
		"AUTH_STORE_SESSION_IN_DATABASE", "false"))
	email := uniqueEmail("redis-only")
	res, err := rawPost(a.Origin, "/sign-up/email", "", map[string]any{"name": "R", "email": email, "password": "password123"})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %v %v", res, err)
	}
	cookie := sessionCookie(t, res)
	if status, got, err := rawSession(a.Origin, cookie); err != nil || status != http.StatusOK || got != email {
		t.Fatalf("get-session: %d %q %v", status, got, err)
	}
	var rows int
	if err := pg.open(t, name).QueryRow("SELECT count(*) FROM session").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("session rows with sessions only in Redis: %d, %v; want 0", rows, err)
	}

	if err := redis.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, r := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodGet, a.Origin+"/api/auth/get-session", nil)
			req.Header.Set("Cookie", cookie)
			return http.DefaultClient.Do(req)
		},
		func() (*http.Response, error) { return rawPost(a.Origin, "/sign-out", cookie, map[string]any{}) },
	} {
		res, err := r()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %d, Retry-After %q; want 503 with Retry-After", res.Request.URL.Path, res.StatusCode, res.Header.Get("Retry-After"))
		}
		for _, c := range res.Cookies() {
			if strings.HasSuffix(c.Name, "session_token") {
				t.Errorf("%s during the outage touched the session cookie: %v", res.Request.URL.Path, c)
			}
		}
	}
	// /api/ready reuses its verdict for up to a second: ask until it has
	// looked again.
	ready := 0
	for i := 0; i < 50 && ready != http.StatusServiceUnavailable; i++ {
		r, err := http.Get(a.Origin + "/api/ready")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		ready = r.StatusCode
		time.Sleep(100 * time.Millisecond)
	}
	if ready != http.StatusServiceUnavailable {
		t.Errorf("/api/ready with sessions only in a frozen Redis: %d, want 503", ready)
	}
	if r, err := http.Get(a.Origin + "/api/health"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/api/health during the outage: %v %v, want 200", r, err)
	}
	if err := redis.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if status, got, err := rawSession(a.Origin, cookie); err != nil || status != http.StatusOK || got != email {
		t.Errorf("get-session after the outage: %d %q %v, want the session", status, got, err)
	}
}

// TestStartsWithoutRedis (BATTERY.md R7): a Redis that does not answer
// never blocks a start. With sessions in the database the instance is
// ready and signs users up; with sessions only in Redis it is alive
// (health 200) but not ready.
func TestStartsWithoutRedis(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	dead, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	base := func() env {
		return authdEnv(pg, name, authdtest.FreeAddr(t)).with(
			"AUTH_SECONDARY_STORAGE", "redis", "REDIS_URL", fmt.Sprintf("redis://127.0.0.1:%d/0", dead))
	}
	layered := startAuthd(t, base())
	res, err := rawPost(layered.Origin, "/sign-up/email", "", map[string]any{"name": "R", "email": uniqueEmail("no-redis"), "password": "password123"})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("sign-up without Redis, sessions in the database: %v %v", res, err)
	} else if status, _, err := rawSession(layered.Origin, sessionCookie(t, res)); err != nil || status != http.StatusOK {
		t.Errorf("get-session without Redis: %d %v", status, err)
	}

	only := spawnAuthd(t, base().with("AUTH_STORE_SESSION_IN_DATABASE", "false"))
	health := 0
	for i := 0; i < 100 && health != http.StatusOK; i++ {
		if r, err := http.Get(only.Origin + "/api/health"); err == nil {
			r.Body.Close()
			health = r.StatusCode
		}
		time.Sleep(100 * time.Millisecond)
	}
	if health != http.StatusOK {
		t.Fatalf("authd with sessions only in an absent Redis never answered /api/health (alive: %v)", only.alive())
	}
	if r, err := http.Get(only.Origin + "/api/ready"); err != nil || r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/api/ready with sessions only in an absent Redis: %v %v, want 503", r, err)
	}
}
