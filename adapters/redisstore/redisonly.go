package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// RedisOnly is better-auth's secondaryStorage without storeSessionInDatabase
// (AUTH_STORE_SESSION_IN_DATABASE=false): sessions live only in Redis, users
// in the database. With Redis down there is no session to be had: every
// call is core.ErrUnavailable (503 with Retry-After, never "signed out").
type RedisOnly struct {
	c      *cache
	health *Health
	users  core.UserRepository
}

// RedisOnlyDeps are the database ports RedisOnly needs.
type RedisOnlyDeps struct {
	Users core.UserRepository
	Clock core.Clock
	Log   *slog.Logger
}

func NewRedisOnly(rdb redis.UniversalClient, cfg Config, d RedisOnlyDeps) *RedisOnly {
	c := newCache(rdb, cfg, d.Clock)
	return &RedisOnly{c: c, health: newHealth(c, nil, d.Log), users: d.Users}
}

// Health is the instance's view of Redis (metrics, the limiter's fallback).
func (r *RedisOnly) Health() *Health { return r.health }

// Sessions is the session repository core uses.
func (r *RedisOnly) Sessions() core.SessionRepository { return (*redisSessions)(r) }

// Users wraps the database's users: a change reaches the sessions in Redis
// after the commit.
func (r *RedisOnly) Users() core.UserRepository { return &redisOnlyUsers{r} }

func (r *RedisOnly) unavailable(op string, err error) error {
	r.health.fail(op, err)
	return core.ErrUnavailable.With(err)
}

type redisSessions RedisOnly

var _ core.SessionRepository = (*redisSessions)(nil)

// Create writes the session with its user as better-auth's createSession
// does. Inside a transaction it is written before the commit, since Redis
// is the only place it lives, and deleted again if the transaction rolls
// back.
func (r *redisSessions) Create(ctx context.Context, s core.Session) error {
	u, err := r.users.ByID(ctx, s.UserID())
	if err != nil {
		return err
	}
	err = r.c.mirror(ctx, s, u, true)
	if errors.Is(err, errTaken) {
		return core.ErrDuplicate
	}
	if err != nil {
		return (*RedisOnly)(r).unavailable("create session", err)
	}
	onRollback(ctx, func(ctx context.Context) {
		if err := r.c.drop(ctx, s.Token()); err != nil {
			r.health.log.Error("a session of a rolled-back transaction stays in redis until its TTL", "error", err.Error())
		}
	})
	return nil
}

func (r *redisSessions) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	s, u, found, revoked, err := r.c.read(ctx, token)
	if err != nil {
		return core.Session{}, core.User{}, (*RedisOnly)(r).unavailable("get session", err)
	}
	if !found || revoked {
		return core.Session{}, core.User{}, core.ErrSessionNotFound
	}
	return s, u, nil
}

