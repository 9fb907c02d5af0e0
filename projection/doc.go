// Package projection builds read models from the event log, the query
// side of the server: each Projection owns tables in a SQLite file of its
// own (<data>/readmodels.db, never events.db) and is fed the log's events
// in global-sequence order, asynchronously, after they commit.
//
// # The projector
//
// A Projector (New, Register, Open, Close) follows the log with
// Store.Since: every PollInterval (50 ms), or at once after Notify, which
// the event log's OnCommit hook calls. It applies up to BatchSize (1000)
// events per transaction and moves the projection's checkpoint
// (projector_checkpoints: name, generation, version, seq) in that same
// transaction, conditionally on its previous value. A batch therefore
// commits exactly once: a crash or a failed Apply rolls back rows and
// checkpoint together, and the projector resumes from the checkpoint.
//
// The projector only reads the event log, through its read pool, so it
// never takes the log's write lock and cannot block or fail a command.
//
// # Dead letters
//
// An *EventError from Apply rolls the batch back and records the event in
// projector_dead_letters (projection, generation, seq, doc, version,
// error, time); then, per OnError, the batch is applied again without it
// (Skip, the default) or up to it, and the projection stops (Stop) until a
// Rebuild or a restart. Health, for /readyz, fails while one is stopped.
// Any other error fails the batch, which is retried after RetryInterval.
//
// # Generations and live rebuild
//
// A projection's tables are named per generation (Tables.Name). When the
// registered Version differs from the serving generation's, at Open, or
// on Rebuild, a new generation is created and fed from seq 0 beside the
// serving one, one batch each per pass; once it reaches the log's head,
// one transaction marks it serving and drops the old generation's tables
// (recorded in projector_tables when Create made them). Readers never see
// a half-built generation.
//
// # Reads
//
// Read runs a function in a read transaction on a pool of query_only
// connections (WAL: one consistent snapshot, never waiting for the
// projector), with the serving generation's Tables and a Position: the
// last applied seq, the log's head and the lag in events and seconds.
//
// # Several processes
//
// Processes sharing a data directory (-redis-url) share readmodels.db
// too. Each runs a projector; SQLite serialises their transactions (each
// BEGIN IMMEDIATE, waiting up to the busy timeout: a deferred one that
// read first fails at once when another process wrote meanwhile), and a
// checkpoint moved by another process (the conditional update finds it
// elsewhere) makes a projector reload its checkpoints from the file
// instead of applying the batch again. TestProcessesShareTheFile opens
// two projectors on one file at once and has them follow one log.
//
// # Concurrency
//
// One goroutine (started by Open, stopped by Close) owns the single write
// connection and every checkpoint; Register must be called before Open.
// Read, Stats, Health, Notify and Rebuild are safe for concurrent use;
// Rebuild is handed to the goroutine between batches. Projection methods
// are called on the projector's goroutine only, one batch at a time.
package projection
