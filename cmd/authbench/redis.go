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
