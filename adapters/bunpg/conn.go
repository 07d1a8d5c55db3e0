package bunpg

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/uptrace/bun/driver/pgdriver"
)

// connector hands out pgdriver connections whose prepared statements close
// their connection when they fail on the client side. pgdriver does that for
// simple-protocol queries but not for a prepared statement's Bind/Execute: a
// statement abandoned at its deadline (say, behind a table lock) leaves its
// reply in the socket, and the pool would hand the connection on so that the
// next query reads that stale reply ("unexpected message"). A closed
// connection reports itself invalid and database/sql drops it.
type connector struct{ *pgdriver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{cn.(*pgdriver.Conn)}, nil
}

// conn embeds the concrete *pgdriver.Conn so that database/sql still sees
// every optional interface it implements (QueryerContext, Validator, ...).
type conn struct{ *pgdriver.Conn }

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

// fail closes the connection unless Postgres itself reported err, in which
// case pgdriver has read the whole reply and the connection is in step.
func (c *conn) fail(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		_ = c.Close()
	}
	return err
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
