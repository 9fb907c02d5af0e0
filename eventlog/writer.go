package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

const (
	// ON CONFLICT DO NOTHING turns a uniqueness clash into "0 rows" instead
	// of an error, so one stale op never aborts the other events of its
	// batch. It does not cover the gap trigger, which aborts the statement.
	sqlInsert = `INSERT INTO events (doc, version, op_id, author, time, schema, payload, prev, size, kind, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlFindOp      = `SELECT version FROM events WHERE doc = ? AND op_id = ?`
	sqlPutSnapshot = `INSERT OR REPLACE INTO snapshots (doc, version, text, time) VALUES (?, ?, ?, ?)`
)

// run is the writer goroutine: the only user of s.conn. It takes whatever
// is queued (up to maxBatch), commits it in one transaction and answers.
// There is no timer: while one COMMIT waits for fsync, the next batch
// accumulates in the queue, so batch size adapts to load by itself.
func (s *Store) run() {
	defer close(s.writerDone)
	batch := make([]WriteRequest, 0, s.maxBatch)
	results := make([]WriteResult, 0, s.maxBatch)
	for {
		// The batch's age includes the wait for another process's writer
		// lock: a process stuck in fsync holding it stalls this one too.
		var ok bool
		if batch, ok = s.q.Next(batch); !ok {
			return
		}
		var lockErr error
		locked := false
		if hasWrites(batch) {
			if lockErr = s.wlock.lock(); lockErr == nil {
				locked = true
				// What was queued while another process held the lock joins
				// this transaction: with 3 processes committing in turn,
				// taking the batch before the lock left each with 12 events
				// per commit where one process gets 26, and the host's
				// throughput fell with the fsyncs' count.
				batch = s.q.Fill(batch)
			}
		}
		results = s.commit(batch, results[:0], lockErr)
		if locked {
			s.wlock.unlock()
		}
		s.q.Answer(batch, results)
	}
}

func hasWrites(batch []WriteRequest) bool {
	for i := range batch {
		if batch[i].Kind != WriteCall {
			return true
		}
	}
	return false
}

// commit writes the appends and snapshots of batch in one transaction and
// returns one result per request (zero for non-appends). The caller holds
// the writer lock, or failed to take it (lockErr).
func (s *Store) commit(batch []WriteRequest, results []WriteResult, lockErr error) []WriteResult {
	results = results[:len(batch)]
	for i := range batch {
		results[i] = WriteResult{}
	}
	if !hasWrites(batch) {
		return results
	}
	if lockErr != nil {
		return s.failBatch(batch, results, "writer lock", lockErr)
	}
	if err := s.checkReserve(); err != nil {
		return s.refuseBatch(batch, results, err)
	}
	ctx := context.Background() // nil Done(): go-sqlite3 skips its per-call watcher goroutine
	if _, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.failBatch(batch, results, "begin", err)
	}
	var conflicts, dups int64
	for i := range batch {
		r := &batch[i]
		switch r.Kind {
		case WriteAppend:
			ev, err, fatal := s.insert(ctx, r.Event)
			if fatal != nil {
				s.rollback(ctx)
				return s.failBatch(batch, results, "insert", fatal)
			}
			results[i] = WriteResult{ev, err}
			switch {
			case errors.Is(err, ErrConflict):
				conflicts++
			case errors.Is(err, ErrDuplicate):
				dups++
			}
		case WriteSnapshot:
			sn := r.Snapshot
			if _, err := s.putSnap.ExecContext(ctx, sn.Doc, sn.Version, sn.Text, sn.Time.UnixNano()); err != nil {
				s.rollback(ctx)
				return s.failBatch(batch, results, "put snapshot", err)
			}
		}
	}
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.rollback(ctx)
		return s.failBatch(batch, results, "commit", err)
	}
	var stored int64
	for i := range results {
		if batch[i].Kind == WriteAppend && results[i].Err == nil {
			stored++
		}
	}
	s.q.Committed(len(batch), stored, conflicts, dups)
	if stored > 0 && s.onCommit != nil {
		s.onCommit()
	}
	return results
}

// insert appends one event inside the open transaction. err is the
// per-event outcome (conflict, duplicate); fatal means the transaction is
// unusable and the whole batch must fail.
func (s *Store) insert(ctx context.Context, e Event) (stored Event, err, fatal error) {
	payload := e.Op
	if payload == nil {
		payload = []byte{} // NOT NULL column; nil would bind as NULL
	}
	size := sql.NullInt64{Int64: e.Size, Valid: e.Size >= 0}
	res, xerr := s.ins.ExecContext(ctx, e.Doc, e.Version, e.OpID, e.Author, e.Time.UnixNano(), SchemaVersion, payload, e.Prev, size, string(e.Kind), nullBytes(e.Meta))
	if xerr != nil {
		var se sqlite3.Error
		if !errors.As(xerr, &se) || se.Code != sqlite3.ErrConstraint {
			return e, nil, xerr
		}
		if se.ExtendedCode != sqlite3.ErrConstraintTrigger {
			// CHECK/NOT NULL: the event itself is malformed.
			return e, fmt.Errorf("append doc %q version %d: %w: %w", e.Doc, e.Version, ErrInvalid, xerr), nil
		}
		// Version gap. Still check the op id: a retry of an op stored
		// earlier is a duplicate, not a conflict, whatever version it names.
		return s.classify(ctx, e)
	}
	n, xerr := res.RowsAffected()
	if xerr != nil {
		return e, nil, xerr
	}
	if n == 0 {
		return s.classify(ctx, e)
	}
	if e.Seq, xerr = res.LastInsertId(); xerr != nil {
		return e, nil, xerr
	}
	return e, nil, nil
}

// classify explains a rejected insert: duplicate if the op id is already
// stored for the doc (reporting its original version), conflict otherwise.
// It reads inside the transaction, so it also sees this batch's rows.
func (s *Store) classify(ctx context.Context, e Event) (Event, error, error) {
	var v int64
	switch err := s.findOp.QueryRowContext(ctx, e.Doc, e.OpID).Scan(&v); {
	case err == nil:
		return e, &DuplicateError{Doc: e.Doc, OpID: e.OpID, Version: v}, nil
	case errors.Is(err, sql.ErrNoRows):
		return e, &ConflictError{Doc: e.Doc, Version: e.Version}, nil
	default:
		return e, nil, err
	}
}

func (s *Store) rollback(ctx context.Context) {
	// After some errors (I/O, full disk) SQLite has already rolled back and
	// ROLLBACK fails with "no transaction is active"; either way the
	// connection is clean for the next batch.
	if _, err := s.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		s.log.Debug().Err(err).Msg("rollback")
	}
}

// failBatch answers every write of batch with ErrUnavailable (ErrDiskFull
// for SQLITE_FULL): nothing of the transaction was stored. Health reports
// the failure until a transaction commits or StallAfter passes.
func (s *Store) failBatch(batch []WriteRequest, results []WriteResult, step string, cause error) []WriteResult {
	s.log.Error().Err(cause).Str("step", step).Int("requests", len(batch)).Msg("group commit failed")
	kind := ErrUnavailable
	var se sqlite3.Error
	if errors.As(cause, &se) && se.Code == sqlite3.ErrFull {
		kind = ErrDiskFull
	}
	err := fmt.Errorf("%s: %w: %w", step, kind, cause)
	s.q.Failed(err)
	return s.q.FailAll(batch, results, err)
}

// refuseBatch answers every write of batch with the reserve's
// *DiskFullError; no transaction was started.
func (s *Store) refuseBatch(batch []WriteRequest, results []WriteResult, err error) []WriteResult {
	s.diskFull.Add(1)
	s.sampledLog.Error().Err(err).Int("requests", len(batch)).Msg("writes refused: free disk space below the reserve")
	return s.q.FailAll(batch, results, err)
}
