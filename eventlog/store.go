package eventlog

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
	"github.com/rs/zerolog"
)

// Event is one applied op of one document. It moves Doc from Version to
// Version+1.
type Event struct {
	Seq     int64     // global sequence, assigned on commit
	Doc     string    // document id
	Version int64     // base version: the event moves Doc from Version to Version+1
	OpID    string    // client-chosen op id, unique per document (idempotency key)
	Author  string    // who authored the op
	Time    time.Time // set by Append if zero; stored as unix nanoseconds
	Op      []byte    // op payload, JSON wire form, stored verbatim
	// Prev is the op id of the event at Version-1, the op this one was
	// transformed on top of. When set, the append is refused (conflict)
	// unless the log's Version-1 is exactly that op; empty skips the check.
	Prev string
	// Size is the length of Doc in code points after this event, kept so
	// that the document list can show sizes without replaying anything.
	// Negative means unknown and is stored as NULL (events written before
	// storage version 2, or by an appender that does not track the text);
	// the zero value claims an empty document.
	Size int64
	// Kind is what the event does: Op (the zero value) edits the text;
	// the lifecycle kinds (lifecycle.go) carry the identity op [] and act
	// on the document itself.
	Kind Kind
	// Meta is a lifecycle event's details as a JSON object (a rename's
	// {"title":…}); nil for ops.
	Meta []byte
}

// Snapshot is the text of Doc after Version ops (i.e. at head Version).
type Snapshot struct {
	Doc     string
	Version int64
	Text    string
	Time    time.Time
}

// DocInfo describes a document by its latest event.
type DocInfo struct {
	Doc     string
	Version int64     // current head: number of ops applied
	Updated time.Time // time of the latest event
	// Size is the length in code points after the latest event, or -1 if
	// that event did not record it (see Event.Size).
	Size int64
}

// Config tunes a Store. The zero value is usable.
type Config struct {
	MaxBatch    int            // events per transaction; 0 means 1024
	BusyTimeout time.Duration  // how long to wait for another process's lock; 0 means 5s
	Logger      zerolog.Logger // zero value: disabled (zerolog.Nop())
	// CheckpointEvery is how often a background connection checkpoints the
	// WAL into the database (checkpoint.go); 0 means 250ms. Negative
	// leaves it to SQLite, which checkpoints inside a commit.
	CheckpointEvery time.Duration
	// MinFreeBytes is the free space the data filesystem keeps in reserve:
	// while less is available, every batch of appends and snapshots is
	// refused with *DiskFullError (ErrDiskFull) before its transaction
	// starts (diskspace.go). 0 means min(512 MiB, 5% of the filesystem's
	// size); negative disables the check.
	MinFreeBytes int64
	// MaxQueueBytes bounds the payload bytes (op, ids, snapshot text) of
	// requests accepted and not yet answered; past it AppendAsync answers
	// ErrBusy at once and PutSnapshotAsync drops the snapshot. 0 means
	// 64 MiB. An event can be ~1 MiB, so the 4096 slots alone could hold
	// 4 GiB. One request larger than the bound is accepted into an empty
	// queue, so no event is too large to ever store.
	MaxQueueBytes int64
	// StallAfter is how long one write transaction may run before Health
	// reports the writer stuck; 0 means 5s, the default busy timeout, well
	// above a commit's worst fsync seen here (~1 s on a loaded VM).
	StallAfter time.Duration
	// Shared takes the process lock (<file>-process.lock) shared instead of
	// exclusive: set it in every process that serves the file together
	// with others, coordinating through leases (the server's -redis-url).
	// The zero value refuses to open a file another process has open.
	Shared bool
	// ReadOnly opens the log for reading only, beside whatever process
	// writes it (SQLite's WAL lets readers run beside the writer): no
	// process lock, no writer, no migration, no checkpoints, and every
	// write refused with ErrReadOnly. For tools and tests that inspect a
	// running server's log.
	ReadOnly bool
	// OnCommit, if set, is called on the writer goroutine after every
	// transaction that stored at least one event, before the appends'
	// callbacks. It must return at once and not call into the Store: it is
	// for a wake-up such as projection.Projector.Notify, which lets read
	// models follow the log without waiting for their next poll.
	OnCommit func()
}