// ListByUser reads the user's list and its values, skipping revoked ones,
// oldest first.
func (r *redisSessions) ListByUser(ctx context.Context, userID string) ([]core.Session, error) {
	ctx, cancel := r.c.call(ctx)
	defer cancel()
	l, err := r.c.list(ctx, userID)
	if err != nil {
		return nil, (*RedisOnly)(r).unavailable("list sessions", err)
	}
	gets := make([]*redis.StringCmd, len(l))
	var marker *redis.StringCmd
	_, err = r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range l {
			gets[i] = p.Get(ctx, sessionKey(e.Token))
		}
		marker = p.Get(ctx, revokedKey(userID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, (*RedisOnly)(r).unavailable("list sessions", err)
	}
	revokedBefore, _ := marker.Float64()
	var out []core.Session
	for _, g := range gets {
		var e readEnvelope
		if g.Err() != nil || json.Unmarshal([]byte(g.Val()), &e) != nil || e.Session.UserID != userID ||
			float64(e.Session.CreatedAt.time().UnixMilli()) < revokedBefore {
			continue
		}
		out = append(out, e.Session.core())
	}
	slices.SortStableFunc(out, func(a, b core.Session) int { return a.CreatedAt().Compare(b.CreatedAt()) })
	return out, nil
}

func (r *redisSessions) Update(ctx context.Context, s core.Session) error {
	err := r.c.refresh(ctx, s)
	if errors.Is(err, errNoCopy) {
		return core.ErrSessionNotFound
	}
	if err != nil {
		return (*RedisOnly)(r).unavailable("refresh session", err)
	}
	return nil
}

// DeleteByToken deletes at once, or inside a transaction after its commit
// (a Redis write cannot be rolled back), as better-auth defers its cache
// deletions; a failure then is logged, since the commit stands.
func (r *redisSessions) DeleteByToken(ctx context.Context, token string) (bool, error) {
	cctx, cancel := r.c.call(ctx)
	n, err := r.c.rdb.Exists(cctx, sessionKey(token)).Result()
	cancel()
	if err != nil {
		return false, (*RedisOnly)(r).unavailable("delete session", err)
	}
	return n > 0, r.afterCommit(ctx, "delete session", func(ctx context.Context) error { return r.c.drop(ctx, token) })
}

// DeleteByUser revokes the user's sessions listed now with better-auth's
// marker, or, keeping exceptToken, deletes the others one by one
// (deleteSessions); inside a transaction after its commit, as DeleteByToken.
// Only the sessions listed now go: one the same transaction issues next
// (change-password's new session) stays.
func (r *redisSessions) DeleteByUser(ctx context.Context, userID, exceptToken string) (int, error) {
	cctx, cancel := r.c.call(ctx)
	l, err := r.c.list(cctx, userID)
	cancel()
	if err != nil {
		return 0, (*RedisOnly)(r).unavailable("revoke sessions", err)
	}
	at := r.c.clock.Now()
	gone := map[string]bool{}
	for _, e := range l {
		if e.Token != exceptToken {
			gone[e.Token] = true
		}
	}
	n := 0
	for _, e := range l {
		if gone[e.Token] && e.ExpiresAt > at.UnixMilli() {
			n++
		}
	}
	drop := func(t string) bool { return gone[t] }
	return n, r.afterCommit(ctx, "revoke sessions", func(ctx context.Context) error {
		if exceptToken == "" {
			return r.c.revoke(ctx, userID, at, drop)
		}
		return r.c.evict(ctx, userID, drop)
	})
}

func (r *redisSessions) afterCommit(ctx context.Context, op string, apply func(context.Context) error) error {
	if !inTx(ctx) {
		if err := apply(ctx); err != nil {
			return (*RedisOnly)(r).unavailable(op, err)
		}
		return nil
	}
	afterCommit(ctx, func(ctx context.Context) {
		if err := apply(ctx); err != nil {
			r.health.fail(op, err)
			r.health.log.Error("a committed removal did not reach redis: the sessions live until their TTL", "op", op, "error", err.Error())
		}
	})
	return nil
}

// DeleteExpired has nothing to do: Redis expires sessions by their TTL.
func (r *redisSessions) DeleteExpired(context.Context, time.Time, int) (int, error) { return 0, nil }

type redisOnlyUsers struct{ r *RedisOnly }

var _ core.UserRepository = (*redisOnlyUsers)(nil)

func (u *redisOnlyUsers) Create(ctx context.Context, user core.User) error {
	return u.r.users.Create(ctx, user)
}
func (u *redisOnlyUsers) ByID(ctx context.Context, id string) (core.User, error) {
	return u.r.users.ByID(ctx, id)
}
func (u *redisOnlyUsers) ByEmail(ctx context.Context, email string) (core.User, error) {
	return u.r.users.ByEmail(ctx, email)
}

// Update rewrites the user's sessions after the commit. If Redis fails
// then, they show the old user until they are next written: logged, as
// better-auth logs it.
func (u *redisOnlyUsers) Update(ctx context.Context, user core.User) error {
	if err := u.r.users.Update(ctx, user); err != nil {
		return err
	}
	afterCommit(ctx, func(ctx context.Context) {
		if err := u.r.c.refreshUser(ctx, user); err != nil {
			u.r.health.fail("update user", err)
			u.r.health.log.Error("the user's sessions in redis keep the old user data", "error", err.Error())
		}
	})
	return nil
}

// Delete revokes the user's sessions before the row goes: afterwards a
// failure could no longer refuse the delete, and the sessions would live on.
func (u *redisOnlyUsers) Delete(ctx context.Context, id string) error {
	if err := u.r.c.revoke(ctx, id, u.r.c.clock.Now(), all); err != nil {
		return u.r.unavailable("delete user", err)
	}
	return u.r.users.Delete(ctx, id)
}

// UserChanged rewrites the user's sessions with the row as it is once the
// transaction in ctx commits (see Layered.UserChanged).
func (r *RedisOnly) UserChanged(ctx context.Context, userID string) error {
	afterCommit(ctx, func(ctx context.Context) {
		u, err := r.users.ByID(ctx, userID)
		if err == nil {
			err = r.c.refreshUser(ctx, u)
		}
		if err != nil && !errors.Is(err, core.ErrUserNotFound) {
			r.health.fail("update user", err)
			r.health.log.Error("the user's sessions in redis keep the old user data", "error", err.Error())
		}
	})
	return nil
}
