package bunpg

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// twoFactorRow is table two_factor. verified and failed_verification_count
// are nullable as better-auth declares them; NULL reads as true and 0, as
// better-auth reads them (verified !== false, count ?? 0).
type twoFactorRow struct {
	bun.BaseModel `bun:"table:two_factor,alias:tf"`

	ID                      string        `bun:"id,pk"`
	Secret                  string        `bun:"secret,notnull"`
	BackupCodes             string        `bun:"backup_codes,notnull"`
	UserID                  string        `bun:"user_id,notnull"`
	Verified                sql.NullBool  `bun:"verified"`
	FailedVerificationCount sql.NullInt64 `bun:"failed_verification_count"`
	LockedUntil             *time.Time    `bun:"locked_until"`
}

func (r *twoFactorRow) toRecord() twofactor.Record {
	rec := twofactor.Record{ID: r.ID, UserID: r.UserID, Secret: r.Secret, BackupCodes: r.BackupCodes,
		Verified: !r.Verified.Valid || r.Verified.Bool, FailedCount: int(r.FailedVerificationCount.Int64)}
	if r.LockedUntil != nil {
		t := utc(*r.LockedUntil)
		rec.LockedUntil = &t
	}
	return rec
}

// TwoFactorRepository stores twofactor.Record in table two_factor and the
// user's two_factor_enabled flag.
type TwoFactorRepository struct{ store }

var _ twofactor.Repository = (*TwoFactorRepository)(nil)

func NewTwoFactorRepository(db *bun.DB, cfg Config) *TwoFactorRepository {
	return &TwoFactorRepository{newStore(db, cfg)}
}

// ByUser takes the oldest-id row when a user has several (better-auth does
// not prevent it), so that every reader agrees on one.
func (r *TwoFactorRepository) ByUser(ctx context.Context, userID string) (twofactor.Record, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row twoFactorRow
	q := db.NewSelect().Model(&row).Where("tf.user_id = ?", userID).OrderExpr(`tf.id COLLATE "C"`).Limit(1)
	if err := lockInTx(ctx, q).Scan(ctx); err != nil {
		return twofactor.Record{}, mapErr(err, twofactor.ErrNotFound)
	}
	return row.toRecord(), nil
}

func (r *TwoFactorRepository) Put(ctx context.Context, rec twofactor.Record) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewRaw(`INSERT INTO two_factor (id, secret, backup_codes, user_id, verified) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET secret = EXCLUDED.secret, backup_codes = EXCLUDED.backup_codes, verified = EXCLUDED.verified`,
		rec.ID, rec.Secret, rec.BackupCodes, rec.UserID, rec.Verified).Exec(ctx)
	return mapErr(err, twofactor.ErrNotFound)
}

func (r *TwoFactorRepository) SetVerified(ctx context.Context, id string) error {
	return r.exec(ctx, "UPDATE two_factor SET verified = true WHERE id = ?", id)
}

func (r *TwoFactorRepository) SetBackupCodes(ctx context.Context, id, sealed string) error {
	return r.exec(ctx, "UPDATE two_factor SET backup_codes = ? WHERE id = ?", sealed, id)
}

// SwapBackupCodes is one compare-and-set statement: a concurrent swap of
// the same row waits for the row lock, then finds the old value gone.
func (r *TwoFactorRepository) SwapBackupCodes(ctx context.Context, id, prev, next string) (bool, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewRaw("UPDATE two_factor SET backup_codes = ? WHERE id = ? AND backup_codes = ?", next, id, prev).Exec(ctx)
	if err != nil {
		return false, mapErr(err, twofactor.ErrNotFound)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AddFailure counts and locks in one statement, so that concurrent failures
// neither lose a count nor miss the lock.
func (r *TwoFactorRepository) AddFailure(ctx context.Context, id string, max int, lockUntil time.Time) error {
	return r.exec(ctx, `UPDATE two_factor SET failed_verification_count = COALESCE(failed_verification_count, 0) + 1,
		locked_until = CASE WHEN COALESCE(failed_verification_count, 0) + 1 >= ? THEN ? ELSE locked_until END
		WHERE id = ?`, max, utc(lockUntil), id)
}

func (r *TwoFactorRepository) ClearExpiredLock(ctx context.Context, id string, now time.Time) error {
	return r.exec(ctx, "UPDATE two_factor SET failed_verification_count = 0, locked_until = NULL WHERE id = ? AND locked_until <= ?",
		id, utc(now))
}

func (r *TwoFactorRepository) ResetFailures(ctx context.Context, id string) error {
	return r.exec(ctx, "UPDATE two_factor SET failed_verification_count = 0, locked_until = NULL WHERE id = ?", id)
}

func (r *TwoFactorRepository) DeleteByUser(ctx context.Context, userID string) error {
	return r.exec(ctx, "DELETE FROM two_factor WHERE user_id = ?", userID)
}

func (r *TwoFactorRepository) SetUserEnabled(ctx context.Context, userID string, on bool, now time.Time) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewRaw(`UPDATE "user" SET two_factor_enabled = ?, updated_at = ? WHERE id = ?`, on, utc(now), userID).Exec(ctx)
	return affected(res, err, core.ErrUserNotFound)
}

func (r *TwoFactorRepository) exec(ctx context.Context, query string, args ...any) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewRaw(query, args...).Exec(ctx)
	return mapErr(err, twofactor.ErrNotFound)
}
