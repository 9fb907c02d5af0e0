package postgres

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
)

// Config tunes a Store. The zero value is usable; Open sets the defaults.
type Config struct {
	MaxBatch int // requests per transaction; 0 means 1024
	// MaxQueueBytes bounds the payload bytes of requests accepted and not
	// yet answered, as eventlog.Config.MaxQueueBytes; 0 means 64 MiB.
	MaxQueueBytes int64
	// StallAfter is how long one write transaction may run before Health
	// reports the writer stuck; 0 means 5s.
	StallAfter time.Duration
	// ConnectTimeout bounds establishing a connection; 0 means 2s. A
	// PostgreSQL that is down refuses at once; one that is unreachable
	// (a partition) would otherwise hang the writer in connect.
	ConnectTimeout time.Duration
	// WriteTimeout bounds one batch transaction, from BEGIN to COMMIT;
	// 0 means 10s, twice StallAfter, so Health reports a stuck writer
	// before its batch fails. A batch that times out during COMMIT may
	// have committed: its appends are answered ErrUnavailable, and a retry
	// with the same op id is answered *DuplicateError.
	WriteTimeout time.Duration
	// ReadTimeout bounds each read (on top of the caller's context);
	// 0 means 10s.
	ReadTimeout time.Duration
	// MigrateTimeout bounds Open's migrations of an older database (on top
	// of the caller's context); 0 means 30m. A migration can rebuild an
	// index of the events table while holding its lock (storage version 2:
	// 1.4 s per million events on the 2-core test VM), so it gets far more
	// than one write's time; one that times out rolls back whole, and the
	// next Open starts it again.
	MigrateTimeout time.Duration
	// MaxConns is the read pool's size (the writer and the session hold
	// one more each); 0 means max(4, 2×GOMAXPROCS).
	MaxConns int32
	// Shared takes the store's process lock shared instead of exclusive,
	// as eventlog.Config.Shared: set it in every process that serves the
	// database together with others, coordinating through leases. The
	// zero value refuses to open a database another Store holds.
	Shared bool
	// OnCommit, if set, is called after every transaction that stored at
	// least one event, by this Store's writer or — through LISTEN/NOTIFY —
	// by any other process's. It must return at once and not call into
	// the Store.
	OnCommit func()
	Logger   zerolog.Logger // zero value: disabled
	// ReadOnly opens the database for reading beside whatever servers use
	// it, as eventlog.Config.ReadOnly: no process lock, no migration
	// (the schema must be there), no OnCommit; every write is refused
	// with eventlog.ErrReadOnly. For tools such as the server's export.
	ReadOnly bool
}

const (
	defaultMaxBatch       = 1024
	defaultMaxQueueBytes  = 64 << 20
	defaultStallAfter     = 5 * time.Second
	defaultConnectTimeout = 2 * time.Second
	defaultWriteTimeout   = 10 * time.Second
	defaultReadTimeout    = 10 * time.Second
	defaultMigrateTimeout = 30 * time.Minute
	// queueSize is 4× the default batch, as in the SQLite store.
	queueSize = 4096
)

