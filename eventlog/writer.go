package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

type requestKind uint8

const (
	kindAppend requestKind = iota
	kindSnapshot
	kindCall // run a function on the write connection between transactions
)

// request is one unit of work for the writer. It is passed by value through
// the queue so an append costs no allocation beyond the caller's closure.
type request struct {
	kind     requestKind
	ev       Event
	done     func(Event, error)
	snap     Snapshot
	snapDone func(error)
	call     func(*sql.Conn)
	size     int64 // payload bytes, counted in Store.queuedBytes until answered
}

// run is the writer goroutine: the only user of s.conn. It takes whatever
// is queued (up to maxBatch), commits it in one transaction and answers.
// There is no timer: while one COMMIT waits for fsync, the next batch
// accumulates in the queue, so batch size adapts to load by itself.
func (s *Store) run() {
	defer close(s.writerDone)
	batch := make([]request, 0, s.maxBatch)
	results := make([]appendResult, 0, s.maxBatch)
	open := true
	for open {
		r, ok := <-s.queue
		if !ok {
			break
		}
		// The batch's age includes the wait for another process's writer
		// lock: a process stuck in fsync holding it stalls this one too.
		s.batchStart.Store(time.Now().UnixNano())
		batch, open = s.fill(append(batch[:0], r), open)
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
				batch, open = s.fill(batch, open)
			}
		}
		results = s.commit(batch, results[:0], lockErr)
		if locked {
			s.wlock.unlock()
		}
		s.batchStart.Store(0)
		s.release(batch)
		s.answer(batch, results)
		clear(batch) // drop payload and closure references until reuse
	}
	s.wakeRoomWaiters()
	s.answerLate()
}

// release returns the batch's bytes and appends to the queue's budget
// just before they are answered (so a callback that looks at Stats sees
// itself answered), and wakes callers waiting for room.
func (s *Store) release(batch []request) {
	var bytes, appends int64
	for i := range batch {
		bytes += batch[i].size
		if batch[i].kind == kindAppend {
			appends++
		}
	}
	s.queuedBytes.Add(-bytes)
	s.queuedAppends.Add(-appends)
	s.wakeRoomWaiters()
}

// fill adds whatever is queued to batch, up to maxBatch, without waiting;
// it reports false once the queue is closed.
func (s *Store) fill(batch []request, open bool) ([]request, bool) {
	for open && len(batch) < s.maxBatch {
		select {
		case r, ok := <-s.queue:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		default:
			return batch, open
		}
	}
	return batch, open
}

func hasWrites(batch []request) bool {
	for i := range batch {
		if batch[i].kind != kindCall {
			return true
		}
	}
	return false
}

// commit writes the appends and snapshots of batch in one transaction and
// returns one result per request (zero for non-appends). The caller holds
// the writer lock, or failed to take it (lockErr).
func (s *Store) commit(batch []request, results []appendResult, lockErr error) []appendResult {
	results = results[:len(batch)]
	for i := range batch {
		results[i] = appendResult{}
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
		switch r.kind {
		case kindAppend:
			ev, err, fatal := s.insert(ctx, r.ev)
			if fatal != nil {
				s.rollback(ctx)
				return s.failBatch(batch, results, "insert", fatal)
			}
			results[i] = appendResult{ev, err}
			switch {
			case errors.Is(err, ErrConflict):
				conflicts++
			case errors.Is(err, ErrDuplicate):
				dups++
			}
		case kindSnapshot:
			sn := r.snap
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
		if batch[i].kind == kindAppend && results[i].err == nil {
			stored++
		}
	}
	s.lastCommit.Store(time.Now().UnixNano())
	s.lastFailure.Store(nil)
	s.commits.Add(1)
	s.events.Add(stored)
	if stored > 0 && s.onCommit != nil {
		s.onCommit()
	}
	s.conflicts.Add(conflicts)
	s.duplicates.Add(dups)
	if n := int64(len(batch)); n > s.maxSeen.Load() {
		s.maxSeen.Store(n) // only the writer stores, so load+store is race-free
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
func (s *Store) failBatch(batch []request, results []appendResult, step string, cause error) []appendResult {
	s.failures.Add(1)
	s.log.Error().Err(cause).Str("step", step).Int("requests", len(batch)).Msg("group commit failed")
	kind := ErrUnavailable
	var se sqlite3.Error
	if errors.As(cause, &se) && se.Code == sqlite3.ErrFull {
		kind = ErrDiskFull
	}
	err := fmt.Errorf("%s: %w: %w", step, kind, cause)
	s.lastFailure.Store(&failure{err: err, at: time.Now()})
	return s.answerAll(batch, results, err)
}

// refuseBatch answers every write of batch with the reserve's
// *DiskFullError; no transaction was started.
func (s *Store) refuseBatch(batch []request, results []appendResult, err error) []appendResult {
	s.diskFull.Add(1)
	s.sampledLog.Error().Err(err).Int("requests", len(batch)).Msg("writes refused: free disk space below the reserve")
	return s.answerAll(batch, results, err)
}

// answerAll sets err, with each request's operation, as the result of
// every append and snapshot of batch.
func (s *Store) answerAll(batch []request, results []appendResult, err error) []appendResult {
	for i := range batch {
		switch r := &batch[i]; r.kind {
		case kindAppend:
			results[i] = appendResult{r.ev, fmt.Errorf("append doc %q version %d: %w", r.ev.Doc, r.ev.Version, err)}
		case kindSnapshot:
			results[i] = appendResult{err: fmt.Errorf("put snapshot doc %q version %d: %w", r.snap.Doc, r.snap.Version, err)}
		}
	}
	return results
}

// answer invokes callbacks in queue order, which is submission order for
// any single goroutine.
func (s *Store) answer(batch []request, results []appendResult) {
	for i := range batch {
		r := &batch[i]
		switch r.kind {
		case kindAppend:
			r.done(results[i].ev, results[i].err)
		case kindSnapshot:
			if r.snapDone != nil {
				r.snapDone(results[i].err)
			} else if results[i].err != nil {
				s.log.Warn().Err(results[i].err).Msg("snapshot not stored")
			}
		case kindCall:
			r.call(s.conn)
		}
	}
}

// answerLate rejects appends that raced with Close, after everything that
// was queued before Close has been answered.
func (s *Store) answerLate() {
	for {
		s.lateMu.Lock()
		late := s.late
		s.late = nil
		if len(late) == 0 {
			s.writerExited = true
		}
		s.lateMu.Unlock()
		if len(late) == 0 {
			return
		}
		for _, r := range late {
			r.done(r.ev, fmt.Errorf("append doc %q version %d: %w", r.ev.Doc, r.ev.Version, ErrClosed))
		}
	}
}
