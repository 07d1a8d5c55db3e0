package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// Layered is better-auth's secondaryStorage with storeSessionInDatabase:
// the database holds every session and user, Redis a copy that get-session
// reads first (and only it, when the copy is there). Writes go to both;
// whatever Redis misses while it is unreachable is owed through the
// backlog, so that it never answers with a session the database revoked.
type Layered struct {
	c      *cache
	health *Health
	db     core.SessionRepository
	users  core.UserRepository
	tx     core.Transactor // the database's, undecorated
}

// LayeredDeps are the database ports Layered puts Redis in front of.
type LayeredDeps struct {
	Sessions core.SessionRepository
	Users    core.UserRepository
	Tx       core.Transactor
	Backlog  core.CacheBacklog
	Clock    core.Clock
	Log      *slog.Logger
}

func NewLayered(rdb redis.UniversalClient, cfg Config, d LayeredDeps) *Layered {
	c := newCache(rdb, cfg, d.Clock)
	return &Layered{c: c, health: newHealth(c, d.Backlog, d.Log), db: d.Sessions, users: d.Users, tx: d.Tx}
}

// Health is the instance's trust in Redis; run its loop for the life of
// the process.
func (l *Layered) Health() *Health { return l.health }

// Sessions is the session repository core uses.
func (l *Layered) Sessions() core.SessionRepository { return (*layeredSessions)(l) }

// Users wraps the database's users: a change reaches the cached sessions.
func (l *Layered) Users() core.UserRepository { return &layeredUsers{l} }

type layeredSessions Layered

var _ core.SessionRepository = (*layeredSessions)(nil)

func (l *layeredSessions) Create(ctx context.Context, s core.Session) error {
	if err := l.db.Create(ctx, s); err != nil {
		return err
	}
	afterCommit(ctx, func(ctx context.Context) {
		if !l.health.Usable() {
			return // a missing copy is read from the database
		}
		u, err := l.users.ByID(ctx, s.UserID())
		if err != nil {
			return
		}
		if err := l.c.mirror(ctx, s, u, false); err != nil {
			l.health.fail("create session", err)
		}
	})
	return nil
}

// ByToken answers from Redis when it holds the session; a revoked copy is
// no session, as in better-auth. Inside a transaction it reads the database,
// which locks the row for the flow re-checking it.
func (l *layeredSessions) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	if !inTx(ctx) {
		if !l.health.Usable() {
			l.health.Fallbacks.Add(1)
		} else {
			s, u, found, revoked, err := l.c.read(ctx, token)
			switch {
			case err != nil:
				l.health.fail("get session", err)
				l.health.Fallbacks.Add(1)
			case revoked:
				return core.Session{}, core.User{}, core.ErrSessionNotFound
			case found:
				return s, u, nil
			}
		}
	}
	return l.db.ByToken(ctx, token)
}

func (l *layeredSessions) ListByUser(ctx context.Context, userID string) ([]core.Session, error) {
	return l.db.ListByUser(ctx, userID)
}

func (l *layeredSessions) Update(ctx context.Context, s core.Session) error {
	if err := l.db.Update(ctx, s); err != nil {
		return err
	}
	afterCommit(ctx, func(ctx context.Context) {
		if !l.health.Usable() {
			return // the copy expires no later than it said; then the database answers
		}
		if err := l.c.refresh(ctx, s); err != nil && !errors.Is(err, errNoCopy) {
			l.health.fail("refresh session", err)
			l.oweAfterCommit(ctx, core.CacheEntry{Kind: core.CacheDropSession, Subject: s.Token(), At: l.c.clock.Now()})
		}
	})
	return nil
}

// DeleteByToken removes the copy first, as better-auth does; when Redis
// cannot take that, the removal is owed in the same transaction as the
// row's deletion.
func (l *layeredSessions) DeleteByToken(ctx context.Context, token string) (bool, error) {
	if l.health.Usable() {
		err := l.c.drop(ctx, token)
		if err == nil {
			return l.db.DeleteByToken(ctx, token)
		}
		l.health.fail("delete session", err)
	}
	var existed bool
	err := l.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := l.health.owe(ctx, core.CacheEntry{Kind: core.CacheDropSession, Subject: token, At: l.c.clock.Now()}); err != nil {
			return err
		}
		var err error
		existed, err = l.db.DeleteByToken(ctx, token)
		return err
	})
	return existed, err
}