// Store is an append-only, durable event log in a PostgreSQL database.
// All methods are safe for concurrent use.
type Store struct {
	log          zerolog.Logger
	maxBatch     int
	stallAfter   time.Duration
	writeTimeout time.Duration
	readTimeout  time.Duration
	onCommit     func()
	exclusive    bool // the process lock is held exclusively: check it in every batch

	pool    *pgxpool.Pool // reads and the writer's transactions
	session *session      // process lock and LISTEN (session.go)

	// q is the queue the writer drains, and the writer's counters; the
	// queue refuses every write of a read-only Store.
	q          *eventlog.WriteQueue
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

var _ eventlog.Log = (*Store)(nil)

// setDefaults replaces every zero (or negative) setting by its default.
func (c *Config) setDefaults() {
	if c.MaxBatch <= 0 {
		c.MaxBatch = defaultMaxBatch
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = defaultMaxQueueBytes
	}
	if c.MaxConns <= 0 {
		c.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.StallAfter, defaultStallAfter}, {&c.ConnectTimeout, defaultConnectTimeout},
		{&c.WriteTimeout, defaultWriteTimeout}, {&c.ReadTimeout, defaultReadTimeout},
		{&c.MigrateTimeout, defaultMigrateTimeout},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
}

// Open connects to the database at url (postgres://user@host:port/db),
// takes the process lock (exclusive unless cfg.Shared), migrates the
// schema and starts the writer. A database that does not answer within
// ConnectTimeout fails Open with an error wrapping eventlog.ErrUnavailable;
// a lock held by another Store, with *eventlog.LockedError.
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	cfg.setDefaults()
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	pcfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	pcfg.MaxConns = cfg.MaxConns + 1 // + the writer's
	// Connections of a restarted server are dead: check an idle one
	// before use rather than fail the first query on it.
	pcfg.HealthCheckPeriod = time.Second
	log := cfg.Logger.With().Str("component", "eventlog").Str("store", "postgres").Logger()
	s := &Store{
		log:          log,
		maxBatch:     cfg.MaxBatch,
		stallAfter:   cfg.StallAfter,
		writeTimeout: cfg.WriteTimeout,
		readTimeout:  cfg.ReadTimeout,
		onCommit:     cfg.OnCommit,
		exclusive:    !cfg.Shared && !cfg.ReadOnly,
		q: eventlog.NewWriteQueue(eventlog.WriteQueueConfig{
			Slots: queueSize, MaxBatch: cfg.MaxBatch, MaxBytes: cfg.MaxQueueBytes, ReadOnly: cfg.ReadOnly,
			Behind: "the database", FormatBytes: func(n int64) string { return fmt.Sprintf("%d bytes", n) },
			ValidEvent: validEvent, ValidSnapshot: validSnapshot, MetaBytes: true,
			Log: log, DropLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second}),
		}),
		writerDone: make(chan struct{}),
	}
	fail := func(err error) (*Store, error) {
		if s.session != nil {
			s.session.close()
		}
		if s.pool != nil {
			s.pool.Close()
		}
		return nil, fmt.Errorf("open event log %s: %w", redact(pcfg.ConnConfig.Host, pcfg.ConnConfig.Database), classify(err))
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return fail(err)
	}
	octx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+cfg.WriteTimeout)
	defer cancel()
	if cfg.ReadOnly {
		if err := s.pool.Ping(octx); err != nil {
			return fail(err)
		}
		go s.run()
		return s, nil
	}
	// The lock comes first: a refused Open must not migrate behind
	// another server's back.
	if s.session, err = openSession(octx, pcfg.ConnConfig.Copy(), cfg.Shared, cfg.OnCommit, log); err != nil {
		return fail(err)
	}
	mctx, mcancel := context.WithTimeout(ctx, cfg.MigrateTimeout)
	defer mcancel()
	if err := migrate(mctx, s.pool, log); err != nil {
		return fail(err)
	}
	go s.run()
	return s, nil
}

// redact names the database without credentials, for error messages.
func redact(host, db string) string { return fmt.Sprintf("%s/%s", host, db) }

// Stats returns the writer's counters and gauges. DiskFull stays 0: the
// database server keeps its own disk.
func (s *Store) Stats() eventlog.Stats { return s.q.Stats() }

// Close stops accepting work (later calls get ErrClosed), commits
// everything already queued, answers every caller, releases the process
// lock and closes the connections. It is idempotent; it must not be
// called from a done callback.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.q.Close()
		<-s.writerDone
		if s.session != nil {
			s.session.close()
		}
		s.pool.Close()
	})
	return s.closeErr
}

func (s *Store) checkOpen(op string) error {
	if s.q.Closed() {
		return fmt.Errorf("%s: %w", op, eventlog.ErrClosed)
	}
	return nil
}
