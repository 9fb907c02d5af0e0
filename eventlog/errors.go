package eventlog

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Sentinel errors. Callers match them with errors.Is; the concrete errors
// returned by the store wrap them together with the operation and document.
var (
	// ErrConflict means the base version of an appended event is already
	// taken or would leave a gap: the caller's view of the document is stale
	// and it must rebase (transform) and retry at the current head.
	ErrConflict = errors.New("version conflict")
	// ErrDuplicate means the op id was already stored for the document; the
	// op is durable and must not be applied again (idempotent retry).
	ErrDuplicate = errors.New("duplicate op id")
	// ErrUnavailable means SQLite could not read or write (I/O error, busy
	// past the busy timeout, disk full). The outcome of an append that
	// failed this way is "not stored": the whole transaction rolled back.
	ErrUnavailable = errors.New("event log unavailable")
	// ErrReadOnly refuses a write to a store opened with Config.ReadOnly.
	ErrReadOnly = errors.New("event log opened read-only")
	// ErrClosed is returned for any operation after Close was called.
	ErrClosed = errors.New("event log closed")
	// ErrInvalid rejects an event or snapshot that can never be stored
	// (empty doc or op id, negative version). It is checked before queueing.
	ErrInvalid = errors.New("invalid event")
	// ErrDiskFull means the data filesystem is (nearly) full: its free space
	// is below Config.MinFreeBytes, so the writer refused the batch before
	// starting a transaction (*DiskFullError), or SQLite itself reported
	// SQLITE_FULL. Nothing of the batch was stored; writes resume by
	// themselves once space is freed. errors.Is(ErrDiskFull, ErrUnavailable)
	// holds, so a caller that retries ErrUnavailable later needs no change.
	ErrDiskFull error = &subError{"data filesystem full", ErrUnavailable}
	// ErrBusy means the writer's queue was full (4096 requests, or
	// Config.MaxQueueBytes of payload): the append was refused at the door,
	// at once and on the caller's goroutine, and was not stored. The disk is
	// not keeping up, or not answering at all. errors.Is(ErrBusy,
	// ErrUnavailable) holds.
	ErrBusy error = &subError{"event log busy", ErrUnavailable}
	// ErrLocked means Open found the log's process lock held by another
	// process in a mode that excludes this one (*LockedError): two servers
	// that do not coordinate through leases must never write one log.
	ErrLocked = errors.New("event log in use by another process")
)

// subError is a sentinel that is also a case of a broader one, so that
// errors.Is matches both without every error site wrapping two sentinels.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// DiskFullError reports a batch refused because the data filesystem had
// less free space than the reserve (Config.MinFreeBytes). Its message is
// meant for operators and end users alike.
type DiskFullError struct {
	Free    int64 // bytes available on the data filesystem when it was checked
	Reserve int64 // the reserve in force, in bytes
}

// Error implements error.
func (e *DiskFullError) Error() string {
	return fmt.Sprintf("only %s free on the data filesystem, below the %s reserve; writes resume when space is freed",
		formatBytes(e.Free), formatBytes(e.Reserve))
}

// Unwrap lets errors.Is match ErrDiskFull and, through it, ErrUnavailable.
func (e *DiskFullError) Unwrap() error { return ErrDiskFull }

// LockedError reports that Open could not take the log's process lock
// (<file>-process.lock) because another process holds it.
type LockedError struct {
	File string // the lock file
	// PID is the process holding the lock exclusively, read from the lock
	// file; 0 when unknown, i.e. when the holders share the lock (they do
	// not record their pids) or the holder had not written its pid yet.
	PID int
	// Shared tells whether the refused Open asked for a shared lock, i.e.
	// the holder runs exclusively; otherwise this Open wanted exclusive use.
	Shared bool
}

// Error implements error.
func (e *LockedError) Error() string {
	holder := "processes that share it (Config.Shared)"
	if e.PID > 0 {
		holder = fmt.Sprintf("another process (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s is in use by %s; processes writing one event log must all open it with Config.Shared and coordinate through leases",
		e.File, holder)
}

// Unwrap lets errors.Is(err, ErrLocked) match.
func (e *LockedError) Unwrap() error { return ErrLocked }

// StallError is Health's report of a write transaction that has run longer
// than Config.StallAfter: the writer is blocked in write or fsync (or on
// another process holding the writer lock), and appends queue up behind it.
type StallError struct {
	For time.Duration // how long the current transaction has been running
}

// Error implements error.
func (e *StallError) Error() string {
	return fmt.Sprintf("event log writer stuck for %.1fs: the disk is not answering", e.For.Seconds())
}

// Unwrap lets errors.Is(err, ErrUnavailable) match.
func (e *StallError) Unwrap() error { return ErrUnavailable }

// ConflictError reports that Version of Doc could not be appended because
// another op already holds it or because version-1 does not exist yet.
type ConflictError struct {
	Doc     string
	Version int64
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("append doc %q version %d: %v", e.Doc, e.Version, ErrConflict)
}

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// DuplicateError reports that OpID was already stored for Doc, at Version
// (the version it was originally appended at, not the one just attempted).
type DuplicateError struct {
	Doc, OpID string
	Version   int64
}

// Error implements error.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("append doc %q op %q: %v (stored at version %d)", e.Doc, e.OpID, ErrDuplicate, e.Version)
}

// Unwrap lets errors.Is(err, ErrDuplicate) match.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// unavailable reports whether err is an environmental failure (as opposed
// to a programming error or a constraint), so it can be wrapped with
// ErrUnavailable and retried later by the caller.
func unavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrCantOpen,
		sqlite3.ErrFull, sqlite3.ErrNomem, sqlite3.ErrCorrupt, sqlite3.ErrNotADB,
		sqlite3.ErrProtocol, sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrAuth:
		return true
	}
	return false
}

// readErr wraps a read failure with the operation, classifying it.
func (s *Store) readErr(op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case s.q.Closed():
		// Close raced with the read: "sql: database is closed" is not
		// exported by database/sql, so the flag decides.
		return fmt.Errorf("%s: %w", op, ErrClosed)
	case unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// formatBytes renders n in binary units with three significant digits at
// most, as an operator reads df -h: "180 MiB", "1.5 GiB", "4.0 KiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	suffix := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i]
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
