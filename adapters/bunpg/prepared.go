package bunpg

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// prepared is a query that Postgres parses and plans once per pooled
// connection rather than on every call. Bun interpolates arguments into the
// SQL text, which makes every call a new statement for Postgres to parse and
// plan: for get-session's lookup that costs Postgres three times what
// executing a prepared plan does. pgdriver sends a prepared statement's
// arguments with the extended protocol (Bind/Execute), and database/sql
// prepares it again on each new connection by itself.
//
// The statement is prepared on first use, not at construction, so that
// building the repositories needs no database.
type prepared struct {
	db    *sql.DB
	query string // with $1, $2... placeholders

	mu   sync.Mutex // serialises preparing
	stmt atomic.Pointer[sql.Stmt]
}

func newPrepared(db *bun.DB, query string) *prepared {
	return &prepared{db: db.DB, query: query}
}

// queryRow runs the query on idb: the prepared statement on the pool, or the
// plain query inside a transaction (preparing there would cost a round trip
// for a statement that dies with the transaction).
func (p *prepared) queryRow(ctx context.Context, idb bun.IDB, args ...any) (*sql.Row, error) {
	if tx, ok := idb.(bun.Tx); ok {
		return tx.Tx.QueryRowContext(ctx, p.query, args...), nil
	}
	stmt, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	return stmt.QueryRowContext(ctx, args...), nil
}

// get prepares the statement once. A failure (the database is down) is not
// remembered: the next call tries again.
func (p *prepared) get(ctx context.Context) (*sql.Stmt, error) {
	if stmt := p.stmt.Load(); stmt != nil {
		return stmt, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if stmt := p.stmt.Load(); stmt != nil {
		return stmt, nil
	}
	stmt, err := p.db.PrepareContext(ctx, p.query)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(stmt)
	return stmt, nil
}
