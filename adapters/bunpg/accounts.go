package bunpg

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// AccountRepository stores core.Account in table "account".
type AccountRepository struct{ store }

var _ core.AccountRepository = (*AccountRepository)(nil)

func NewAccountRepository(db *bun.DB, cfg Config) *AccountRepository {
	return &AccountRepository{newStore(db, cfg)}
}

func (r *AccountRepository) Create(ctx context.Context, a core.Account) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(accountToRow(a)).Exec(ctx)
	return mapErr(err, core.ErrAccountNotFound)
}

// Credential finds the user's email/password account: provider "credential"
// with the user's own id as accountId, as better-auth creates it.
func (r *AccountRepository) Credential(ctx context.Context, userID string) (core.Account, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row accountRow
	err := lockInTx(ctx, db.NewSelect().Model(&row).
		Where("a.user_id = ? AND a.account_id = ? AND a.provider_id = ?", userID, userID, core.ProviderCredential).
		Order("a.created_at ASC", "a.id ASC").Limit(1)).Scan(ctx)
	if err != nil {
		return core.Account{}, mapErr(err, core.ErrAccountNotFound)
	}
	return row.toCore(), nil
}

func (r *AccountRepository) ListByUser(ctx context.Context, userID string) ([]core.Account, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var rows []accountRow
	err := db.NewSelect().Model(&rows).Where("a.user_id = ?", userID).Order("a.created_at ASC", "a.id ASC").Scan(ctx)
	if err != nil {
		return nil, mapErr(err, core.ErrAccountNotFound)
	}
	out := make([]core.Account, len(rows))
	for i := range rows {
		out[i] = rows[i].toCore()
	}
	return out, nil
}

func (r *AccountRepository) Update(ctx context.Context, a core.Account) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewUpdate().Model(accountToRow(a)).ExcludeColumn("id", "password").WherePK().Exec(ctx)
	return affected(res, err, core.ErrAccountNotFound)
}

// SetPassword is one conditional UPDATE: under READ COMMITTED a concurrent
// writer of the row is waited for and the condition re-checked against what
// it committed, so a password set meanwhile is never overwritten.
func (r *AccountRepository) SetPassword(ctx context.Context, id, expected, hash string, now time.Time) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewUpdate().Model((*accountRow)(nil)).
		Set("password = ?", hash).Set("updated_at = ?", utc(now)).
		Where("id = ? AND coalesce(password, '') = ?", id, expected).Exec(ctx)
	if err := affected(res, err, core.ErrPasswordChanged); !errors.Is(err, core.ErrPasswordChanged) {
		return err
	}
	exists, err := db.NewSelect().Model((*accountRow)(nil)).Where("id = ?", id).Exists(ctx)
	switch {
	case err != nil:
		return mapErr(err, core.ErrAccountNotFound)
	case !exists:
		return core.ErrAccountNotFound
	}
	return core.ErrPasswordChanged
}

func (r *AccountRepository) ByProviderAccount(ctx context.Context, providerID, accountID string) (core.Account, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row accountRow
	err := lockInTx(ctx, db.NewSelect().Model(&row).
		Where("a.provider_id = ? AND a.account_id = ?", providerID, accountID).
		Order("a.created_at ASC", "a.id ASC").Limit(1)).Scan(ctx)
	if err != nil {
		return core.Account{}, mapErr(err, core.ErrAccountNotFound)
	}
	return row.toCore(), nil
}

func (r *AccountRepository) Delete(ctx context.Context, userID, id string) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewDelete().Model((*accountRow)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	return affected(res, err, core.ErrAccountNotFound)
}
