package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// TwoFactorRepository stores two_factor rows and the users' flag in a Store.
type TwoFactorRepository struct{ s *Store }

var _ twofactor.Repository = (*TwoFactorRepository)(nil)

// ByUser takes the smallest id when a user has several rows, as Postgres
// does.
func (r *TwoFactorRepository) ByUser(ctx context.Context, userID string) (twofactor.Record, error) {
	var out twofactor.Record
	err := r.s.do(ctx, func(t *tables) error {
		var ids []string
		for id, rec := range t.twoFactors {
			if rec.UserID == userID {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return twofactor.ErrNotFound
		}
		out = t.twoFactors[slices.Min(ids)]
		if out.LockedUntil != nil {
			lu := *out.LockedUntil
			out.LockedUntil = &lu
		}
		return nil
	})
	return out, err
}

func (r *TwoFactorRepository) Put(ctx context.Context, rec twofactor.Record) error {
	rec = twofactor.Record{ID: strings.Clone(rec.ID), UserID: strings.Clone(rec.UserID), Secret: strings.Clone(rec.Secret),
		BackupCodes: strings.Clone(rec.BackupCodes), Verified: rec.Verified}
	return r.s.do(ctx, func(t *tables) error {
		if old, ok := t.twoFactors[rec.ID]; ok {
			old.Secret, old.BackupCodes, old.Verified = rec.Secret, rec.BackupCodes, rec.Verified
			t.twoFactors[rec.ID] = old
			return nil
		}
		if _, ok := t.users[rec.UserID]; !ok {
			return core.ErrUserNotFound
		}
		t.twoFactors[rec.ID] = rec
		return nil
	})
}

// update applies fn to row id, if it exists.
func (r *TwoFactorRepository) update(ctx context.Context, id string, fn func(rec *twofactor.Record)) error {
	return r.s.do(ctx, func(t *tables) error {
		if rec, ok := t.twoFactors[id]; ok {
			fn(&rec)
			t.twoFactors[id] = rec
		}
		return nil
	})
}

func (r *TwoFactorRepository) SetVerified(ctx context.Context, id string) error {
	return r.update(ctx, id, func(rec *twofactor.Record) { rec.Verified = true })
}

func (r *TwoFactorRepository) SetBackupCodes(ctx context.Context, id, sealed string) error {
	sealed = strings.Clone(sealed)
	return r.update(ctx, id, func(rec *twofactor.Record) { rec.BackupCodes = sealed })
}

func (r *TwoFactorRepository) SwapBackupCodes(ctx context.Context, id, prev, next string) (bool, error) {
	next = strings.Clone(next)
	swapped := false
	err := r.update(ctx, id, func(rec *twofactor.Record) {
		if rec.BackupCodes == prev {
			rec.BackupCodes, swapped = next, true
		}
	})
	return swapped, err
}

func (r *TwoFactorRepository) AddFailure(ctx context.Context, id string, max int, lockUntil time.Time) error {
	return r.update(ctx, id, func(rec *twofactor.Record) {
		rec.FailedCount++
		if rec.FailedCount >= max {
			rec.LockedUntil = &lockUntil
		}
	})
}

func (r *TwoFactorRepository) ClearExpiredLock(ctx context.Context, id string, now time.Time) error {
	return r.update(ctx, id, func(rec *twofactor.Record) {
		if rec.LockedUntil != nil && !rec.LockedUntil.After(now) {
			rec.FailedCount, rec.LockedUntil = 0, nil
		}
	})
}

func (r *TwoFactorRepository) ResetFailures(ctx context.Context, id string) error {
	return r.update(ctx, id, func(rec *twofactor.Record) { rec.FailedCount, rec.LockedUntil = 0, nil })
}

func (r *TwoFactorRepository) DeleteByUser(ctx context.Context, userID string) error {
	return r.s.do(ctx, func(t *tables) error {
		for id, rec := range t.twoFactors {
			if rec.UserID == userID {
				delete(t.twoFactors, id)
			}
		}
		return nil
	})
}

func (r *TwoFactorRepository) SetUserEnabled(ctx context.Context, userID string, on bool, now time.Time) error {
	return r.s.do(ctx, func(t *tables) error {
		u, ok := t.users[userID]
		if !ok {
			return core.ErrUserNotFound
		}
		u.TwoFactorEnabled, u.UpdatedAt = on, now
		t.users[userID] = u
		return nil
	})
}
