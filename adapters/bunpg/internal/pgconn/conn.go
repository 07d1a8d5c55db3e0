// Package pgconn is bunpg's layer under database/sql: pgdriver connections
// that stay in step after a failed prepared statement (Connector), queries
// prepared once per connection and run on the driver connection itself
// (Query), and concurrent lookups answered by shared queries (Lookups). The
// repositories in bunpg build on it; nothing here knows authd's tables.
package pgconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Connector hands out pgdriver connections whose prepared statements close
// their connection when they fail on the client side. pgdriver does that for
// simple-protocol queries but not for a prepared statement's Bind/Execute: a
// statement abandoned at its deadline (say, behind a table lock) leaves its
// reply in the socket, and the pool would hand the connection on so that the
// next query reads that stale reply ("unexpected message"). A closed
// connection reports itself invalid and database/sql drops it.
type Connector struct{ *pgdriver.Connector }

func (c Connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: cn.(*pgdriver.Conn)}, nil
}

// conn embeds the concrete *pgdriver.Conn so that database/sql still sees
// every optional interface it implements (QueryerContext, Validator, ...).
type conn struct {
	*pgdriver.Conn
	// stmts are the statements prepared on this connection by Query,
	// by query text; they die with it.
	stmts map[string]*stmt
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.fail(err)
	}
	return &stmt{Stmt: st, cn: c}, nil
}

// fail closes the connection unless Postgres itself reported err as an
// ordinary error, in which case pgdriver has read the whole reply and the
// connection is in step.
func (c *conn) fail(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('V') == "FATAL" || pgErr.Field('V') == "PANIC" {
		_ = c.Close()
	}
	return err
}

// query runs query, prepared once on this connection unless prepare is
// false, and calls each with a scanner for every row (into *string, *bool,
// *time.Time or *sql.Null[string]). The caller holds the connection
// exclusively (sql.Conn.Raw).
func (c *conn) query(ctx context.Context, query string, args []driver.NamedValue, width int, prepare bool, each func(scan func(dest ...any) error) error) error {
	rows, err := c.start(ctx, query, args, prepare)
	// err != nil first: staleStatement's errors.As allocates, on every
	// lookup otherwise.
	if err != nil && prepare && staleStatement(err) {
		// The server no longer runs this statement as it was prepared:
		// a migration changed its result columns, or a pooler in
		// transaction mode moved us to a server connection that never
		// saw it. Postgres has answered in full, so the connection is in
		// step: prepare it afresh, once. The stale one is left to die
		// with the connection, as closing it costs a round trip that may
		// itself fail.
		delete(c.stmts, query)
		rows, err = c.start(ctx, query, args, prepare)
	}
	if err != nil {
		var pgErr pgdriver.Error
		if errors.As(err, &pgErr) && pgErr.Field('V') == "FATAL" {
			// The server ended this connection (a restart, an idle
			// connection terminated): another one may well answer, and
			// a lookup is safe to repeat.
			return fmt.Errorf("%w: %w", driver.ErrBadConn, err)
		}
		return err
	}
	vals := make([]driver.Value, width)
	scan := func(dest ...any) error { return assign(dest, vals) }
	for {
		switch err := rows.Next(vals); {
		case err == io.EOF:
			return rows.Close()
		case err != nil:
			// The rest of the reply is unread: the connection is out of step.
			_ = c.Close()
			return err
		}
		if err := each(scan); err != nil {
			_ = c.Close() // rows left unread
			return err
		}
	}
}

// start sends query, as a statement prepared on this connection or, without
// prepare, as a simple query with its arguments quoted into the text (what
// a pooler in transaction mode can carry).
func (c *conn) start(ctx context.Context, query string, args []driver.NamedValue, prepare bool) (driver.Rows, error) {
	if !prepare {
		return c.Conn.QueryContext(ctx, query, args)
	}
	st, ok := c.stmts[query]
	if !ok {
		ds, err := c.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		if c.stmts == nil {
			c.stmts = map[string]*stmt{}
		}
		st = ds.(*stmt)
		c.stmts[query] = st
	}
	return st.QueryContext(ctx, args)
}

// staleStatement reports whether err says that a statement prepared on this
// connection no longer applies: "cached plan must not change result type"
// (0A000, after ALTER TABLE) or "prepared statement ... does not exist"
// (26000, behind PgBouncer in transaction mode, or after DEALLOCATE).
func staleStatement(err error) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('V') != "ERROR" {
		return false
	}
	// By code alone: the message is translated under lc_messages, and no
	// other feature_not_supported can come from re-running a statement
	// that once ran.
	c := pgErr.Field('C')
	return c == "26000" || c == "0A000"
}

// assign stores pgdriver's values (string, bool, time.Time or nil for NULL)
// in dest, as database/sql's Scan would for these types.
func assign(dest []any, vals []driver.Value) error {
	for i, d := range dest {
		v := vals[i]
		ok := true
		switch d := d.(type) {
		case *string:
			*d, ok = v.(string)
		case *bool:
			*d, ok = v.(bool)
		case *time.Time:
			*d, ok = v.(time.Time)
		case *sql.Null[string]:
			*d = sql.Null[string]{}
			if v != nil {
				d.V, ok = v.(string)
				d.Valid = ok
			}
		default:
			return fmt.Errorf("pgconn: cannot scan column %d into %T", i, d)
		}
		if !ok {
			return fmt.Errorf("pgconn: cannot scan column %d (%T) into %T", i, v, d)
		}
	}
	return nil
}

type stmt struct {
	driver.Stmt
	cn *conn
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, s.cn.fail(err)
	}
	return rows, nil
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		return nil, s.cn.fail(err)
	}
	return res, nil
}
