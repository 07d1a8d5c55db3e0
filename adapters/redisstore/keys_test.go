package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/adapters/redisstore/redistest"
	"github.com/authd/authd/core"
)

func rid() string { return strings.ToLower(rand.Text())[:24] }

// The keys, values and TTLs are better-auth 1.7.25's with
// @better-auth/redis-storage and the twoFactor plugin on (newLayered), as
// observed from the real package (the e2e suite compares them with a live
// better-auth, plugin off).
func TestSessionKeysAreBetterAuths(t *testing.T) {
	a, _ := newLayered(t)
	rdb, _ := redistest.Client(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u, err := core.NewUser(rid(), "Ann \"A\"", rid()+"@example.com", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	s, _ := core.NewSession(rid(), rid(), u.ID(), now, 7*24*time.Hour, "", "curl/8")
	if err := a.Sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	want := fmt.Sprintf(`{"session":{"expiresAt":"%s","token":"%s","createdAt":"%s","updatedAt":"%s","ipAddress":"","userAgent":"curl/8","userId":"%s","id":"%s"},`+
		`"user":{"name":"Ann \"A\"","email":"%s","emailVerified":false,"image":null,"createdAt":"%s","updatedAt":"%s","twoFactorEnabled":false,"id":"%s"}}`,
		iso(s.ExpiresAt()), s.Token(), iso(now), iso(now), u.ID(), s.ID(), u.Email(), iso(now), iso(now), u.ID())
	if got := rdb.Get(ctx, "better-auth:"+s.Token()).Val(); got != want {
		t.Errorf("value of the session key:\n got %s\nwant %s", got, want)
	}
	wantList := fmt.Sprintf(`[{"token":"%s","expiresAt":%d}]`, s.Token(), s.ExpiresAt().UnixMilli())
	if got := rdb.Get(ctx, "better-auth:active-sessions-"+u.ID()).Val(); got != wantList {
		t.Errorf("active-sessions: got %s, want %s", got, wantList)
	}
	for _, k := range []string{s.Token(), "active-sessions-" + u.ID()} {
		if ttl := rdb.TTL(ctx, "better-auth:"+k).Val(); ttl < 604790*time.Second || ttl > 604800*time.Second {
			t.Errorf("TTL of %s = %v, want about 604800 s", k, ttl)
		}
	}

	// revoke-sessions: marker in ms, values and the list gone.
	if _, err := a.Sessions.DeleteByUser(ctx, u.ID(), ""); err != nil {
		t.Fatal(err)
	}
	marker := rdb.Get(ctx, "better-auth:revoked-sessions-before-"+u.ID()).Val()
	if ms := fmt.Sprint(time.Now().UnixMilli()); len(marker) != len(ms) || marker < fmt.Sprint(now.UnixMilli()) {
		t.Errorf("revoked-sessions-before = %q, want epoch ms around %s", marker, ms)
	}
	if ttl := rdb.TTL(ctx, "better-auth:revoked-sessions-before-"+u.ID()).Val(); ttl != 604800*time.Second {
		t.Errorf("marker TTL = %v, want 604800 s", ttl)
	}
	if n := rdb.Exists(ctx, "better-auth:"+s.Token(), "better-auth:active-sessions-"+u.ID()).Val(); n != 0 {
		t.Errorf("after revoke-sessions %d of the session and list keys remain", n)
	}
}

// A cached session made before the user's revocation marker is no session,
// with no database fallback (better-auth's isRevokedSession): the marker
// also hides a value a racing writer put back.
func TestMarkerHidesOlderCachedSessions(t *testing.T) {
	a, _ := newLayered(t)
	rdb, _ := redistest.Client(t)
	ctx := t.Context()
	now := time.Now().UTC()
	u, _ := core.NewUser(rid(), "B", rid()+"@example.com", nil, now)
	_ = a.Users.Create(ctx, u)
	s, _ := core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "", "")
	if err := a.Sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	rdb.Set(ctx, "better-auth:revoked-sessions-before-"+u.ID(), fmt.Sprint(now.UnixMilli()+1), time.Minute)
	if _, _, err := a.Sessions.ByToken(ctx, s.Token()); err != core.ErrSessionNotFound {
		t.Fatalf("ByToken of a session older than the marker: %v, want ErrSessionNotFound", err)
	}
}

func TestVerificationKeysAreBetterAuths(t *testing.T) {
	rdb, cfg := redistest.Client(t)
	v := redisstore.NewVerifications(rdb, cfg, core.SystemClock{})
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := "reset-password:" + rid()
	ver, _ := core.NewVerification("x", id, "user-1", now, time.Hour)
	if err := v.Create(ctx, ver); err != nil {
		t.Fatal(err)
	}
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	want := fmt.Sprintf(`{"createdAt":"%s","updatedAt":"%s","value":"user-1","identifier":"%s","expiresAt":"%s"}`,
		iso(now), iso(now), id, iso(now.Add(time.Hour)))
	if got := rdb.Get(ctx, "better-auth:verification:"+id).Val(); got != want {
		t.Errorf("verification value:\n got %s\nwant %s", got, want)
	}
	if ttl := rdb.TTL(ctx, "better-auth:verification:"+id).Val(); ttl < 3590*time.Second || ttl > 3600*time.Second {
		t.Errorf("verification TTL = %v, want 3600 s", ttl)
	}
	got, err := v.Consume(ctx, id)
	if err != nil || got.Value() != "user-1" {
		t.Fatalf("Consume = %v, %v", got.Value(), err)
	}
	if _, err := v.Consume(ctx, id); err != core.ErrVerificationNotFound {
		t.Errorf("second Consume: %v, want ErrVerificationNotFound", err)
	}
}

// better-auth's increment: INCR, EXPIRE window on the first, refused ones
// counted, allowed while count <= max.
func TestRateLimitCountersAreBetterAuths(t *testing.T) {
	_, l := newLayered(t)
	rdb, cfg := redistest.Client(t)
	rl := redisstore.NewRateLimiter(rdb, cfg, core.SystemClock{}, l.Health(), memory.NewRateLimiter())
	ctx, key := t.Context(), "203.0.113.7|/sign-in/"+rid()
	for i := 1; i <= 5; i++ {
		d, err := rl.Consume(ctx, key, 10*time.Second, 3, time.Now())
		if err != nil || d.Allowed != (i <= 3) {
			t.Fatalf("request %d: %+v, %v; want allowed only up to 3", i, d, err)
		}
	}
	if got := rdb.Get(ctx, "better-auth:"+key).Val(); got != "5" {
		t.Errorf("counter = %q, want 5 (refusals count too)", got)
	}
	if ttl := rdb.TTL(ctx, "better-auth:"+key).Val(); ttl <= 0 || ttl > 10*time.Second {
		t.Errorf("counter TTL = %v, want the 10 s window", ttl)
	}
}

// Concurrent reads share pipelines; each must get its own session.
func TestConcurrentReadsGetTheirOwnSession(t *testing.T) {
	a, _ := newLayered(t)
	ctx := t.Context()
	now := time.Now().UTC()
	var sessions []core.Session
	for range 8 {
		u, _ := core.NewUser(rid(), "C", rid()+"@example.com", nil, now)
		if err := a.Users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		s, _ := core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "", "")
		if err := a.Sessions.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	errs := make(chan error, 64*20)
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				want := sessions[(g+i)%len(sessions)]
				got, u, err := a.Sessions.ByToken(ctx, want.Token())
				if err != nil || got.ID() != want.ID() || u.ID() != want.UserID() {
					errs <- fmt.Errorf("ByToken(%s…) = %s, user %s, %v; want %s, user %s", want.Token()[:4], got.ID(), u.ID(), err, want.ID(), want.UserID())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// With the twoFactor plugin on, the cached user carries twoFactorEnabled
// where better-auth puts it (after updatedAt), and a change of the flag
// made outside Users reaches every cached session of the user.
func TestTwoFactorFlagInCachedUsers(t *testing.T) {
	rdb, rcfg := redistest.Client(t)
	rcfg.TwoFactor = true
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	tx := bunpg.NewTransactor(db, cfg)
	users := bunpg.NewUserRepository(db, cfg)
	l := redisstore.NewLayered(rdb, rcfg, redisstore.LayeredDeps{
		Sessions: bunpg.NewSessionRepository(db, cfg), Users: users, Tx: tx,
		Backlog: bunpg.NewCacheBacklog(db, cfg), Clock: core.SystemClock{}, Log: slog.New(slog.DiscardHandler),
	})
	if !l.Health().Check(t.Context()) {
		t.Fatal("redis not trusted")
	}
	ctx, now := t.Context(), time.Now().UTC()
	u, _ := core.NewUser(rid(), "F", rid()+"@example.com", nil, now)
	if err := l.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	s, _ := core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "", "")
	if err := l.Sessions().Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if v := rdb.Get(ctx, "better-auth:"+s.Token()).Val(); !strings.Contains(v, `"updatedAt":"`+now.Format("2006-01-02T15:04:05.000Z")+`","twoFactorEnabled":false,"id":`) {
		t.Errorf("cached user without twoFactorEnabled where better-auth puts it: %s", v)
	}
	err := redisstore.NewTransactor(tx).WithinTx(ctx, func(ctx context.Context) error {
		if err := bunpg.NewTwoFactorRepository(db, cfg).SetUserEnabled(ctx, u.ID(), true, now); err != nil {
			return err
		}
		return l.UserChanged(ctx, u.ID())
	})
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := l.Sessions().ByToken(ctx, s.Token())
	if err != nil || !got.TwoFactorEnabled() {
		t.Errorf("cached session after the flag was set: twoFactorEnabled %v, %v; want true", got.TwoFactorEnabled(), err)
	}
}
