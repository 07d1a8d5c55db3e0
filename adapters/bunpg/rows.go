package bunpg

import (
	"database/sql"

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
