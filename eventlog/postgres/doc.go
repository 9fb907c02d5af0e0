// Package postgres is the event store on PostgreSQL: the same contract as
// the SQLite store (eventlog.Log, checked by eventlog/logtest) for server
// processes on several hosts, which share one database instead of one
// file. Types, errors and upcasters are eventlog's; Open returns a *Store.
//
// # Schema
//
//	events(seq bigint identity PRIMARY KEY, doc, version, op_id, author, time,
//	       schema, payload bytea, prev, size, kind, meta,
//	       UNIQUE(doc, version), UNIQUE(op_id, doc))  -- see schemaV2
//	trigger events_no_gap  BEFORE INSERT, per row: skip the row (RETURN NULL)
//	       unless version = 0 or version-1 exists (and is the op prev names,
//	       and the lifecycle rules allow it)    -- a deposed owner cannot write
//	trigger events_docs    AFTER INSERT, per statement: docs from the
//	       transition table, one upsert or delete per document of the batch
//	trigger events_purge   AFTER INSERT of a purge: erase the document's
//	       earlier events and snapshots
//	docs(doc PRIMARY KEY, version, seq, updated, size)
//	snapshots(doc, version, text, time, PRIMARY KEY(doc, version))
//	schema_version(version)                 -- storage layout, for migrations
//
// Open migrates under pg_advisory_xact_lock, so processes starting at once
// on a fresh database do not fail each other: one migrates, the others
// find the version current. A database of a newer layout is refused.
//
// # Group commit
//
// One writer goroutine per Store takes everything queued (up to MaxBatch
// requests; the queue's 4096 slots and MaxQueueBytes bound it, and a full
// queue answers ErrBusy at once: the queue is eventlog.WriteQueue, the
// SQLite store's own) and commits it in one
// transaction: BEGIN; pg_advisory_xact_lock(commit key); one multi-row
// INSERT … SELECT FROM unnest($arrays) ORDER BY ord ON CONFLICT DO NOTHING
// RETURNING doc, op_id, seq; one multi-row snapshot upsert; pg_notify —
// all four pipelined in one round trip; COMMIT. Callbacks run only after COMMIT, in call order.
//
// An event refused by a constraint does not fail its batch, and no
// savepoint is needed: ON CONFLICT DO NOTHING skips a taken version or op
// id, and the gap trigger skips (RETURN NULL) rather than raises. The rows
// RETURNING does not name are then looked up by op id in the same
// transaction: found is *DuplicateError (with the original version),
// absent is *ConflictError. A row-level BEFORE trigger sees the rows its
// own statement inserted before, so v and v+1 of one document can share a
// batch. The whole batch costs 3 round trips whatever its size (BEGIN, the
// pipeline, COMMIT), plus one to classify refused events.
//
// Measured with BenchmarkAppendParallel on the 2-core VM (shared with
// other work), fsync on: ~8,100 events/s at ~140 events per commit, p50
// 27 ms (SQLite on the same machine at the same time: ~10,900 at ~150);
// one caller waiting for each ack gets 250–800 events/s, a WAL flush
// each. BenchmarkBatchStrategy compares the alternative, a
// SAVEPOINT/INSERT/RELEASE per event: 2,000 events/s against 16,600 for
// the single statement, batches of 128 with one conflict in 8.
//
// # Commit order and seq
//
// A sequence hands out values before commit, so two transactions (of two
// processes) may commit out of seq order: a projection that read up to
// seq 12 while 11 was still uncommitted would skip 11 for ever. Every
// write transaction therefore takes pg_advisory_xact_lock on one constant
// key before its INSERT and holds it to COMMIT: write transactions run one
// at a time across all processes, their seqs are allocated in commit
// order, and PostgreSQL makes a commit visible before it releases the
// transaction's locks, so a reader that sees seq n sees every smaller seq.
// Group commit keeps this cheap: the lock is taken once per batch, not per
// event, and is what SQLite's write lock does anyway. seq has holes
// (values taken by skipped rows and rolled-back batches); readers rely on
// its order only. logtest's SinceFollowsCommitOrder fails without the lock.
//
// # Across processes
//
// All correctness rules are in the database (constraints, the trigger, the
// lock), not in Go memory. Each Store holds one session connection
// (session.go) that owns a session advisory lock, exclusive by default and
// shared with Config.Shared (set by every process coordinating through
// leases), so a second process without leases is refused with
// *eventlog.LockedError; PostgreSQL drops the lock with a dead process's
// connection. A Store that runs alone also checks, in each batch's
// pipeline (pg_locks), that its session still holds the lock: if the
// session died — and another process may have taken the database since —
// the batch is refused with ErrUnavailable until the session retakes it. The same connection LISTENs on eventlog_commit when
// Config.OnCommit is set, so a projector learns of any process's commits
// without a busy poll; after a reconnect OnCommit is called once, since
// notifications sent meanwhile are lost.
//
// # Failures
//
// Every call is bounded: ConnectTimeout (2 s) for a connection,
// WriteTimeout (10 s) for a batch transaction, ReadTimeout (10 s) on top
// of the caller's context for a read. A server that is down, restarting
// or unreachable makes the batch fail as a whole with ErrUnavailable
// (answered to each request), and reads fail with ErrUnavailable; the
// pool reconnects by itself, so the first batch after the restart
// commits. A batch whose COMMIT failed in flight may nevertheless have
// committed: a retry with the same op id is answered *DuplicateError.
// Health reports a stalled writer (*StallError), the last failed
// transaction, a lost session, and a read that fails. Strings PostgreSQL
// cannot store (invalid UTF-8, NUL) are refused at the door with
// ErrInvalid, since one such row would fail its whole batch's statement.
//
// # Goroutines
//
// A Store owns the writer and the session goroutine (plus pgxpool's
// health checker); Close stops accepting work, lets the writer commit and
// answer everything queued (appends that raced with Close get ErrClosed
// after those), stops the session (releasing the lock) and closes the
// pool.
package postgres
