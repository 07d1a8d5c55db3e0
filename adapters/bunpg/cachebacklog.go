package bunpg

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// CacheBacklog stores core.CacheEntry in table "cache_backlog".
type CacheBacklog struct{ store }

var _ core.CacheBacklog = (*CacheBacklog)(nil)

func NewCacheBacklog(db *bun.DB, cfg Config) *CacheBacklog { return &CacheBacklog{newStore(db, cfg)} }

type cacheBacklogRow struct {
	bun.BaseModel `bun:"table:cache_backlog,alias:cb"`

	ID      int64     `bun:"id,pk,autoincrement"`
	Kind    string    `bun:"kind,notnull"`
	Subject string    `bun:"subject,notnull"`
	At      time.Time `bun:"at,notnull"`
}

func (b *CacheBacklog) Add(ctx context.Context, e core.CacheEntry) error {
	ctx, db, cancel := b.call(ctx)
	defer cancel()
	row := cacheBacklogRow{Kind: e.Kind, Subject: e.Subject, At: e.At.UTC()}
	_, err := db.NewInsert().Model(&row).Exec(ctx)
	return mapErr(err, core.ErrUnavailable)
}

func (b *CacheBacklog) Pending(ctx context.Context, limit int) ([]core.CacheEntry, error) {
	ctx, db, cancel := b.call(ctx)
	defer cancel()
	var rows []cacheBacklogRow
	if err := db.NewSelect().Model(&rows).OrderExpr("cb.id").Limit(limit).Scan(ctx); err != nil {
		return nil, mapErr(err, core.ErrUnavailable)
	}
	out := make([]core.CacheEntry, len(rows))
	for i, r := range rows {
		out[i] = core.CacheEntry{ID: r.ID, Kind: r.Kind, Subject: r.Subject, At: r.At.UTC()}
	}
	return out, nil
}

func (b *CacheBacklog) Done(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, db, cancel := b.call(ctx)
	defer cancel()
	_, err := db.NewDelete().Model((*cacheBacklogRow)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx)
	return mapErr(err, core.ErrUnavailable)
}
