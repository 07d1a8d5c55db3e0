package memory

import (
	"context"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// VerificationRepository stores one-time secrets in a Store.
type VerificationRepository struct{ s *Store }

var _ core.VerificationRepository = (*VerificationRepository)(nil)

func (r *VerificationRepository) Create(ctx context.Context, v core.Verification) error {
	rec := v.Record()
	rec.ID, rec.Identifier, rec.Value = strings.Clone(rec.ID), strings.Clone(rec.Identifier), strings.Clone(rec.Value)
	return r.s.do(ctx, func(t *tables) error {
		if _, taken := t.verifications[rec.ID]; taken {
			return core.ErrDuplicate
		}
		t.verifications[rec.ID] = rec
		return nil
	})
}

func (r *VerificationRepository) Latest(ctx context.Context, identifier string) (core.Verification, error) {
	var v core.Verification
	err := r.s.do(ctx, func(t *tables) error {
		rec, ok := newest(t, identifier)
		if !ok {
			return core.ErrVerificationNotFound
		}
		v = core.RehydrateVerification(rec)
		return nil
	})
	return v, err
}

// Consume is atomic because it runs under the store lock from lookup to
// delete.
func (r *VerificationRepository) Consume(ctx context.Context, identifier string) (core.Verification, error) {
	var v core.Verification
	err := r.s.do(ctx, func(t *tables) error {
		rec, ok := newest(t, identifier)
		if !ok {
			return core.ErrVerificationNotFound
		}
		for id, row := range t.verifications {
			if row.Identifier == identifier {
				delete(t.verifications, id)
			}
		}
		v = core.RehydrateVerification(rec)
		return nil
	})
	return v, err
}

func (r *VerificationRepository) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := r.s.do(ctx, func(t *tables) error {
		for id, row := range t.verifications {
			if n == limit {
				break
			}
			if row.ExpiresAt.Before(before) {
				delete(t.verifications, id)
				n++
			}
		}
		return nil
	})
	return n, err
}

// newest picks the latest row for identifier by createdAt, breaking ties by
// id so that the answer does not depend on map order.
func newest(t *tables, identifier string) (core.VerificationRecord, bool) {
	var best core.VerificationRecord
	found := false
	for _, row := range t.verifications {
		if row.Identifier != identifier {
			continue
		}
		if !found || row.CreatedAt.After(best.CreatedAt) || (row.CreatedAt.Equal(best.CreatedAt) && row.ID > best.ID) {
			best, found = row, true
		}
	}
	return best, found
}
