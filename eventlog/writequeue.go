package eventlog

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// WriteQueue is the bounded queue between a store's callers and its
// writer goroutine, shared by both stores so that they keep the same
// guarantees by construction: callers are never blocked by the writer
// (AppendAsync answers ErrBusy at once when the queue is full), callbacks
// run in queue order, and Close answers everything queued before it and
// then, with ErrClosed, the appends that raced with it. It also keeps the
// writer's counters, since it sees every request go in and come out.
//
// A store keeps what is its own: how it validates a request beyond the
// common rules, how it commits a batch, and how it maps its errors. Its
// writer goroutine loops on Next, commits, and calls Answer.
//
// The door methods (AppendAsync, Append, PutSnapshotAsync, PutSnapshot,
// Close, Closed, Stats) are safe for concurrent use; the writer's methods
// (Next, Fill, Answer, FailAll, Committed, Failed) are called by the one
// writer goroutine only.
type WriteQueue struct {
	cfg WriteQueueConfig
	// mu orders enqueues against Close: senders hold it shared while they
	// send, Close takes it exclusively before closing ch, so no send ever
	// hits a closed channel and every accepted request precedes close.
	mu     sync.RWMutex
	closed atomic.Bool
	ch     chan WriteRequest

	// late holds appends that arrived after Close while the writer was
	// still answering earlier ones; the writer answers them last, which
	// keeps the per-goroutine callback order even across Close.
	lateMu       sync.Mutex
	late         []WriteRequest
	writerExited bool

	// Blocking calls that found the queue full wait for room on roomCh,
	// which the writer closes and replaces after a batch whenever
	// roomWaiters is non-zero (writequeue_room.go).
	roomWaiters atomic.Int64
	roomMu      sync.Mutex
	roomCh      chan struct{}

	queuedAppends, queuedBytes atomic.Int64 // accepted, not yet answered
	busy, snapsDropped         atomic.Int64

	commits, events, conflicts, duplicates, failures, maxSeen atomic.Int64
	// Written by the writer, read by Health and Stats: when the current
	// batch started (unix ns, 0 when idle), when the last commit ended,
	// and the last failed transaction unless one has committed since.
	batchStart, lastCommit atomic.Int64
	lastFailure            atomic.Pointer[failure]
}

// WriteQueueConfig is what differs between the stores at the door.
type WriteQueueConfig struct {
	Slots    int   // requests the queue holds; past it, ErrBusy
	MaxBatch int   // requests Next and Fill take at most
	MaxBytes int64 // payload bytes accepted and not yet answered (Config.MaxQueueBytes)
	// ReadOnly refuses every write with ErrReadOnly.
	ReadOnly bool
	// Behind names what is not keeping up in ErrBusy messages ("the disk").
	Behind string
	// FormatBytes renders the queued bytes in ErrBusy messages; nil means
	// binary units ("1.5 MiB").
	FormatBytes func(int64) string
	// ValidEvent and ValidSnapshot add the store's own rules to the common
	// ones (non-empty ids, non-negative version); nil adds none.
	ValidEvent    func(Event) bool
	ValidSnapshot func(Snapshot) bool
	// MetaBytes counts Event.Meta in an append's size.
	MetaBytes bool
	// Log reports snapshots not stored; DropLog (sampled) the snapshots a
	// full queue drops.
	Log, DropLog zerolog.Logger
}

// WriteKind is what a WriteRequest asks of the writer.
type WriteKind uint8

// The kinds of requests.
const (
	WriteAppend   WriteKind = iota // store Event
	WriteSnapshot                  // store Snapshot
	WriteCall                      // run a function on the writer between transactions
)

// WriteRequest is one unit of work for the writer. It is passed by value
// through the queue so an append costs no allocation beyond the caller's
// closure.
type WriteRequest struct {
	Kind     WriteKind
	Event    Event    // WriteAppend
	Snapshot Snapshot // WriteSnapshot
	done     func(Event, error)
	snapDone func(error)
	call     func()
	size     int64 // payload bytes, counted in queuedBytes until answered
}

