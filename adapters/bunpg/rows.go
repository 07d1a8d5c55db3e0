package bunpg

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// affected maps a write's outcome: a driver error as usual, and no row
// touched as notFound.
func affected(res sql.Result, err error, notFound *core.Error) error {
	if err != nil {
		return mapErr(err, notFound)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err, notFound)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// deleteExpired deletes at most limit rows of table that expired before t.
// Rows that a running transaction holds are skipped, not waited for: they
// go in a later batch.
func deleteExpired(ctx context.Context, st store, table string, t time.Time, limit int) (int, error) {
	ctx, db, cancel := st.call(ctx)
	defer cancel()
	return count(db.NewDelete().TableExpr("?", bun.Ident(table)).
		Where("id IN (?)", db.NewSelect().TableExpr("?", bun.Ident(table)).Column("id").
			Where("expires_at < ?", t.UTC()).Limit(limit).For("UPDATE SKIP LOCKED")).
		Exec(ctx))
}

// count returns how many rows a delete removed.
func count(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, mapErr(err, core.ErrUnavailable)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(err, core.ErrUnavailable)
	}
	return int(n), nil
}
