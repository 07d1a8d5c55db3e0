package bunpg

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

type txKey struct{}

// store is what every repository shares: the pool, and the per-call deadline.
type store struct {
	db      *bun.DB
	timeout time.Duration
}

func newStore(db *bun.DB, cfg Config) store {
	return store{db: db, timeout: cfg.withDefaults().QueryTimeout}
}

// idb returns the transaction carried by ctx, if any, else the pool, so that
// the same repository code runs inside and outside WithinTx.
func (s store) idb(ctx context.Context) bun.IDB {
	if tx, ok := ctx.Value(txKey{}).(bun.Tx); ok {
		return tx
	}
	return s.db
}

// lockInTx makes a read inside WithinTx lock the rows it returns until the
// transaction ends (FOR NO KEY UPDATE: it does not block the foreign-key
// checks of inserts that reference them). Read-modify-write in core then
// cannot lose a concurrent update, and a sign-in's password re-check cannot
// interleave with a password change and its revocation of sessions.
func lockInTx(ctx context.Context, q *bun.SelectQuery) *bun.SelectQuery {
	if _, ok := ctx.Value(txKey{}).(bun.Tx); ok {
		return q.For("NO KEY UPDATE")
	}
	return q
}

// call bounds one repository call: a caller may pass a context that is never
// cancelled, and a stuck database must turn into a prompt ErrUnavailable
// rather than a pile of hung requests.
func (s store) call(ctx context.Context) (context.Context, bun.IDB, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, s.idb(ctx), cancel
}

// Transactor runs functions in a Postgres transaction carried in the context.
type Transactor struct{ store }

var _ core.Transactor = (*Transactor)(nil)

func NewTransactor(db *bun.DB, cfg Config) *Transactor { return &Transactor{newStore(db, cfg)} }

// WithinTx commits fn's repository calls together, or rolls them all back if
// fn fails or panics. Nested calls join the outer transaction. fn's own error
// is returned unchanged; failures to begin or commit are mapped like any
// other database error.
func (t *Transactor) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(bun.Tx); ok {
		return fn(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, txTimeoutFactor*t.timeout)
	defer cancel()
	var fnErr error
	err := t.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		fnErr = fn(context.WithValue(ctx, txKey{}, tx))
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil && ctx.Err() != nil {
		// database/sql rolled back on the deadline and Commit may only say
		// "transaction done"; the cause is the slow database.
		return core.ErrUnavailable.With(fmt.Errorf("transaction: %w (%w)", err, ctx.Err()))
	}
	return mapErr(err, core.ErrUnavailable)
}
