package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/eventlog"
)

// Reads go through the pool. Under READ COMMITTED each statement sees
// every transaction committed before it started; because write
// transactions take the commit lock before their first insert and release
// it only after their commit is visible, a reader that sees seq n sees
// every seq below n that will ever exist.
var (
	sqlEventCols = `seq, doc, version, op_id, author, time, payload, prev, size, NULLIF(schema, ` +
		strconv.Itoa(eventlog.SchemaVersion) + `), kind, meta`
	sqlEvents = `SELECT ` + sqlEventCols + ` FROM events
		WHERE doc = $1 AND version >= $2 ORDER BY version LIMIT $3`
	sqlSince = `SELECT ` + sqlEventCols + ` FROM events
		WHERE seq > $1 ORDER BY seq LIMIT $2`
)

const (
	sqlHead           = `SELECT version FROM events WHERE doc = $1 ORDER BY version DESC LIMIT 1`
	sqlFindOp         = `SELECT version FROM events WHERE doc = $1 AND op_id = $2`
	sqlDocs           = `SELECT doc, version, updated, size FROM docs ORDER BY seq DESC LIMIT $1`
	sqlLatestSnapshot = `SELECT version, text, time FROM snapshots WHERE doc = $1 ORDER BY version DESC LIMIT 1`
	sqlSnapshotAt     = `SELECT version, text, time FROM snapshots
		WHERE doc = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`
	sqlLastSeq = `SELECT coalesce(max(seq), 0) FROM events`
)

// limit maps "limit <= 0 means no limit" onto LIMIT, where NULL is
// unbounded.
func limit(n int) *int64 {
	if n <= 0 {
		return nil
	}
	v := int64(n)
	return &v
}

// read bounds ctx by ReadTimeout.
func (s *Store) read(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.readTimeout)
}

// Events returns doc's events with version >= from, in version order, at
// most n of them (n <= 0: all).
func (s *Store) Events(ctx context.Context, doc string, from int64, n int) ([]eventlog.Event, error) {
	op := fmt.Sprintf("events doc %q from %d", doc, from)
	return s.scanEvents(ctx, op, sqlEvents, doc, from, limit(n))
}

// Since returns up to n events with seq > afterSeq in seq (commit) order.
func (s *Store) Since(ctx context.Context, afterSeq int64, n int) ([]eventlog.Event, error) {
	op := fmt.Sprintf("since seq %d", afterSeq)
	return s.scanEvents(ctx, op, sqlSince, afterSeq, limit(n))
}

func (s *Store) scanEvents(ctx context.Context, op, q string, args ...any) ([]eventlog.Event, error) {
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	rows, err := s.pool.Query(rctx, q, args...)
	if err != nil {
		return nil, s.readErr(ctx, op, err)
	}
	var out []eventlog.Event
	var e eventlog.Event
	var ns int64
	var size, schema *int64
	var kind string
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &e.Doc, &e.Version, &e.OpID, &e.Author, &ns, &e.Op, &e.Prev, &size, &schema, &kind, &e.Meta},
		func() error {
			ev := e
			ev.Time = time.Unix(0, ns)
			ev.Size = -1
			if size != nil {
				ev.Size = *size
			}
			ev.Kind = eventlog.Kind(kind)
			if schema != nil {
				op, err := eventlog.Upcast(int(*schema), ev.Op)
				if err != nil {
					return &eventlog.SchemaError{Seq: ev.Seq, Schema: int(*schema), Err: err}
				}
				ev.Op = op
			}
			out = append(out, ev)
			e.Op, e.Meta = nil, nil // fresh buffers for the next row
			return nil
		})
	if err != nil {
		if _, ok := err.(*eventlog.SchemaError); ok {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return nil, s.readErr(ctx, op, err)
	}
	return out, nil
}

// LastSeq returns the seq of the last committed event, 0 for an empty log.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	const op = "last seq"
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	var seq int64
	if err := s.pool.QueryRow(rctx, sqlLastSeq).Scan(&seq); err != nil {
		return 0, s.readErr(ctx, op, err)
	}
	return seq, nil
}

// Head returns doc's version, 0 for a document without events.
func (s *Store) Head(ctx context.Context, doc string) (int64, error) {
	op := fmt.Sprintf("head doc %q", doc)
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	var v int64
	switch err := s.pool.QueryRow(rctx, sqlHead, doc).Scan(&v); {
	case isNoRows(err):
		return 0, nil
	case err != nil:
		return 0, s.readErr(ctx, op, err)
	}
	return v + 1, nil
}

// FindOp reports the version opID was stored at for doc, if it was.
func (s *Store) FindOp(ctx context.Context, doc, opID string) (int64, bool, error) {
	op := fmt.Sprintf("find op doc %q op %q", doc, opID)
	if err := s.checkOpen(op); err != nil {
		return 0, false, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	var v int64
	switch err := s.pool.QueryRow(rctx, sqlFindOp, doc, opID).Scan(&v); {
	case isNoRows(err):
		return 0, false, nil
	case err != nil:
		return 0, false, s.readErr(ctx, op, err)
	}
	return v, true, nil
}

// Docs lists documents by their last change, newest first, at most n
// (n <= 0: all).
func (s *Store) Docs(ctx context.Context, n int) ([]eventlog.DocInfo, error) {
	const op = "docs"
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	rows, err := s.pool.Query(rctx, sqlDocs, limit(n))
	if err != nil {
		return nil, s.readErr(ctx, op, err)
	}
	var out []eventlog.DocInfo
	var d eventlog.DocInfo
	var ns int64
	var size *int64
	_, err = pgx.ForEachRow(rows, []any{&d.Doc, &d.Version, &ns, &size}, func() error {
		di := d
		di.Updated = time.Unix(0, ns)
		di.Size = -1
		if size != nil {
			di.Size = *size
		}
		out = append(out, di)
		return nil
	})
	if err != nil {
		return nil, s.readErr(ctx, op, err)
	}
	return out, nil
}

// LatestSnapshot returns doc's snapshot with the highest version.
func (s *Store) LatestSnapshot(ctx context.Context, doc string) (eventlog.Snapshot, bool, error) {
	return s.snapshot(ctx, fmt.Sprintf("latest snapshot doc %q", doc), doc, sqlLatestSnapshot, doc)
}

// SnapshotAt returns doc's snapshot with the highest version at or below
// version: where a replay to version starts.
func (s *Store) SnapshotAt(ctx context.Context, doc string, version int64) (eventlog.Snapshot, bool, error) {
	return s.snapshot(ctx, fmt.Sprintf("snapshot doc %q at or below %d", doc, version), doc, sqlSnapshotAt, doc, version)
}

func (s *Store) snapshot(ctx context.Context, op, doc, q string, args ...any) (eventlog.Snapshot, bool, error) {
	if err := s.checkOpen(op); err != nil {
		return eventlog.Snapshot{}, false, err
	}
	rctx, cancel := s.read(ctx)
	defer cancel()
	snap := eventlog.Snapshot{Doc: doc}
	var ns int64
	switch err := s.pool.QueryRow(rctx, q, args...).Scan(&snap.Version, &snap.Text, &ns); {
	case isNoRows(err):
		return eventlog.Snapshot{}, false, nil
	case err != nil:
		return eventlog.Snapshot{}, false, s.readErr(ctx, op, err)
	}
	snap.Time = time.Unix(0, ns)
	return snap, true, nil
}
