package bunpg

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

// jwksRow mirrors table jwks. alg and crv are NULL for an empty string, as
// better-auth leaves them on rows made before those columns existed.
type jwksRow struct {
	bun.BaseModel `bun:"table:jwks,alias:j"`

	ID         string     `bun:"id,pk"`
	PublicKey  string     `bun:"public_key,notnull"`
	PrivateKey string     `bun:"private_key,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	Alg        *string    `bun:"alg"`
	Crv        *string    `bun:"crv"`
}

// KeyRepository stores tokens.Key in table jwks.
type KeyRepository struct{ store }

var _ tokens.KeyRepository = (*KeyRepository)(nil)

func NewKeyRepository(db *bun.DB, cfg Config) *KeyRepository {
	return &KeyRepository{newStore(db, cfg)}
}

func (r *KeyRepository) Create(ctx context.Context, k tokens.Key) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	row := &jwksRow{ID: k.ID, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey, CreatedAt: utc(k.CreatedAt),
		ExpiresAt: utcPtr(k.ExpiresAt), Alg: emptyNull(k.Alg), Crv: emptyNull(k.Crv)}
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return mapErr(err, core.ErrDuplicate)
}

func (r *KeyRepository) List(ctx context.Context) ([]tokens.Key, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var rows []jwksRow
	if err := db.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, mapErr(err, core.ErrDuplicate)
	}
	out := make([]tokens.Key, len(rows))
	for i, row := range rows {
		out[i] = tokens.Key{ID: row.ID, PublicKey: row.PublicKey, PrivateKey: row.PrivateKey,
			CreatedAt: utc(row.CreatedAt), ExpiresAt: utcPtr(row.ExpiresAt), Alg: deref(row.Alg), Crv: deref(row.Crv)}
	}
	return out, nil
}

func emptyNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