func (l *layeredSessions) DeleteByUser(ctx context.Context, userID, exceptToken string) (int, error) {
	e := core.CacheEntry{Kind: core.CacheRevokeUser, Subject: userID, At: l.c.clock.Now()}
	if exceptToken != "" {
		e.Kind = core.CacheEvictUser
	}
	var n int
	var owed bool
	err := l.tx.WithinTx(ctx, func(ctx context.Context) error {
		if owed = !l.health.Usable(); owed {
			if err := l.health.owe(ctx, e); err != nil {
				return err
			}
		}
		var err error
		n, err = l.db.DeleteByUser(ctx, userID, exceptToken)
		return err
	})
	if err != nil {
		return 0, err
	}
	l.applyAfterCommit(ctx, e, owed, func(ctx context.Context) error {
		if exceptToken != "" {
			return l.c.evict(ctx, userID, allBut(exceptToken))
		}
		return l.c.revoke(ctx, userID, e.At, all)
	})
	return n, nil
}

func (l *layeredSessions) DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error) {
	return l.db.DeleteExpired(ctx, t, limit) // Redis expires its copies by itself
}

// applyAfterCommit makes a removal once the database has committed it; if
// Redis fails then, the removal is owed.
// owed says the transaction recorded it already.
func (l *Layered) applyAfterCommit(ctx context.Context, e core.CacheEntry, owed bool, apply func(context.Context) error) {
	afterCommit(ctx, func(ctx context.Context) {
		if !l.health.Usable() {
			if !owed {
				l.oweAfterCommit(ctx, e)
			}
			return
		}
		if err := apply(ctx); err != nil {
			l.health.fail(e.Kind, err)
			l.oweAfterCommit(ctx, e)
		}
	})
}

func (l *layeredSessions) applyAfterCommit(ctx context.Context, e core.CacheEntry, owed bool, apply func(context.Context) error) {
	(*Layered)(l).applyAfterCommit(ctx, e, owed, apply)
}

func (l *layeredSessions) oweAfterCommit(ctx context.Context, e core.CacheEntry) {
	(*Layered)(l).oweAfterCommit(ctx, e)
}

// oweAfterCommit records a removal the committed transaction could not
// make. If the database fails too, the copy stays until its TTL: logged, as
// it is the one case the backlog cannot cover.
func (l *Layered) oweAfterCommit(ctx context.Context, e core.CacheEntry) {
	if err := l.health.owe(context.WithoutCancel(ctx), e); err != nil {
		l.health.log.Error("redis removal could not be recorded: a cached session may outlive its revocation until its TTL",
			"kind", e.Kind, "error", err.Error())
	}
}

// layeredUsers passes user changes to the cached sessions after the commit,
// as better-auth's updateUser and deleteUser do.
type layeredUsers struct{ l *Layered }

var _ core.UserRepository = (*layeredUsers)(nil)

func (u *layeredUsers) Create(ctx context.Context, user core.User) error {
	return u.l.users.Create(ctx, user)
}
func (u *layeredUsers) ByID(ctx context.Context, id string) (core.User, error) {
	return u.l.users.ByID(ctx, id)
}
func (u *layeredUsers) ByEmail(ctx context.Context, email string) (core.User, error) {
	return u.l.users.ByEmail(ctx, email)
}

func (u *layeredUsers) Update(ctx context.Context, user core.User) error {
	return u.change(ctx, core.CacheEntry{Kind: core.CacheEvictUser, Subject: user.ID(), At: u.l.c.clock.Now()},
		func(ctx context.Context) error { return u.l.users.Update(ctx, user) },
		func(ctx context.Context) error { return u.l.c.refreshUser(ctx, user) })
}

func (u *layeredUsers) Delete(ctx context.Context, id string) error {
	e := core.CacheEntry{Kind: core.CacheRevokeUser, Subject: id, At: u.l.c.clock.Now()}
	return u.change(ctx, e,
		func(ctx context.Context) error { return u.l.users.Delete(ctx, id) },
		func(ctx context.Context) error { return u.l.c.revoke(ctx, id, e.At, all) })
}

func (u *layeredUsers) change(ctx context.Context, e core.CacheEntry, write, apply func(context.Context) error) error {
	var owed bool
	err := u.l.tx.WithinTx(ctx, func(ctx context.Context) error {
		if owed = !u.l.health.Usable(); owed {
			if err := u.l.health.owe(ctx, e); err != nil {
				return err
			}
		}
		return write(ctx)
	})
	if err != nil {
		return err
	}
	u.l.applyAfterCommit(ctx, e, owed, apply)
	return nil
}

// UserChanged passes a change of the user's row made outside Users (the
// twoFactor plugin writes its flag itself) to the user's cached sessions
// once the transaction in ctx commits, as better-auth's updateUser does.
func (l *Layered) UserChanged(ctx context.Context, userID string) error {
	e := core.CacheEntry{Kind: core.CacheEvictUser, Subject: userID, At: l.c.clock.Now()}
	owed := !l.health.Usable()
	if owed {
		if err := l.health.owe(ctx, e); err != nil {
			return err
		}
	}
	l.applyAfterCommit(ctx, e, owed, func(ctx context.Context) error {
		u, err := l.users.ByID(ctx, userID)
		if errors.Is(err, core.ErrUserNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return l.c.refreshUser(ctx, u)
	})
	return nil
}
