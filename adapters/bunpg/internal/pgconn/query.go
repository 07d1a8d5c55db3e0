package pgconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/uptrace/bun"
)

// Query is a query that Postgres parses and plans once per pooled
// connection rather than on every call. Bun interpolates arguments into the
// SQL text, which makes every call a new statement for Postgres to parse and
// plan: for get-session's lookup that costs Postgres three times what
// executing a prepared plan does. The statement runs on the driver
// connection itself: database/sql's Stmt would also start a goroutine per
// query to watch its context and convert every value by reflection, a tenth
// of get-session's CPU. The deadline still holds: pgdriver puts the
// context's deadline on the socket.
type Query struct {
	db    *sql.DB
	query string // with $1, $2... placeholders
	width int    // columns in each row
	tries int    // connections to try when pooled ones turn out dead
	// prepare is false behind a pooler in transaction mode, where a
	// statement prepared on one server connection is unknown to the next.
	prepare bool
}

// NewQuery prepares query (with $1, $2... placeholders, width columns per
// row) on the connections of db, which must come from Connector. tries is
// how many connections a call may try when pooled ones turn out dead: one
// more than the pool holds. Without prepare, every call is a simple query
// that Postgres parses and plans anew.
func NewQuery(db *sql.DB, query string, width, tries int, prepare bool) *Query {
	return &Query{db: db, query: query, width: width, tries: tries, prepare: prepare}
}

// Rows calls each for every row (see conn.query). Inside a transaction the
// query runs there as a plain one: preparing would cost a round trip for a
// statement that dies with the transaction.
func (p *Query) Rows(ctx context.Context, idb bun.IDB, each func(scan func(dest ...any) error) error, args ...string) error {
	if tx, ok := idb.(bun.Tx); ok {
		anyArgs := make([]any, len(args))
		for i, a := range args {
			anyArgs[i] = a
		}
		rows, err := tx.Tx.QueryContext(ctx, p.query, anyArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows.Scan); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	// A connection that died with the server (a restart) fails with
	// ErrBadConn and leaves the pool; like database/sql, try another, up to
	// one more than the pool holds. Nothing was delivered to each then.
	var err error
	for range p.tries {
		if err = p.once(ctx, named, each); !errors.Is(err, driver.ErrBadConn) {
			return err
		}
	}
	return err
}

func (p *Query) once(ctx context.Context, args []driver.NamedValue, each func(scan func(dest ...any) error) error) error {
	c, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		return dc.(*conn).query(ctx, p.query, args, p.width, p.prepare, each)
	})
}
