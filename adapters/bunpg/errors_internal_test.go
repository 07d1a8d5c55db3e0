package bunpg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/authd/authd/core"
)

// Errors that Postgres itself produces are checked against a live server in
// errors_test.go; these are the client-side failures.
func TestMapErrClientSide(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{sql.ErrNoRows, core.ErrSessionNotFound},
		{fmt.Errorf("scan: %w", sql.ErrNoRows), core.ErrSessionNotFound},
		{context.DeadlineExceeded, core.ErrUnavailable},
		{context.Canceled, core.ErrUnavailable},
		{driver.ErrBadConn, core.ErrUnavailable},
		{sql.ErrConnDone, core.ErrUnavailable},
		{io.EOF, core.ErrUnavailable},
		{io.ErrUnexpectedEOF, core.ErrUnavailable},
		{opErr, core.ErrUnavailable},
		{fmt.Errorf("read: %w", opErr), core.ErrUnavailable},
	} {
		got := mapErr(tc.err, core.ErrSessionNotFound)
		if !errors.Is(got, tc.want) {
			t.Errorf("mapErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("mapErr(%v) lost the cause: %v", tc.err, got)
		}
	}

	if err := mapErr(nil, core.ErrSessionNotFound); err != nil {
		t.Errorf("mapErr(nil) = %v", err)
	}
	other := errors.New("something else")
	got := mapErr(other, core.ErrSessionNotFound)
	var ce *core.Error
	if errors.As(got, &ce) || !errors.Is(got, other) {
		t.Errorf("an unknown error must stay internal with its cause, got %v", got)
	}
}
