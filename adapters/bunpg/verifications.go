package bunpg

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// VerificationRepository stores core.Verification in table "verification".
type VerificationRepository struct{ store }

var _ core.VerificationRepository = (*VerificationRepository)(nil)

func NewVerificationRepository(db *bun.DB, cfg Config) *VerificationRepository {
	return &VerificationRepository{newStore(db, cfg)}
}

func (r *VerificationRepository) Create(ctx context.Context, v core.Verification) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(verificationToRow(v)).Exec(ctx)
	return mapErr(err, core.ErrVerificationNotFound)
}

// Latest orders like better-auth (newest createdAt first); the id, compared
// bytewise as Go does, breaks ties so that Latest and Consume agree on which
// row is "the newest" whatever the database's collation.
func (r *VerificationRepository) Latest(ctx context.Context, identifier string) (core.Verification, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row verificationRow
	err := db.NewSelect().Model(&row).Where("v.identifier = ?", identifier).
		OrderExpr(`v.created_at DESC, v.id COLLATE "C" DESC`).Limit(1).Scan(ctx)
	if err != nil {
		return core.Verification{}, mapErr(err, core.ErrVerificationNotFound)
	}
	return row.toCore(), nil
}

// Consume deletes every row for identifier in one statement. Concurrent
// deletes of the same rows serialise on the row locks, and the losers find
// nothing left, so exactly one caller gets the verification.
func (r *VerificationRepository) Consume(ctx context.Context, identifier string) (core.Verification, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var rows []verificationRow
	err := db.NewRaw("DELETE FROM verification WHERE identifier = ? RETURNING *", identifier).Scan(ctx, &rows)
	if err != nil {
		return core.Verification{}, mapErr(err, core.ErrVerificationNotFound)
	}
	if len(rows) == 0 {
		return core.Verification{}, core.ErrVerificationNotFound
	}
	newest := rows[0]
	for _, row := range rows[1:] {
		if row.CreatedAt.After(newest.CreatedAt) || (row.CreatedAt.Equal(newest.CreatedAt) && row.ID > newest.ID) {
			newest = row
		}
	}
	return newest.toCore(), nil
}

func (r *VerificationRepository) DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error) {
	return deleteExpired(ctx, r.store, "verification", t, limit)
}
