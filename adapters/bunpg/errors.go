package bunpg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/authd/authd/core"
)

// emailUniqueConstraint is the name Postgres gives to "email ... UNIQUE" on
// table "user" (see migrations).
const emailUniqueConstraint = "user_email_key"

// mapErr turns a driver error into the core error the ports promise.
// notFound is what sql.ErrNoRows means for the calling method. Anything that
// says the store is unreachable or too slow becomes ErrUnavailable, so that
// an outage is never mistaken for "no such user" or "no such session".
func mapErr(err error, notFound *core.Error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return notFound.With(err)
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		switch {
		case code == "23505" && pgErr.Field('n') == emailUniqueConstraint:
			return core.ErrUserExists.With(err)
		case code == "23505":
			return core.ErrDuplicate.With(err)
		case code == "23503":
			// Every foreign key in the schema points at "user".
			return core.ErrUserNotFound.With(err)
		case unavailableCode(code), pgErr.Field('V') == "FATAL", pgErr.Field('V') == "PANIC":
			return core.ErrUnavailable.With(err)
		}
		return fmt.Errorf("bunpg: %w", err)
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) {
		return core.ErrUnavailable.With(err)
	}
	return fmt.Errorf("bunpg: %w", err)
}

// unavailableCode reports SQLSTATEs after which retrying later may succeed:
// connection exceptions, server shutdown or overload, a statement cancelled
// by statement_timeout, and lost serialization races or deadlocks.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), // connection_exception
		strings.HasPrefix(code, "53"),  // insufficient_resources (e.g. too_many_connections)
		strings.HasPrefix(code, "57P"), // admin_shutdown, crash_shutdown, cannot_connect_now
		code == "57014",                // query_canceled
		code == "40001", code == "40P01":
		return true
	}
	return false
}
