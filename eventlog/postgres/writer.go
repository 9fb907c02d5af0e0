package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/eventlog"
)

const (
	// sqlInsert stores a whole batch of events in one statement, one round
	// trip: the arrays are unnested in request order (ORDER BY ord), so
	// seq follows call order and the gap trigger of v+1 sees v inserted
	// just before by the same statement. ON CONFLICT DO NOTHING and the
	// trigger's RETURN NULL skip a refused event without failing the
	// statement; RETURNING names the rows stored.
	sqlInsert = `INSERT INTO events (doc, version, op_id, author, time, schema, payload, prev, size, kind, meta)
		SELECT doc, version, op_id, author, time, $1, payload, prev, size, kind, meta
		FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bytea[],
			$8::text[], $9::bigint[], $10::text[], $11::bytea[])
			WITH ORDINALITY AS t(doc, version, op_id, author, time, payload, prev, size, kind, meta, ord)
		ORDER BY ord
		ON CONFLICT DO NOTHING
		RETURNING doc, op_id, seq`
	// sqlFindOps explains refused events: an op id already stored is a
	// duplicate (at its original version), anything else a conflict.
	sqlFindOps = `SELECT e.doc, e.op_id, e.version FROM events e
		JOIN unnest($1::text[], $2::text[]) AS t(doc, op_id) USING (doc, op_id)`
	sqlPutSnapshots = `INSERT INTO snapshots (doc, version, text, time)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
		ON CONFLICT (doc, version) DO UPDATE SET text = excluded.text, time = excluded.time`
	sqlLock = `SELECT pg_advisory_xact_lock($1)`
	// sqlHoldsLock is true while the backend pid (the Store's session)
	// holds the process lock: an advisory lock on a bigint key appears in
	// pg_locks as classid = its high 32 bits, objid = its low 32 bits,
	// objsubid = 1.
	sqlHoldsLock = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND pid = $1 AND classid = $2::bigint::oid AND objid = $3::bigint::oid AND objsubid = 1)`
	sqlNotify = `SELECT pg_notify($1, '')`
)

// run is the writer goroutine. It takes whatever is queued (up to
// maxBatch), commits it in one transaction and answers. There is no
// timer: while one COMMIT waits for the server's WAL flush, the next
// batch accumulates.
func (s *Store) run() {
	defer close(s.writerDone)
	batch := make([]eventlog.WriteRequest, 0, s.maxBatch)
	results := make([]eventlog.WriteResult, 0, s.maxBatch)
	for {
		var ok bool
		if batch, ok = s.q.Next(batch); !ok {
			return
		}
		results = s.commit(batch, results[:0])
		s.q.Answer(batch, results)
	}
}

// columns are a batch's events as the arrays sqlInsert unnests.
type columns struct {
	doc, opID, author, prev, kind []string
	version, time                 []int64
	size                          []*int64
	payload, meta                 [][]byte
}

func (c *columns) add(e *eventlog.Event) {
	c.doc = append(c.doc, e.Doc)
	c.version = append(c.version, e.Version)
	c.opID = append(c.opID, e.OpID)
	c.author = append(c.author, e.Author)
	c.time = append(c.time, e.Time.UnixNano())
	p := e.Op
	if p == nil {
		p = []byte{} // NOT NULL column
	}
	c.payload = append(c.payload, p)
	c.prev = append(c.prev, e.Prev)
	var size *int64
	if e.Size >= 0 {
		size = &e.Size
	}
	c.size = append(c.size, size)
	c.kind = append(c.kind, string(e.Kind))
	c.meta = append(c.meta, e.Meta)
}

// opKey identifies an event by (doc, op id); NUL cannot occur in either
// (text refuses it), so the key is unambiguous.
func opKey(doc, opID string) string { return doc + "\x00" + opID }

// commit writes the batch in one transaction and returns one result per
// request. Any failure but a refused event rolls the whole batch back and
// answers every request with ErrUnavailable.
func (s *Store) commit(batch []eventlog.WriteRequest, results []eventlog.WriteResult) []eventlog.WriteResult {
	results = results[:len(batch)]
	for i := range batch {
		results[i] = eventlog.WriteResult{Event: batch[i].Event}
	}
	var cols columns
	type snapKey struct {
		doc     string
		version int64
	}
	snaps := map[snapKey]int{} // last request per (doc, version): one upsert may not touch a row twice
	var sDoc, sText []string
	var sVersion, sTime []int64
	for i := range batch {
		switch r := &batch[i]; r.Kind {
		case eventlog.WriteAppend:
			cols.add(&r.Event)
		case eventlog.WriteSnapshot:
			sn := &r.Snapshot
			k := snapKey{sn.Doc, sn.Version}
			if j, ok := snaps[k]; ok {
				sText[j], sTime[j] = sn.Text, sn.Time.UnixNano()
				continue
			}
			snaps[k] = len(sDoc)
			sDoc, sVersion = append(sDoc, sn.Doc), append(sVersion, sn.Version)
			sText, sTime = append(sText, sn.Text), append(sTime, sn.Time.UnixNano())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.failBatch(batch, results, "begin", err)
	}
	defer func() {
		// A no-op after Commit. Bounded on its own: ctx may have expired,
		// and a server that stopped answering must not hold the writer.
		rctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	b := &pgx.Batch{}
	b.Queue(sqlLock, lockCommit)
	if s.exclusive {
		// A Store that runs alone must still hold its lock when it
		// writes: if its session died (and another process may have taken
		// the database meanwhile), the batch is refused, in the database.
		b.Queue(sqlHoldsLock, int64(s.session.pid.Load()), lockProcess>>32, lockProcess&0xffffffff)
	}
	if len(cols.doc) > 0 {
		b.Queue(sqlInsert, eventlog.SchemaVersion, cols.doc, cols.version, cols.opID, cols.author, cols.time,
			cols.payload, cols.prev, cols.size, cols.kind, cols.meta)
	}
	if len(sDoc) > 0 {
		b.Queue(sqlPutSnapshots, sDoc, sVersion, sText, sTime)
	}
	if len(cols.doc) > 0 {
		// Delivered to listeners at COMMIT, and only if it commits. Sent
		// in the pipeline even if every event is then refused (a spurious
		// wake-up, which OnCommit allows) to save a round trip per batch.
		b.Queue(sqlNotify, notifyChannel)
	}
	stored := map[string]int64{}
	br := tx.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil && s.exclusive {
		var held bool
		if err = br.QueryRow().Scan(&held); err == nil && !held {
			err = errLockLost
		}
	}
	if err == nil && len(cols.doc) > 0 {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			var doc, opID string
			var seq int64
			_, err = pgx.ForEachRow(rows, []any{&doc, &opID, &seq}, func() error {
				stored[opKey(doc, opID)] = seq
				return nil
			})
		}
	}
	if err == nil && len(sDoc) > 0 {
		_, err = br.Exec()
	}
	if err == nil && len(cols.doc) > 0 {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.failBatch(batch, results, "insert", err)
	}
	// Match each append with its stored row; the rest were refused.
	var refused []int
	var rDoc, rOp []string
	var n int64
	for i := range batch {
		r := &batch[i]
		if r.Kind != eventlog.WriteAppend {
			continue
		}
		k := opKey(r.Event.Doc, r.Event.OpID)
		if seq, ok := stored[k]; ok {
			delete(stored, k) // a second append of the same op is a duplicate
			results[i].Event.Seq = seq
			n++
			continue
		}
		refused = append(refused, i)
		rDoc, rOp = append(rDoc, r.Event.Doc), append(rOp, r.Event.OpID)
	}
	var conflicts, dups int64
	if len(refused) > 0 {
		found := map[string]int64{}
		rows, qerr := tx.Query(ctx, sqlFindOps, rDoc, rOp)
		if qerr == nil {
			var doc, opID string
			var v int64
			_, qerr = pgx.ForEachRow(rows, []any{&doc, &opID, &v}, func() error {
				found[opKey(doc, opID)] = v
				return nil
			})
		}
		if qerr != nil {
			return s.failBatch(batch, results, "classify", qerr)
		}
		for _, i := range refused {
			e := batch[i].Event
			if v, ok := found[opKey(e.Doc, e.OpID)]; ok {
				results[i].Err = &eventlog.DuplicateError{Doc: e.Doc, OpID: e.OpID, Version: v}
				dups++
			} else {
				results[i].Err = &eventlog.ConflictError{Doc: e.Doc, Version: e.Version}
				conflicts++
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.failBatch(batch, results, "commit", err)
	}
	s.q.Committed(len(batch), n, conflicts, dups)
	if n > 0 && s.onCommit != nil {
		s.onCommit()
	}
	return results
}

// failBatch answers every request of batch with ErrUnavailable: the
// transaction rolled back (or, after a failure during COMMIT, its outcome
// is unknown; a retry with the same op id finds out).
func (s *Store) failBatch(batch []eventlog.WriteRequest, results []eventlog.WriteResult, step string, cause error) []eventlog.WriteResult {
	s.log.Error().Err(cause).Str("step", step).Int("requests", len(batch)).Msg("group commit failed")
	err := fmt.Errorf("%s: %w: %w", step, eventlog.ErrUnavailable, cause)
	s.q.Failed(err)
	return s.q.FailAll(batch, results, err)
}

var errNoRows = pgx.ErrNoRows

// errLockLost refuses a batch of an exclusive Store whose session no
// longer holds the process lock.
var errLockLost = errors.New("the process lock is not held (session connection lost); writes resume once it is retaken")

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
