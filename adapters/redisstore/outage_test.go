package redisstore_test

import (
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/adapters/redisstore/redistest"
	"github.com/authd/authd/core"
)

// deadRedis is an address where nothing listens.
func deadRedis(t *testing.T) redisstore.Config {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return redisstore.Config{URL: "redis://" + addr + "/14", Timeout: 200 * time.Millisecond}
}

// Two instances on one database: B reaches Redis, A has lost it. A sign-out
// and a revoke-sessions made on A cannot delete B's cached copies; the
// backlog makes B stop trusting Redis and replay them, so the revoked
// sessions never come back.
func TestRevokedDuringOutageNeverComesBack(t *testing.T) {
	rdb, rcfg := redistest.Client(t)
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	ctx, clock := t.Context(), core.SystemClock{}
	deps := redisstore.LayeredDeps{
		Sessions: bunpg.NewSessionRepository(db, cfg), Users: bunpg.NewUserRepository(db, cfg),
		Tx: bunpg.NewTransactor(db, cfg), Backlog: bunpg.NewCacheBacklog(db, cfg), Clock: clock,
		Log: slog.New(slog.DiscardHandler),
	}
	b := redisstore.NewLayered(rdb, rcfg, deps)
	deadCfg := deadRedis(t)
	dead, err := redisstore.NewClient(deadCfg)
	if err != nil {
		t.Fatal(err)
	}
	a := redisstore.NewLayered(dead, deadCfg, deps)
	if !b.Health().Check(ctx) {
		t.Fatal("B does not trust a live Redis")
	}
	if a.Health().Check(ctx) {
		t.Fatal("A trusts a Redis that does not answer")
	}

	now := time.Now().UTC()
	u, _ := core.NewUser(rid(), "C", rid()+"@example.com", nil, now)
	if err := b.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	var s [3]core.Session
	for i := range s {
		s[i], _ = core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "", "")
		if err := b.Sessions().Create(ctx, s[i]); err != nil {
			t.Fatal(err)
		}
	}
	// A still serves sessions, from the database.
	if _, _, err := a.Sessions().ByToken(ctx, s[0].Token()); err != nil {
		t.Fatalf("A, without Redis, ByToken: %v", err)
	}
	if a.Health().Fallbacks.Load() == 0 {
		t.Error("A's read was not counted as a fallback")
	}
	if _, err := a.Sessions().DeleteByToken(ctx, s[0].Token()); err != nil {
		t.Fatalf("A, without Redis, sign-out: %v", err)
	}
	if _, err := a.Sessions().DeleteByUser(ctx, u.ID(), s[2].Token()); err != nil {
		t.Fatalf("A, without Redis, revoke other sessions: %v", err)
	}
	if n := rdb.Exists(ctx, "better-auth:"+s[0].Token(), "better-auth:"+s[1].Token()).Val(); n != 2 {
		t.Fatalf("the outage test needs both copies still in Redis, %d are", n)
	}

	// B's next check finds the backlog, replays it, and trusts Redis again.
	if !b.Health().Check(ctx) {
		t.Fatal("B does not trust Redis after replaying the backlog")
	}
	for _, gone := range s[:2] {
		if _, _, err := b.Sessions().ByToken(ctx, gone.Token()); !errors.Is(err, core.ErrSessionNotFound) {
			t.Errorf("B: session revoked during the outage: %v, want ErrSessionNotFound", err)
		}
	}
	if _, _, err := b.Sessions().ByToken(ctx, s[2].Token()); err != nil {
		t.Errorf("B: the session kept by revoke-other-sessions: %v", err)
	}
	if b.Health().Replayed.Load() != 2 {
		t.Errorf("B replayed %d backlog entries, want 2", b.Health().Replayed.Load())
	}
}
