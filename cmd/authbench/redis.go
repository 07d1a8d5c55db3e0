package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Redis targets of the issue: get-session answered from Redis.
const (
	redisGetShare = 0.50 // of redis-benchmark -t get at the same connections
	redisGetP99   = 5 * time.Millisecond
)

// benchRedis is a throwaway redis-server of the benchmark's own, so that
// the baseline and authd use the same, otherwise idle, Redis.
type benchRedis struct {
	port string
	cmd  *exec.Cmd
}

func startBenchRedis(ctx context.Context, tmp string) (*benchRedis, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", tmp, "--logfile", filepath.Join(tmp, "redis.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redis-server (Debian package redis-server): %w", err)
	}
	r := &benchRedis{port: port, cmd: cmd}
	for i := 0; ; i++ {
		if out, _ := exec.CommandContext(ctx, "redis-cli", "-p", port, "ping").Output(); strings.TrimSpace(string(out)) == "PONG" {
			return r, nil
		}
		if i == 100 {
			r.stop()
			return nil, fmt.Errorf("redis-server on %s does not answer", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *benchRedis) stop() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() }

// getBaseline runs redis-benchmark -t get with conns clients for about d.
func (r *benchRedis) getBaseline(ctx context.Context, conns int, d time.Duration) (result, error) {
	// A first short run sizes the measured one to last about d.
	probe, err := r.benchmark(ctx, conns, 50000)
	if err != nil {
		return result{}, err
	}
	n := max(int(probe.rps*d.Seconds()), 50000)
	res, err := r.benchmark(ctx, conns, n)
	res.name = fmt.Sprintf("redis-benchmark -t get -c %d", conns)
	res.conns = conns
	return res, err
}

func (r *benchRedis) benchmark(ctx context.Context, conns, n int) (result, error) {
	out, err := exec.CommandContext(ctx, "redis-benchmark", "-p", r.port, "-t", "get", "-c", strconv.Itoa(conns),
		"-n", strconv.Itoa(n), "--csv").Output()
	if err != nil {
		return result{}, fmt.Errorf("redis-benchmark: %w", err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(recs) < 2 || len(recs[1]) < 7 {
		return result{}, fmt.Errorf("redis-benchmark output %q: %v", out, err)
	}
	f := func(i int) float64 { v, _ := strconv.ParseFloat(recs[1][i], 64); return v }
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return result{rps: f(1), ok: n, p50: ms(f(4)), p99: ms(f(6)), max: ms(f(7)), elapsed: time.Duration(float64(n) / f(1) * float64(time.Second))}, nil
}

// redisGetSession measures get-session on a second instance with
// AUTH_SECONDARY_STORAGE=redis, with sessions that instance created (so
// that Redis holds them), and counts the Postgres transactions it caused.
func (b *bench) redisGetSession(cached *authd, pg *postgres, db string) (result, float64, error) {
	cb := *b
	cb.srv = cached
	client := newClient(1)
	defer client.CloseIdleConnections()
	cookies := make([]string, len(b.fx.users))
	for k, u := range b.fx.users {
		resp, err := client.Do(cb.post("/sign-in/email", map[string]string{"email": u.email, "password": fixturePassword}).WithContext(b.ctx))
		if err != nil {
			return result{}, 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "better-auth.session_token" && c.Value != "" {
				cookies[k] = c.Name + "=" + c.Value
			}
		}
		if resp.StatusCode != http.StatusOK || cookies[k] == "" {
			return result{}, 0, fmt.Errorf("sign-in on the Redis instance: %s", resp.Status)
		}
	}
	xacts := func() (int64, error) {
		v, err := pg.psql(b.ctx, db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(v, 10, 64)
	}
	cached.quiesce(b.ctx)
	before, err := xacts()
	if err != nil {
		return result{}, 0, err
	}
	progress("get-session (Redis), %d connections, %s", b.opts.conns, b.opts.duration)
	w := cb.getSessionWorkload()
	w.name = "get-session (Redis)"
	w.build = func(i, j int) *http.Request {
		return cb.getSessionRequest(cookies[(i+j*b.opts.conns)%len(cookies)])
	}
	r := runLoad(b.ctx, cached, w)
	// pg_stat_database lags by up to PGSTAT_MIN_INTERVAL (1 s).
	time.Sleep(1500 * time.Millisecond)
	after, err := xacts()
	if err != nil {
		return r, 0, err
	}
	perReq := float64(after-before) / float64(max(r.ok, 1))
	progress("get-session (Redis): %.0f req/s, p99 %s, %d errors, %.4f Postgres transactions per request", r.rps, r.p99, r.errors, perReq)
	return r, perReq, b.ctx.Err()
}

// instancesScenario runs three instances on one database and one Redis and
// measures the aggregate get-session and sign-in rates, each worker bound
// to one instance: compared with one instance on the same machine, it shows
// whether anything is serialised across instances (a shared lock, a hot
// row). The CPU columns are those of the first instance only.
func (b *bench) instances(start func() (*authd, error)) (getSession, signIn result, err error) {
	var inst []*authd
	defer func() {
		for _, a := range inst {
			a.stop()
		}
	}()
	var addrs []string
	for range 3 {
		a, err := start()
		if a != nil {
			inst = append(inst, a)
		}
		if err != nil {
			return result{}, result{}, err
		}
		addrs = append(addrs, strings.TrimPrefix(a.origin, "http://"))
	}
	cb := *b
	cb.srv = inst[0]
	client := newClient(1)
	defer client.CloseIdleConnections()
	cookies := make([]string, len(b.fx.users))
	for k, u := range b.fx.users {
		resp, err := client.Do(cb.post("/sign-in/email", map[string]string{"email": u.email, "password": fixturePassword}).WithContext(b.ctx))
		if err != nil {
			return result{}, result{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "better-auth.session_token" && c.Value != "" {
				cookies[k] = c.Name + "=" + c.Value
			}
		}
		if cookies[k] == "" {
			return result{}, result{}, fmt.Errorf("sign-in on instance 1: %s", resp.Status)
		}
	}
	inst[0].quiesce(b.ctx)
	progress("get-session on 3 instances (Redis), %d connections, %s", b.opts.conns, b.opts.duration)
	w := cb.getSessionWorkload()
	w.name, w.spread = "get-session, 3 instances (Redis)", addrs
	w.build = func(i, j int) *http.Request { return cb.getSessionRequest(cookies[(i+j*b.opts.conns)%len(cookies)]) }
	getSession = runLoad(b.ctx, inst[0], w)
	progress("%s: %.0f req/s, p99 %s, %d errors", w.name, getSession.rps, getSession.p99, getSession.errors)
	inst[0].quiesce(b.ctx)
	progress("sign-in on 3 instances, %d connections, %s", b.opts.conns, b.opts.duration)
	sw := cb.signInWorkload(b.opts.conns)
	sw.name, sw.spread = "sign-in, 3 instances (Redis)", addrs
	build := sw.build
	sw.build = func(w, i int) *http.Request {
		// Each instance trusts its own origin only.
		req := build(w, i)
		req.Header.Set("Origin", "http://"+addrs[w%len(addrs)])
		return req
	}
	signIn = runLoad(b.ctx, inst[0], sw)
	progress("%s: %.1f req/s, p99 %s, %d errors %s", sw.name, signIn.rps, signIn.p99, signIn.errors, signIn.causeSummary())
	return getSession, signIn, b.ctx.Err()
}