// Stats are the writer's cumulative counters and current gauges, for tests
// and metrics.
type Stats struct {
	Commits    int64 // transactions committed
	Events     int64 // events committed
	Conflicts  int64 // appends answered with ErrConflict
	Duplicates int64 // appends answered with ErrDuplicate
	Failures   int64 // transactions that failed and were rolled back (ErrUnavailable)
	MaxBatch   int64 // largest number of requests committed in one transaction
	// DiskFull counts batches refused because free space was below the
	// reserve (no transaction was started, so not in Failures).
	DiskFull int64
	Busy     int64 // appends refused at the door with ErrBusy
	// SnapshotsDropped counts PutSnapshotAsync calls dropped at the door
	// because the queue was full.
	SnapshotsDropped int64

	// Gauges.

	// QueuedAppends are appends accepted and not yet answered: waiting in
	// the queue or in the transaction being written.
	QueuedAppends int64
	// QueuedBytes are the payload bytes of every request accepted and not
	// yet answered, appends and snapshots (bounded by MaxQueueBytes).
	QueuedBytes int64
	// BatchAge is how long the writer has been on its current batch
	// (waiting for the writer lock, writing, committing); 0 when idle.
	BatchAge time.Duration
	// LastCommit is when the last transaction committed; zero if none has
	// since Open.
	LastCommit time.Time
}

const (
	defaultMaxBatch      = 1024
	defaultBusyTimeout   = 5 * time.Second
	defaultMaxQueueBytes = 64 << 20
	defaultStallAfter    = 5 * time.Second
	// queueSize is 4× the default batch, so the writer always finds a full
	// batch waiting under overload; past it appends are refused (ErrBusy)
	// rather than block the caller. MaxQueueBytes bounds the memory.
	queueSize = 4096
)

// Store is an append-only, durable event log on one SQLite file. All
// methods are safe for concurrent use.
type Store struct {
	file string // the SQLite file, for tests that open it directly
	log  zerolog.Logger
	// sampledLog (a full disk refuses every batch) and the queue's DropLog
	// (a full queue drops every snapshot) log at most one line per 10 s each.
	sampledLog zerolog.Logger
	maxBatch   int
	minFree    int64 // Config.MinFreeBytes as given: 0 default, <0 off
	stallAfter time.Duration
	onCommit   func() // Config.OnCommit; nil: none

	plock *processLock // held from Open until Close

	wdb  *sql.DB   // one connection, owned by the writer goroutine
	conn *sql.Conn // the write connection itself
	// wlock queues write transactions across processes (see writelock.go).
	wlock *writeLock
	rdb   *sql.DB // read pool; never queues behind the writer (WAL)

	ins, findOp *sql.Stmt // prepared on conn
	putSnap     *sql.Stmt // prepared on conn

	qEvents, qHead, qFindOp, qSince, qDocs, qSnap, qHealth *sql.Stmt // prepared on rdb

	// q is the queue the writer drains, and the writer's counters
	// (writequeue.go); it refuses every write of a read-only Store.
	q          *WriteQueue
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	diskFull atomic.Int64 // batches refused for the disk's reserve

	probe probeState // Health's reads (health.go)

	// the checkpointer (checkpoint.go); ckdb nil when SQLite checkpoints
	ckdb           *sql.DB
	ckStop, ckDone chan struct{}
	checkpoints    atomic.Int64
}

// dsn builds a file: URI. Only the characters SQLite's URI parser treats
// specially are escaped, so relative and absolute paths both work.
func dsn(path string, busy time.Duration, extra string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	// go-sqlite3 defaults to NORMAL in WAL mode, which may lose the last
	// commits on power failure; acks promise durability, so FULL.
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	return "file:" + esc + "?" + q.Encode() + extra
}

