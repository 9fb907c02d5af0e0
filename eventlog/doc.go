// Package eventlog is the durable, append-only event store of the
// collaborative editor. Every op the hub applies to a document becomes one
// event; a document's version is the number of its events. The hub acks an
// op to its client only after the event is committed here, so an ack means
// "survives a power cut".
//
// # One contract, two stores
//
// Log is the contract every event store keeps; this package's *Store is
// SQLite, the embedded default, and eventlog/postgres is PostgreSQL, for
// processes on several hosts. Both keep every guarantee below, with the
// rules in the database itself; eventlog/logtest is the conformance
// suite both run, and the definition of the contract. Consumers own
// smaller interfaces of it (hub.Store, projection.Log, feed.Source,
// catalog.Source, query.Log, metrics.StatsSource). Event, Snapshot,
// DocInfo, Stats, the errors and the upcasters are shared, and so is
// WriteQueue, the queue each store's writer drains: the door (ErrBusy,
// waiting for room, the late appends of Close), the callbacks' order and
// the writer's counters are one piece of code, and each store keeps only
// how it validates, commits and maps its errors. It is exported for
// eventlog/postgres, which imports this package (never the reverse).
//
// # Storage
//
// One SQLite file in WAL mode with synchronous=FULL (go-sqlite3 would pick
// NORMAL, which can lose the last commits on power loss) and a busy timeout
// (default 5 s) so several server processes on one host can share the file.
// Open reads both pragmas back and fails unless they are wal and 2 (FULL).
//
//	events(seq INTEGER PRIMARY KEY,          -- global commit order, for projections
//	       doc, version, op_id, author,
//	       time,                              -- unix nanoseconds
//	       schema,                            -- payload format, SchemaVersion = 1; 0 = legacy, upcast on read
//	       payload BLOB,                      -- op JSON, verbatim
//	       size,                              -- code points after the event; NULL = unknown
//	       kind,                              -- '' op, 'rename', 'delete', 'purge' (lifecycle.go)
//	       meta,                              -- a lifecycle event's JSON details, else NULL
//	       UNIQUE(doc, version),              -- optimistic concurrency
//	       UNIQUE(doc, op_id))                -- idempotent retries
//	trigger events_no_gap: BEFORE INSERT, RAISE(ABORT) unless version = 0
//	       or (doc, version-1) exists        -- no holes, even from a stale process
//	docs(doc PRIMARY KEY, version, seq, updated, size) -- kept by an AFTER INSERT trigger
//	snapshots(doc, version, text, time, PRIMARY KEY(doc, version))
//	triggers events_tombstone, events_purge   -- a delete or purge leaves docs; a purge
//	                                          -- erases the document's earlier rows
//	PRAGMA user_version = 3                  -- storage layout, for migrations
//
// Open migrates older files in place, one step per version inside one
// BEGIN IMMEDIATE transaction: version 1 → 2 adds the size columns and
// recreates the docs trigger; sizes of events written before stay NULL;
// 2 → 3 adds kind and meta and the lifecycle rules (schemaV3).
//
// # Document lifecycle
//
// Rename, delete and purge are events of the document's own stream
// (Kind): they take a version and carry the identity op [], so readers
// that replay ops need nothing new. The gap trigger also enforces what
// may follow what (nothing but a purge after a delete, nothing after a
// purge), so no process, however stale, can edit a deleted document. A
// purge deletes the document's earlier events and snapshots in its own
// transaction, on a write connection with secure_delete on (freed pages
// are zeroed); see docs/api.md for what erasure does and does not reach.
// A build that knows only version 1 refuses a migrated file, so every
// process sharing a file is upgraded together.
//
// # Payload schema versions and upcasters
//
// Every row records the schema of its payload. Schema 1 (SchemaVersion)
// is the protocol's wire array, [3,"hi",-2]. Schema 0 is the legacy form
// of the first prototype, an object of tagged components,
// {"ops":[{"retain":3},{"insert":"hi"},{"delete":2}]}, which no build
// writes any more but a log may still hold. Reads (Events, Since) bring
// every payload to SchemaVersion through the upcaster chain (upcast.go,
// one Upcaster per step v → v+1), so readers only ever see the current
// form; snapshots hold text, not ops, and need none. A row of a version
// this build does not know (a newer build wrote it) fails the read with
// *SchemaError matching ErrUnknownSchema rather than being mis-read.
// Current rows are selected as NULLIF(schema, SchemaVersion) = NULL and
// returned as stored, at no extra cost. To change the payload format:
// raise SchemaVersion and add the upcaster from the previous version
// (the chain is an array of SchemaVersion entries, so forgetting it does
// not compile).
//
// # One file, one process — unless coordinated
//
// Two servers that each sequence the same documents would diverge (each
// commits what SQLite lets through, and their clients see different
// histories), so Open first takes a non-blocking flock on
// <file>-process.lock (processlock.go): exclusive by default, shared with
// Config.Shared, which every process of a group that coordinates through
// leases sets (the server's -redis-url). A conflicting Open fails at once,
// before touching the database, with *LockedError (ErrLocked) naming the
// file and, when the holder is exclusive, its pid, which it writes into
// the lock file. The kernel drops a dead process's flock, so a crash
// leaves no stale lock. The lock belongs to the process: Stores of one
// process on one file (tests standing in for several processes) share it.
//
// All correctness rules live in SQLite constraints, not in Go memory, so
// they hold across processes: of two appends of the same (doc, version)
// exactly one commits and the other gets *ConflictError, whichever process
// made them.
//
// # Group commit
//
// A single writer goroutine owns the write connection. AppendAsync puts the
// event on a queue and returns; it never waits (see "Full queue" below).
// The writer takes everything
// queued, up to Config.MaxBatch (1024), runs it in one BEGIN IMMEDIATE
// transaction with a prepared INSERT ... ON CONFLICT DO NOTHING per event,
// commits with one fsync, and only then calls each event's callback. There
// is no timer: while one COMMIT waits on the disk the next batch queues up,
// so batches grow with load. On the 2-core development VM one fsync'd commit
// takes about 0.2 ms alone, i.e. ~5,000 events/s if each event had its own;
// with 256 concurrent appenders batches average ~130 events and throughput
// is ~40,000 events/s (see BenchmarkAppendParallel).
//
// Processes sharing the file take turns on a flock (writelock.go); a
// writer that waited for it also takes what queued meanwhile, so the turns
// batch too. WAL checkpoints run on a background connection every 250 ms
// (checkpoint.go) rather than inside the COMMIT that crosses SQLite's
// 1,000-page threshold.
//
// An event that cannot be stored fails alone: 0 rows affected means the op
// id is already stored (*DuplicateError with the original version) or the
// version is taken (*ConflictError); a gap-trigger abort undoes only that
// statement (*ConflictError, or *DuplicateError if the op id exists). If
// BEGIN, an INSERT or COMMIT fails for another reason (I/O, busy past the
// timeout), the transaction is rolled back, every event of the batch gets an
// error wrapping ErrUnavailable (and ErrDiskFull for SQLITE_FULL), and the
// writer carries on with the next batch on the same connection: once the
// cause is gone (space freed, the lock released) the next batch commits.
//
// # Free-disk reserve
//
// A client that fills the disk must not leave every document unwritable,
// nor SQLite without the room it needs to checkpoint and recover. Before
// each write transaction the writer checks the free space of the data
// filesystem (one fstatfs, 2–3 µs: diskspace.go); below Config.MinFreeBytes
// (default min(512 MiB, 5% of the filesystem); negative disables) it
// starts no transaction and answers every append and snapshot of the batch
// with *DiskFullError, which matches ErrDiskFull and ErrUnavailable:
// "only 180 MiB free on the data filesystem, below the 512 MiB reserve;
// writes resume when space is freed". There is no latch: the first batch
// after space is freed commits.
//
// # Full queue
//
// The hub calls AppendAsync and PutSnapshotAsync on a document's own
// goroutine, so they must not wait for a writer that may be stuck in write
// or fsync for as long as the disk does not answer. The queue has 4096
// slots and a bound on the payload bytes of requests accepted and not yet
// answered, Config.MaxQueueBytes (64 MiB; an event can be ~1 MiB, so the
// slots alone could hold 4 GiB). When either is spent, AppendAsync answers
// at once, on the caller's goroutine, with an error wrapping ErrBusy (which
// matches ErrUnavailable), and PutSnapshotAsync drops the snapshot (counted
// in Stats.SnapshotsDropped, logged at most once per 10 s). Append and
// PutSnapshot, which wait for their commit anyway, wait for room instead,
// until their context ends.
//
// # Health
//
// Health is for a readiness endpoint. It reports the writer stuck
// (*StallError) when its current batch has run longer than
// Config.StallAfter (5 s), the last transaction's failure until one
// commits, free space below the reserve, and a read through the read pool
// that fails or does not answer. It reads the writer's state from memory,
// never queueing behind it, and returns when its context ends even if the
// read sleeps in the kernel (it runs on a goroutine of the Store, shared
// by concurrent callers, which Close waits for). Stats carries the gauges
// for metrics: queued appends and bytes, the current batch's age, the last
// commit's time.
//
// # Concurrency and ordering
//
//   - The writer goroutine owns the write connection and its prepared
//     statements; callbacks of AppendAsync and PutSnapshot run on it, so they
//     must be quick and must not call back into the Store.
//   - Reads (Events, Head, FindOp, Since, Docs, LatestSnapshot) use a separate
//     pool of query_only connections; in WAL mode they see the last commit
//     and never wait for the writer.
//   - The queue is FIFO and the writer is single-threaded, so the appends of
//     one goroutine that are queued are committed, and their callbacks
//     invoked, in call order. The hub can pipeline versions v, v+1, ... of a
//     document without waiting: they land in order, in one or several
//     transactions. If v fails, v+1 fails with ErrConflict (gap) instead of
//     being stored out of order.
//   - An append refused at the door (ErrBusy, ErrInvalid) is answered during
//     the AppendAsync call, on the caller's goroutine, so before earlier
//     appends of the same goroutine that are still queued. If v is refused
//     with ErrBusy, v+1 may still be accepted (room freed meanwhile): it then
//     fails with ErrConflict (gap), as above; it is never stored without v.
//   - seq is assigned under SQLite's write lock, so commit order equals seq
//     order even across processes: a projection that reads Since(last) never
//     misses a row that commits later with a smaller seq.
//   - Config.OnCommit runs on the writer goroutine after each transaction
//     that stored events; LastSeq reads the last seq through the read pool.
//     Together they let a projector follow Since without a busy poll.
//   - Close stops accepting work (ErrClosed), lets the writer commit and
//     answer everything already queued, answers appends that raced with it
//     with ErrClosed after those, and closes the database.
package eventlog
