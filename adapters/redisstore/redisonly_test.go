package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/adapters/redisstore/redistest"
	"github.com/authd/authd/core"
)

// change-password with revokeOtherSessions, sessions only in Redis: one
// transaction revokes the user's sessions and issues a new one; the
// revocation, applied at the commit, takes the old sessions only.
func TestRedisOnlyRevocationSparesTheSessionIssuedAfterIt(t *testing.T) {
	rdb, rcfg := redistest.Client(t)
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	r := redisstore.NewRedisOnly(rdb, rcfg, redisstore.RedisOnlyDeps{
		Users: bunpg.NewUserRepository(db, cfg), Clock: core.SystemClock{}, Log: slog.New(slog.DiscardHandler),
	})
	tx := redisstore.NewTransactor(bunpg.NewTransactor(db, cfg))
	ctx, now := t.Context(), time.Now().UTC()
	u, _ := core.NewUser(rid(), "R", rid()+"@example.com", nil, now)
	if err := r.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	old, _ := core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "", "")
	if err := r.Sessions().Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	var fresh core.Session
	err := tx.WithinTx(ctx, func(ctx context.Context) error {
		if _, err := r.Sessions().DeleteByUser(ctx, u.ID(), ""); err != nil {
			return err
		}
		fresh, _ = core.NewSession(rid(), rid(), u.ID(), time.Now().UTC(), time.Hour, "", "")
		return r.Sessions().Create(ctx, fresh)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Sessions().ByToken(ctx, old.Token()); !errors.Is(err, core.ErrSessionNotFound) {
		t.Errorf("the revoked session: %v, want ErrSessionNotFound", err)
	}
	if _, _, err := r.Sessions().ByToken(ctx, fresh.Token()); err != nil {
		t.Errorf("the session issued after the revocation: %v", err)
	}
}