// WriteResult is the outcome of one request of a batch: the stored event
// (Seq set) or its error. Requests that are not appends only use Err.
type WriteResult struct {
	Event Event
	Err   error
}

// NewWriteQueue returns an open, empty queue.
func NewWriteQueue(cfg WriteQueueConfig) *WriteQueue {
	if cfg.FormatBytes == nil {
		cfg.FormatBytes = formatBytes
	}
	return &WriteQueue{cfg: cfg, ch: make(chan WriteRequest, cfg.Slots), roomCh: make(chan struct{})}
}

// noWriter marks a queue that no writer will ever drain (a read-only
// SQLite store): appends after Close are answered at once.
func (q *WriteQueue) noWriter() { q.writerExited = true }

// Closed reports whether Close was called.
func (q *WriteQueue) Closed() bool { return q.closed.Load() }

// Close stops accepting requests (later ones get ErrClosed); the writer
// then drains what was queued, and Next returns false. It waits only for
// senders in enqueue, which never block. Call it once.
func (q *WriteQueue) Close() {
	q.mu.Lock()
	q.closed.Store(true)
	close(q.ch)
	q.mu.Unlock()
}

// enqueue hands r to the writer without ever waiting: the hub calls
// AppendAsync on a document's own goroutine, and a writer stuck in write
// or fsync must not freeze the document and every client in it. It
// returns nil, ErrClosed after Close, ErrReadOnly, or an error wrapping
// ErrBusy when the queue has no slot or r's bytes would pass MaxBytes.
func (q *WriteQueue) enqueue(r WriteRequest) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	if q.cfg.ReadOnly {
		return ErrReadOnly
	}
	// Reserve the bytes first, so that concurrent callers cannot all pass
	// the check; a request alone in the queue is let through whatever its
	// size, or it could never be stored.
	if n := q.queuedBytes.Add(r.size); n > q.cfg.MaxBytes && n != r.size {
		q.queuedBytes.Add(-r.size)
		return fmt.Errorf("%w: %s of writes queued, %s is not keeping up", ErrBusy, q.cfg.FormatBytes(n-r.size), q.cfg.Behind)
	}
	if r.Kind == WriteAppend {
		q.queuedAppends.Add(1)
	}
	select {
	case q.ch <- r:
		return nil
	default:
		q.queuedBytes.Add(-r.size)
		if r.Kind == WriteAppend {
			q.queuedAppends.Add(-1)
		}
		return fmt.Errorf("%w: %d writes queued, %s is not keeping up", ErrBusy, q.cfg.Slots, q.cfg.Behind)
	}
}

// Stats returns the queue's counters and gauges; DiskFull is the store's.
func (q *WriteQueue) Stats() Stats {
	st := Stats{
		Commits:          q.commits.Load(),
		Events:           q.events.Load(),
		Conflicts:        q.conflicts.Load(),
		Duplicates:       q.duplicates.Load(),
		Failures:         q.failures.Load(),
		MaxBatch:         q.maxSeen.Load(),
		Busy:             q.busy.Load(),
		SnapshotsDropped: q.snapsDropped.Load(),
		QueuedAppends:    q.queuedAppends.Load(),
		QueuedBytes:      q.queuedBytes.Load(),
		BatchAge:         q.BatchAge(time.Now()),
	}
	if ns := q.lastCommit.Load(); ns != 0 {
		st.LastCommit = time.Unix(0, ns)
	}
	return st
}

// BatchAge is how long the writer has been on its current batch at now;
// 0 when idle.
func (q *WriteQueue) BatchAge(now time.Time) time.Duration {
	ns := q.batchStart.Load()
	if ns == 0 {
		return 0
	}
	return max(now.Sub(time.Unix(0, ns)), 0)
}

// LastFailure is the last failed write transaction and when it failed,
// or nil if one has committed since (or none failed).
func (q *WriteQueue) LastFailure() (time.Time, error) {
	if f := q.lastFailure.Load(); f != nil {
		return f.at, f.err
	}
	return time.Time{}, nil
}
