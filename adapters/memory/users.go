package memory

import (
	"context"
	"strings"

	"github.com/authd/authd/core"
)

// UserRepository stores users in a Store.
type UserRepository struct{ s *Store }

var _ core.UserRepository = (*UserRepository)(nil)

func storedUser(u core.User) core.UserRecord {
	r := u.Record()
	r.ID, r.Name, r.Email = strings.Clone(r.ID), strings.Clone(r.Name), strings.ToLower(strings.Clone(r.Email))
	r.Image = cloneStr(r.Image)
	return r
}

func (r *UserRepository) Create(ctx context.Context, u core.User) error {
	rec := storedUser(u)
	return r.s.do(ctx, func(t *tables) error {
		if _, taken := t.emails[rec.Email]; taken {
			return core.ErrUserExists
		}
		if _, taken := t.users[rec.ID]; taken {
			return core.ErrDuplicate
		}
		t.users[rec.ID] = rec
		t.emails[rec.Email] = rec.ID
		return nil
	})
}

func (r *UserRepository) ByID(ctx context.Context, id string) (core.User, error) {
	var u core.User
	err := r.s.do(ctx, func(t *tables) error {
		rec, ok := t.users[id]
		if !ok {
			return core.ErrUserNotFound
		}
		u = core.RehydrateUser(rec)
		return nil
	})
	return u, err
}

func (r *UserRepository) ByEmail(ctx context.Context, email string) (core.User, error) {
	var u core.User
	err := r.s.do(ctx, func(t *tables) error {
		id, ok := t.emails[strings.ToLower(email)]
		if !ok {
			return core.ErrUserNotFound
		}
		u = core.RehydrateUser(t.users[id])
		return nil
	})
	return u, err
}

func (r *UserRepository) Update(ctx context.Context, u core.User) error {
	rec := storedUser(u)
	return r.s.do(ctx, func(t *tables) error {
		old, ok := t.users[rec.ID]
		if !ok {
			return core.ErrUserNotFound
		}
		if owner, taken := t.emails[rec.Email]; taken && owner != rec.ID {
			return core.ErrUserExists
		}
		delete(t.emails, old.Email)
		t.emails[rec.Email] = rec.ID
		// The flag is TwoFactorRepository's to write, as in Postgres.
		rec.TwoFactorEnabled = old.TwoFactorEnabled
		t.users[rec.ID] = rec
		return nil
	})
}

// Delete cascades to sessions and accounts, as the foreign keys do in
// Postgres.
func (r *UserRepository) Delete(ctx context.Context, id string) error {
	return r.s.do(ctx, func(t *tables) error {
		rec, ok := t.users[id]
		if !ok {
			return core.ErrUserNotFound
		}
		delete(t.users, id)
		delete(t.emails, rec.Email)
		for token, s := range t.sessions {
			if s.UserID == id {
				delete(t.sessions, token)
				delete(t.sessionIDs, s.ID)
			}
		}
		for aid, a := range t.accounts {
			if a.UserID == id {
				delete(t.accounts, aid)
			}
		}
		for tid, tf := range t.twoFactors {
			if tf.UserID == id {
				delete(t.twoFactors, tid)
			}
		}
		return nil
	})
}