// Open opens (creating if needed) the log at path, a file path whose
// directory must exist. It migrates the schema, verifies WAL mode and
// synchronous=FULL on the write connection and starts the writer.
func Open(path string, cfg Config) (*Store, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = defaultMaxBatch
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = defaultBusyTimeout
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = defaultMaxQueueBytes
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = defaultStallAfter
	}
	log := cfg.Logger.With().Str("component", "eventlog").Logger()
	s := &Store{
		file:       path,
		log:        log,
		sampledLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second}),
		maxBatch:   cfg.MaxBatch,
		minFree:    cfg.MinFreeBytes,
		stallAfter: cfg.StallAfter,
		onCommit:   cfg.OnCommit,
		q: NewWriteQueue(WriteQueueConfig{
			Slots: queueSize, MaxBatch: cfg.MaxBatch, MaxBytes: cfg.MaxQueueBytes, ReadOnly: cfg.ReadOnly,
			Behind: "the disk", Log: log,
			DropLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second}),
		}),
		writerDone: make(chan struct{}),
	}
	if cfg.ReadOnly {
		return s.openReadOnly(path, cfg.BusyTimeout)
	}
	// The process lock comes first: a refused Open must not touch the
	// database (no migration behind another server's back).
	var err error
	if s.plock, err = acquireProcessLock(path, cfg.Shared); err != nil {
		return nil, fmt.Errorf("open event log %q: %w", path, err)
	}
	if err := s.open(path, cfg.BusyTimeout); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open event log %q: %w", path, err)
	}
	wl, err := openWriteLock(path)
	if err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open event log %q: %w", path, err)
	}
	s.wlock = wl
	if cfg.CheckpointEvery >= 0 {
		every := cfg.CheckpointEvery
		if every == 0 {
			every = defaultCheckpointEvery
		}
		if err := s.startCheckpointer(path, cfg.BusyTimeout, every); err != nil {
			s.closeDBs()
			return nil, fmt.Errorf("open event log %q: checkpointer: %w", path, err)
		}
	}
	go s.run()
	return s, nil
}

func (s *Store) open(path string, busy time.Duration) error {
	ctx := context.Background()
	var err error
	// secure_delete zeroes the pages a purge frees (the only rows ever
	// deleted), so an erased document does not linger in free pages.
	if s.wdb, err = sql.Open("sqlite3", dsn(path, busy, "&_secure_delete=true")); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if s.conn, err = s.wdb.Conn(ctx); err != nil {
		return err
	}
	if err := migrate(ctx, s.conn); err != nil {
		return err
	}
	mode, sync, err := readPragmas(ctx, s.conn)
	if err != nil {
		return err
	}
	if mode != "wal" || sync != 2 {
		return fmt.Errorf("pragmas: journal_mode=%s synchronous=%d, want wal and 2 (FULL)", mode, sync)
	}
	prep := func(db interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	}, q string, dst **sql.Stmt) {
		if err == nil {
			*dst, err = db.PrepareContext(ctx, q)
		}
	}
	prep(s.conn, sqlInsert, &s.ins)
	prep(s.conn, sqlFindOp, &s.findOp)
	prep(s.conn, sqlPutSnapshot, &s.putSnap)

	if err != nil {
		return err
	}
	// Readers get the same DSN plus query_only, so a bug can never write
	// through the pool and bypass the writer's ordering.
	return s.openReads(path, busy, "&_query_only=1")
}

