package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
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
	// queueSize is 4× the default batch, as in the SQLite store.
	queueSize = 4096
)

// Store is an append-only, durable event log in a PostgreSQL database.
// All methods are safe for concurrent use.
type Store struct {
	log, dropLog  zerolog.Logger
	maxBatch      int
	maxQueueBytes int64
	stallAfter    time.Duration
	writeTimeout  time.Duration
	readTimeout   time.Duration
	onCommit      func()
	exclusive     bool // the process lock is held exclusively: check it in every batch
	readOnly      bool // Config.ReadOnly: no session, every write refused

	pool    *pgxpool.Pool // reads and the writer's transactions
	session *session      // process lock and LISTEN (session.go)

	mu     sync.RWMutex // orders enqueues against Close, as in eventlog
	closed atomic.Bool
	queue  chan request

	lateMu       sync.Mutex
	late         []request
	writerExited bool

	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	commits, events, conflicts, duplicates, failures, maxSeen atomic.Int64
	busy, snapsDropped                                        atomic.Int64
	queuedAppends, queuedBytes                                atomic.Int64

	roomWaiters atomic.Int64
	roomMu      sync.Mutex
	roomCh      chan struct{}

	batchStart, lastCommit atomic.Int64
	lastFailure            atomic.Pointer[failure]
}

type failure struct {
	err error
	at  time.Time
}

var _ eventlog.Log = (*Store)(nil)

// Open connects to the database at url (postgres://user@host:port/db),
// takes the process lock (exclusive unless cfg.Shared), migrates the
// schema and starts the writer. A database that does not answer within
// ConnectTimeout fails Open with an error wrapping eventlog.ErrUnavailable;
// a lock held by another Store, with *eventlog.LockedError.
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = defaultMaxBatch
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = defaultMaxQueueBytes
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = defaultStallAfter
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = defaultReadTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
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
		log:           log,
		dropLog:       log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second}),
		maxBatch:      cfg.MaxBatch,
		maxQueueBytes: cfg.MaxQueueBytes,
		stallAfter:    cfg.StallAfter,
		writeTimeout:  cfg.WriteTimeout,
		readTimeout:   cfg.ReadTimeout,
		onCommit:      cfg.OnCommit,
		exclusive:     !cfg.Shared && !cfg.ReadOnly,
		readOnly:      cfg.ReadOnly,
		queue:         make(chan request, queueSize),
		roomCh:        make(chan struct{}),
		writerDone:    make(chan struct{}),
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
	if err := migrate(octx, s.pool); err != nil {
		return fail(err)
	}
	go s.run()
	return s, nil
}

// redact names the database without credentials, for error messages.
func redact(host, db string) string { return fmt.Sprintf("%s/%s", host, db) }

// Stats returns the writer's counters and gauges. DiskFull stays 0: the
// database server keeps its own disk.
func (s *Store) Stats() eventlog.Stats {
	st := eventlog.Stats{
		Commits:          s.commits.Load(),
		Events:           s.events.Load(),
		Conflicts:        s.conflicts.Load(),
		Duplicates:       s.duplicates.Load(),
		Failures:         s.failures.Load(),
		MaxBatch:         s.maxSeen.Load(),
		Busy:             s.busy.Load(),
		SnapshotsDropped: s.snapsDropped.Load(),
		QueuedAppends:    s.queuedAppends.Load(),
		QueuedBytes:      s.queuedBytes.Load(),
		BatchAge:         s.batchAge(time.Now()),
	}
	if ns := s.lastCommit.Load(); ns != 0 {
		st.LastCommit = time.Unix(0, ns)
	}
	return st
}

func (s *Store) batchAge(now time.Time) time.Duration {
	ns := s.batchStart.Load()
	if ns == 0 {
		return 0
	}
	return max(now.Sub(time.Unix(0, ns)), 0)
}

// Close stops accepting work (later calls get ErrClosed), commits
// everything already queued, answers every caller, releases the process
// lock and closes the connections. It is idempotent; it must not be
// called from a done callback.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		close(s.queue)
		s.mu.Unlock()
		<-s.writerDone
		if s.session != nil {
			s.session.close()
		}
		s.pool.Close()
	})
	return s.closeErr
}

func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", op, eventlog.ErrClosed)
	}
	return nil
}

// enqueueWait is enqueue that waits for room until ctx ends.
func (s *Store) enqueueWait(ctx context.Context, r request) error {
	for {
		err := s.enqueue(r)
		if !errors.Is(err, eventlog.ErrBusy) {
			return err
		}
		s.roomWaiters.Add(1)
		s.roomMu.Lock()
		room := s.roomCh
		s.roomMu.Unlock()
		if err = s.enqueue(r); !errors.Is(err, eventlog.ErrBusy) {
			s.roomWaiters.Add(-1)
			return err
		}
		select {
		case <-room:
			s.roomWaiters.Add(-1)
		case <-ctx.Done():
			s.roomWaiters.Add(-1)
			return ctx.Err()
		}
	}
}

func (s *Store) wakeRoomWaiters() {
	if s.roomWaiters.Load() == 0 {
		return
	}
	s.roomMu.Lock()
	close(s.roomCh)
	s.roomCh = make(chan struct{})
	s.roomMu.Unlock()
}
