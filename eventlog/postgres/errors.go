package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/collabedit/collab/eventlog"
)

// unavailable reports whether err is the database being down, restarting,
// unreachable or overloaded — worth retrying later — rather than a
// statement PostgreSQL refused. An answer from the server (*PgError)
// counts by its SQLSTATE class: 08 connection exception, 53 insufficient
// resources, 57 operator intervention (57P01 admin_shutdown when the
// server stops, 57P03 cannot_connect_now while it starts), 58 system
// error (I/O), 40 serialization failure or deadlock. Any other failure is
// the server not being reached or not answering (refused, reset, EOF, a
// timeout), except the caller's own cancellation.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "53", "57", "58", "40":
			return true
		}
		return false
	}
	return !errors.Is(err, context.Canceled)
}

// classify wraps an environmental failure with ErrUnavailable.
func classify(err error) error {
	if err == nil || errors.Is(err, eventlog.ErrUnavailable) || errors.Is(err, eventlog.ErrLocked) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", eventlog.ErrUnavailable, err)
	}
	return err
}

// readErr wraps a read failure with the operation. The caller's own
// cancellation stays a context error; the store's ReadTimeout firing
// means the database did not answer: ErrUnavailable.
func (s *Store) readErr(caller context.Context, op string, err error) error {
	switch {
	case caller.Err() != nil:
		return fmt.Errorf("%s: %w", op, caller.Err())
	case s.q.Closed():
		return fmt.Errorf("%s: %w", op, eventlog.ErrClosed)
	}
	return fmt.Errorf("%s: %w", op, classify(err))
}
