package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
)

// Log is what the projector reads: the event log (any eventlog.Log) or a
// stand-in for tests and benchmarks.
type Log interface {
	// Since returns up to limit events with seq > afterSeq in seq order.
	Since(ctx context.Context, afterSeq int64, limit int) ([]eventlog.Event, error)
	// LastSeq returns the seq of the last committed event, 0 when none.
	LastSeq(ctx context.Context) (int64, error)
}

// OnError says what a projection does after an event it cannot handle
// (an *EventError from Apply), once the dead letter is recorded.
type OnError int

const (
	// Skip applies the rest of the batch without the event and carries on.
	Skip OnError = iota
	// Stop applies the events before it and stops the projection until a
	// rebuild or a restart; /readyz fails meanwhile.
	Stop
)

// Defaults of the Projector's settings.
const (
	DefaultBatchSize     = 1000
	DefaultPollInterval  = 50 * time.Millisecond
	DefaultRetryInterval = time.Second
	DefaultGather        = 40 * time.Millisecond
)

// ErrUnknownProjection is returned for a name no registered projection has.
var ErrUnknownProjection = errors.New("projection: unknown projection")

// ErrClosed is returned after Close, or before Open for calls that need it.
var ErrClosed = errors.New("projection: projector not open")

var validName = regexp.MustCompile(`^[a-z0-9_]+$`)

// Projector feeds registered projections from the log into their own
// SQLite file. Exported fields are settings: set them before Open.
type Projector struct {
	// BatchSize is the most events applied in one transaction (1000).
	BatchSize int
	// PollInterval is how often the log's head is polled (50 ms); Notify
	// wakes the projector sooner.
	PollInterval time.Duration
	// Gather is how long the projector lets events gather after a wake-up
	// before it reads them (40 ms), so that a busy log is applied in
	// batches of many events rather than one per commit. Each batch costs
	// every projection a transaction, and the search model rewrites each
	// changed document's index row once per batch: woken on every commit
	// of a hot document (200 commits/s), the read models doubled the
	// server's CPU per op and its ack p50 (docs/benchmarks.md). The lag
	// it adds is at most this long. 0 means the default; negative, none.
	Gather time.Duration
	// RetryInterval is the wait before retrying a batch that failed with
	// an error other than an *EventError, or a failed read of the log (1 s).
	RetryInterval time.Duration
	// OnError is what a projection does after a dead letter (Skip).
	OnError OnError
	// Logger receives the projector's logs; each projection logs through a
	// child with a "projection" field. The zero value logs nothing.
	Logger zerolog.Logger

	path string
	log  Log

	runners []*runner
	byName  map[string]*runner

	wdb, rdb *sql.DB
	head     atomic.Int64 // last LastSeq seen by the loop
	wake     chan struct{}
	reqs     chan request
	cancel   context.CancelFunc
	done     chan struct{}
	open     atomic.Bool
	closeMu  sync.Mutex
	closed   bool
}

// New returns a projector for the read-model database at path (created if
// needed; its directory must exist), fed from log, with default settings.
func New(path string, log Log) *Projector {
	return &Projector{
		BatchSize:     DefaultBatchSize,
		PollInterval:  DefaultPollInterval,
		RetryInterval: DefaultRetryInterval,
		path:          path,
		log:           log,
		byName:        map[string]*runner{},
		wake:          make(chan struct{}, 1),
		reqs:          make(chan request),
		done:          make(chan struct{}),
	}
}

// Register adds a projection. It must be called before Open; names must
// be unique and match [a-z0-9_]+.
func (pr *Projector) Register(p Projection) error {
	name := p.Name()
	switch {
	case pr.open.Load() || pr.wdb != nil:
		return fmt.Errorf("projection: register %q: projector already open", name)
	case !validName.MatchString(name):
		return fmt.Errorf("projection: register %q: name must match [a-z0-9_]+", name)
	case pr.byName[name] != nil:
		return fmt.Errorf("projection: register %q: already registered", name)
	}
	r := &runner{p: p}
	pr.runners = append(pr.runners, r)
	pr.byName[name] = r
	return nil
}

// Notify wakes the projector to read the log now. It never blocks: the
// event log's OnCommit hook calls it after each commit.
func (pr *Projector) Notify() {
	select {
	case pr.wake <- struct{}{}:
	default:
	}
}

// Open opens the read-model database, brings every registered
// projection's checkpoint and tables up (creating them, or starting a
// rebuild when its Version changed) and starts following the log in the
// background.
func (pr *Projector) Open(ctx context.Context) error {
	if pr.wdb != nil {
		return errors.New("projection: projector already opened")
	}
	pr.defaults()
	if err := pr.openDBs(ctx); err != nil {
		return err
	}
	for _, r := range pr.runners {
		r.log = pr.Logger.With().Str("projection", r.p.Name()).Logger()
		if err := pr.load(ctx, r); err != nil {
			pr.abandonDBs()
			return fmt.Errorf("projection: open %q: %w", r.p.Name(), err)
		}
	}
	if head, err := pr.log.LastSeq(ctx); err == nil {
		pr.head.Store(head)
	}
	lctx, cancel := context.WithCancel(context.Background())
	pr.cancel = cancel
	pr.open.Store(true)
	go pr.loop(lctx)
	return nil
}

func (pr *Projector) defaults() {
	if pr.BatchSize <= 0 {
		pr.BatchSize = DefaultBatchSize
	}
	if pr.Gather == 0 {
		pr.Gather = DefaultGather
	}
	if pr.PollInterval <= 0 {
		pr.PollInterval = DefaultPollInterval
	}
	if pr.RetryInterval <= 0 {
		pr.RetryInterval = DefaultRetryInterval
	}
}

// Close stops the projector, waiting for the batch in progress to commit
// or roll back, and closes the database. It is safe to call twice.
func (pr *Projector) Close() error {
	pr.closeMu.Lock()
	defer pr.closeMu.Unlock()
	if pr.closed || pr.wdb == nil {
		pr.closed = true
		return nil
	}
	pr.closed = true
	pr.open.Store(false)
	pr.cancel()
	<-pr.done
	return pr.closeDBs()
}
