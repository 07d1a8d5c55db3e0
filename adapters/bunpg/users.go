package bunpg

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// UserRepository stores core.User in table "user".
type UserRepository struct{ store }

var _ core.UserRepository = (*UserRepository)(nil)

func NewUserRepository(db *bun.DB, cfg Config) *UserRepository {
	return &UserRepository{newStore(db, cfg)}
}

func (r *UserRepository) Create(ctx context.Context, u core.User) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(userToRow(u)).Exec(ctx)
	return mapErr(err, core.ErrUserNotFound)
}

func (r *UserRepository) ByID(ctx context.Context, id string) (core.User, error) {
	return r.one(ctx, "u.id = ?", id)
}

// ByEmail lower-cases the address: emails are stored lower-case (by authd
// and by better-auth), so an exact match uses the unique index.
func (r *UserRepository) ByEmail(ctx context.Context, email string) (core.User, error) {
	return r.one(ctx, "u.email = ?", strings.ToLower(email))
}

func (r *UserRepository) one(ctx context.Context, where string, arg string) (core.User, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row userRow
	if err := lockInTx(ctx, db.NewSelect().Model(&row).Where(where, arg)).Scan(ctx); err != nil {
		return core.User{}, mapErr(err, core.ErrUserNotFound)
	}
	return row.toCore(), nil
}

func (r *UserRepository) Update(ctx context.Context, u core.User) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewUpdate().Model(userToRow(u)).
		Column("name", "email", "email_verified", "image", "created_at", "updated_at").
		WherePK().Exec(ctx)
	return affected(res, err, core.ErrUserNotFound)
}

// Delete relies on ON DELETE CASCADE to remove the user's sessions and
// accounts in the same statement.
func (r *UserRepository) Delete(ctx context.Context, id string) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewDelete().Model((*userRow)(nil)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, core.ErrUserNotFound)
}
