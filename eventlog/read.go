package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Reads use the pooled read connections: in WAL mode each reader sees the
// last committed state and never waits for the writer's transaction, so a
// slow fsync does not stall catch-up or projections.
//
// Event reads select NULLIF(schema, SchemaVersion): NULL for a current
// row, which scans into a sql.NullInt64 without converting anything, so
// current rows cost what they did before upcasting existed; any other
// version goes through Upcast.
var (
	sqlEventCols = `seq, doc, version, op_id, author, time, payload, prev, size, NULLIF(schema, ` +
		strconv.Itoa(SchemaVersion) + `), kind, meta`
	sqlEvents = `SELECT ` + sqlEventCols + ` FROM events
		WHERE doc = ? AND version >= ? ORDER BY version LIMIT ?`
	sqlSince = `SELECT ` + sqlEventCols + ` FROM events
		WHERE seq > ? ORDER BY seq LIMIT ?`
)

const (
	sqlHead           = `SELECT version FROM events WHERE doc = ? ORDER BY version DESC LIMIT 1`
	sqlDocs           = `SELECT doc, version, updated, size FROM docs ORDER BY seq DESC LIMIT ?`
	sqlLatestSnapshot = `SELECT version, text, time FROM snapshots WHERE doc = ? ORDER BY version DESC LIMIT 1`
)

// sqlLimit maps "limit <= 0 means no limit" onto SQLite, where a negative
// LIMIT is unbounded.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// sizeOrUnknown maps a NULL size (not recorded) to -1.
func sizeOrUnknown(n sql.NullInt64) int64 {
	if !n.Valid {
		return -1
	}
	return n.Int64
}

func (s *Store) checkOpen(op string) error {
	if s.q.Closed() {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return nil
}

// Events returns the events of doc with version >= from in ascending
// version order, at most limit of them (limit <= 0: all).
func (s *Store) Events(ctx context.Context, doc string, from int64, limit int) ([]Event, error) {
	op := fmt.Sprintf("events doc %q from %d", doc, from)
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	capHint := limit
	if capHint <= 0 || capHint > 1024 {
		capHint = 16
	}
	return s.scanEvents(ctx, op, capHint, s.qEvents, doc, from, sqlLimit(limit))
}

// Since returns up to limit events of all documents with seq > afterSeq in
// seq (commit) order: the feed read-model projections follow.
func (s *Store) Since(ctx context.Context, afterSeq int64, limit int) ([]Event, error) {
	op := fmt.Sprintf("since seq %d", afterSeq)
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	capHint := limit
	if capHint <= 0 || capHint > 1024 {
		capHint = 16
	}
	return s.scanEvents(ctx, op, capHint, s.qSince, afterSeq, sqlLimit(limit))
}

func (s *Store) scanEvents(ctx context.Context, op string, capHint int, st *sql.Stmt, args ...any) ([]Event, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, s.readErr(op, err)
	}
	defer rows.Close()
	out := make([]Event, 0, capHint)
	// Scan's destinations escape to the heap: declared once per read
	// rather than per row (every Scan overwrites them, NULL included).
	var ns int64
	var size, schema sql.NullInt64
	var kind string
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.Doc, &e.Version, &e.OpID, &e.Author, &ns, &e.Op, &e.Prev, &size, &schema, &kind, &e.Meta); err != nil {
			return nil, s.readErr(op, err)
		}
		e.Time = time.Unix(0, ns)
		e.Size = sizeOrUnknown(size)
		e.Kind = Kind(kind)
		if schema.Valid {
			if err := upcastEvent(&e, int(schema.Int64)); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(op, err)
	}
	return out, nil
}

// LastSeq returns the global sequence of the last committed event, 0 for
// an empty log: the head a projection following Since compares itself
// with. It is one seek to the end of the events table.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	const op = "last seq"
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	var seq sql.NullInt64
	if err := s.qHealth.QueryRowContext(ctx).Scan(&seq); err != nil {
		return 0, s.readErr(op, err)
	}
	return seq.Int64, nil
}

// upcastEvent brings e's payload from schema to SchemaVersion.
func upcastEvent(e *Event, schema int) error {
	op, err := Upcast(schema, e.Op)
	if err != nil {
		return &SchemaError{Seq: e.Seq, Schema: schema, Err: err}
	}
	e.Op = op
	return nil
}

// Head returns the current version of doc (number of ops applied), 0 for
// a document that has no events.
func (s *Store) Head(ctx context.Context, doc string) (int64, error) {
	op := fmt.Sprintf("head doc %q", doc)
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	var v int64
	switch err := s.qHead.QueryRowContext(ctx, doc).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, s.readErr(op, err)
	}
	return v + 1, nil
}

// FindOp reports the version opID was stored at for doc, if it was.
func (s *Store) FindOp(ctx context.Context, doc, opID string) (version int64, found bool, err error) {
	op := fmt.Sprintf("find op doc %q op %q", doc, opID)
	if err := s.checkOpen(op); err != nil {
		return 0, false, err
	}
	switch err := s.qFindOp.QueryRowContext(ctx, doc, opID).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, s.readErr(op, err)
	}
	return version, true, nil
}

// Docs lists documents by their last change (global seq), newest first,
// at most limit of them (limit <= 0: all).
func (s *Store) Docs(ctx context.Context, limit int) ([]DocInfo, error) {
	const op = "docs"
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	rows, err := s.qDocs.QueryContext(ctx, sqlLimit(limit))
	if err != nil {
		return nil, s.readErr(op, err)
	}
	defer rows.Close()
	var out []DocInfo
	for rows.Next() {
		var d DocInfo
		var ns int64
		var size sql.NullInt64
		if err := rows.Scan(&d.Doc, &d.Version, &ns, &size); err != nil {
			return nil, s.readErr(op, err)
		}
		d.Updated = time.Unix(0, ns)
		d.Size = sizeOrUnknown(size)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(op, err)
	}
	return out, nil
}

// LatestSnapshot returns the snapshot of doc with the highest version.
func (s *Store) LatestSnapshot(ctx context.Context, doc string) (Snapshot, bool, error) {
	op := fmt.Sprintf("latest snapshot doc %q", doc)
	if err := s.checkOpen(op); err != nil {
		return Snapshot{}, false, err
	}
	return s.scanSnapshot(op, doc, s.qSnap.QueryRowContext(ctx, doc))
}