// openReads opens the read pool with extra DSN parameters and prepares
// the reads on it.
func (s *Store) openReads(path string, busy time.Duration, extra string) error {
	var err error
	if s.rdb, err = sql.Open("sqlite3", dsn(path, busy, extra)); err != nil {
		return err
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n) // keep prepared statements warm
	for _, p := range []struct {
		q   string
		dst **sql.Stmt
	}{{sqlEvents, &s.qEvents}, {sqlHead, &s.qHead}, {sqlFindOp, &s.qFindOp}, {sqlSince, &s.qSince},
		{sqlDocs, &s.qDocs}, {sqlLatestSnapshot, &s.qSnap}, {sqlHealth, &s.qHealth}} {
		if *p.dst, err = s.rdb.PrepareContext(context.Background(), p.q); err != nil {
			return err
		}
	}
	return nil
}

// openReadOnly opens only the read pool, on a file that must exist at
// this build's storage version.
func (s *Store) openReadOnly(path string, busy time.Duration) (*Store, error) {
	s.minFree = -1      // no writes: no reserve to keep
	close(s.writerDone) // there is no writer: appends after
	s.q.noWriter()      // Close are answered at once
	fail := func(err error) (*Store, error) {
		s.closeDBs()
		return nil, fmt.Errorf("open event log %q read-only: %w", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		return fail(err)
	}
	if err := s.openReads(path, busy, "&mode=ro&_query_only=1"); err != nil {
		return fail(err)
	}
	var v int
	if err := s.rdb.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&v); err != nil {
		return fail(err)
	}
	if v != storageVersion {
		return fail(fmt.Errorf("file has storage version %d, this build reads %d; open it read-write once to migrate", v, storageVersion))
	}
	return s, nil
}

func readPragmas(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (string, int, error) {
	var mode string
	var sync int
	if err := q.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", 0, fmt.Errorf("pragmas: journal_mode: %w", err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return "", 0, fmt.Errorf("pragmas: synchronous: %w", err)
	}
	return strings.ToLower(mode), sync, nil
}

// Pragmas reads journal_mode and synchronous back from the write
// connection (the one whose commits must be durable). It runs on the writer
// goroutine between transactions. synchronous is 2 for FULL.
func (s *Store) Pragmas(ctx context.Context) (journalMode string, synchronous int, err error) {
	type res struct {
		mode string
		sync int
		err  error
	}
	ch := make(chan res, 1)
	call := func() { // on the writer, the only user of s.conn
		m, y, err := readPragmas(context.Background(), s.conn)
		ch <- res{m, y, err}
	}
	if err := s.q.call(ctx, call); err != nil {
		return "", 0, fmt.Errorf("pragmas: %w", err)
	}
	select {
	case r := <-ch:
		return r.mode, r.sync, r.err
	case <-ctx.Done():
		return "", 0, fmt.Errorf("pragmas: %w", ctx.Err())
	}
}

// Stats returns a snapshot of the writer's counters and gauges.
func (s *Store) Stats() Stats {
	st := s.q.Stats()
	st.DiskFull = s.diskFull.Load()
	return st
}

// Close stops accepting work (later calls get ErrClosed), commits
// everything already queued, answers every caller and closes the database.
// It is idempotent; it must not be called from a done callback.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.q.Close()
		<-s.writerDone
		s.stopCheckpointer()
		s.stopProbes()
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = fmt.Errorf("close event log: %w", err)
		}
	}
	if s.wlock != nil {
		keep(s.wlock.close())
	}
	for _, st := range []*sql.Stmt{s.ins, s.findOp, s.putSnap, s.qEvents, s.qHead, s.qFindOp, s.qSince, s.qDocs, s.qSnap, s.qHealth} {
		if st != nil {
			keep(st.Close())
		}
	}
	if s.conn != nil {
		keep(s.conn.Close())
	}
	if s.wdb != nil {
		keep(s.wdb.Close())
	}
	if s.rdb != nil {
		keep(s.rdb.Close())
	}
	if s.ckdb != nil {
		keep(s.ckdb.Close())
	}
	if s.plock != nil { // last: the database is closed
		keep(s.plock.release())
		s.plock = nil
	}
	return first
}

// path is the file the store was opened on (tests open it directly).
func (s *Store) path() string { return s.file }
