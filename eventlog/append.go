package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// enqueue hands r to the writer without ever waiting: the hub calls
// AppendAsync on a document's own goroutine, and a writer stuck in write
// or fsync must not freeze the document and every client in it. It returns
// nil, ErrClosed after Close, ErrReadOnly (Config.ReadOnly), or an error wrapping ErrBusy when the queue
// has no slot or r's bytes would pass MaxQueueBytes.
func (s *Store) enqueue(r request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if s.readOnly {
		return ErrReadOnly
	}
	// Reserve the bytes first, so that concurrent callers cannot all pass
	// the check; a request alone in the queue is let through whatever its
	// size, or it could never be stored.
	if n := s.queuedBytes.Add(r.size); n > s.maxQueueBytes && n != r.size {
		s.queuedBytes.Add(-r.size)
		return fmt.Errorf("%w: %s of writes queued, the disk is not keeping up", ErrBusy, formatBytes(n-r.size))
	}
	if r.kind == kindAppend {
		s.queuedAppends.Add(1)
	}
	select {
	case s.queue <- r:
		return nil
	default:
		s.queuedBytes.Add(-r.size)
		if r.kind == kindAppend {
			s.queuedAppends.Add(-1)
		}
		return fmt.Errorf("%w: %d writes queued, the disk is not keeping up", ErrBusy, queueSize)
	}
}

// AppendAsync queues e for the next group commit and returns without
// waiting, ever. done is called exactly once with the stored event (Seq
// and Time set) or an error (*ConflictError, *DuplicateError,
// ErrUnavailable, ErrDiskFull, ErrBusy, ErrClosed, ErrInvalid, all
// wrapped). done runs on the writer goroutine and must not block or call
// back into the Store, since the writer is waiting; an append refused at
// the door (ErrInvalid, ErrBusy: the queue is full, see
// Config.MaxQueueBytes) is answered at once on the caller's goroutine,
// before AppendAsync returns. Queued appends of one goroutine commit, and
// their callbacks run, in call order; a refused one is answered before
// earlier ones still queued.
func (s *Store) AppendAsync(e Event, done func(Event, error)) {
	r, err := newAppend(e, done)
	if err == nil {
		err = s.enqueue(r)
	}
	s.settle(r, err)
}

// newAppend validates e and builds its request.
func newAppend(e Event, done func(Event, error)) (request, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r := request{kind: kindAppend, ev: e, done: done,
		size: int64(len(e.Op) + len(e.Doc) + len(e.OpID) + len(e.Author) + len(e.Prev))}
	if e.Doc == "" || e.OpID == "" || e.Version < 0 {
		return r, fmt.Errorf("append doc %q version %d op %q: %w", e.Doc, e.Version, e.OpID, ErrInvalid)
	}
	return r, nil
}

// settle answers an append that enqueue did not accept. An append that
// raced with Close joins the late list while the writer still runs, so it
// is answered after everything queued before Close.
func (s *Store) settle(r request, err error) {
	e := r.ev
	switch {
	case err == nil:
		return
	case errors.Is(err, ErrClosed):
		s.lateMu.Lock()
		if !s.writerExited {
			s.late = append(s.late, r)
			s.lateMu.Unlock()
			return
		}
		s.lateMu.Unlock()
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ErrClosed))
	case errors.Is(err, ErrBusy):
		s.busy.Add(1)
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err))
	case errors.Is(err, ErrReadOnly):
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err))
	default:
		r.done(e, err)
	}
}

type appendResult struct {
	ev  Event
	err error
}

// Append stores e and returns it with Seq set once it is durably committed.
// Unlike AppendAsync it waits for room in a full queue (bounded by ctx)
// instead of answering ErrBusy. If ctx ends first, the returned error wraps
// ctx.Err() and the append may still commit: retry with the same OpID and
// treat *DuplicateError as success.
func (s *Store) Append(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err)
	}
	ch := make(chan appendResult, 1)
	r, err := newAppend(e, func(ev Event, err error) { ch <- appendResult{ev, err} })
	if err == nil {
		err = s.enqueueWait(ctx, r)
	}
	if isContextErr(err) {
		return Event{}, fmt.Errorf("append doc %q version %d: waiting for room in the queue: %w", e.Doc, e.Version, err)
	}
	s.settle(r, err)
	select {
	case r := <-ch:
		return r.ev, r.err
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ctx.Err())
	}
}

// PutSnapshotAsync queues snap to be written (INSERT OR REPLACE) in the
// writer's next transaction, without ever waiting. Errors are only logged,
// and a snapshot that finds the queue full is dropped (counted in
// Stats.SnapshotsDropped, logged at most once per 10 s): a lost snapshot
// costs replay time, never data, because events are the source of truth.
func (s *Store) PutSnapshotAsync(snap Snapshot) {
	r, err := newSnapshot(snap, nil)
	if err == nil {
		if err = s.enqueue(r); errors.Is(err, ErrBusy) {
			n := s.snapsDropped.Add(1)
			s.dropLog.Warn().Err(err).Str("doc", snap.Doc).Int64("version", snap.Version).
				Int64("dropped_total", n).Msg("snapshot dropped: the event log's queue is full")
			return
		}
	}
	s.settleSnapshot(r, err)
}

// PutSnapshot writes snap durably and waits for the commit; like Append
// it waits for room in a full queue, bounded by ctx.
func (s *Store) PutSnapshot(ctx context.Context, snap Snapshot) error {
	ch := make(chan error, 1)
	r, err := newSnapshot(snap, func(err error) { ch <- err })
	if err == nil {
		err = s.enqueueWait(ctx, r)
	}
	if isContextErr(err) {
		return fmt.Errorf("put snapshot doc %q version %d: waiting for room in the queue: %w", snap.Doc, snap.Version, err)
	}
	s.settleSnapshot(r, err)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ctx.Err())
	}
}

func newSnapshot(snap Snapshot, done func(error)) (request, error) {
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	r := request{kind: kindSnapshot, snap: snap, snapDone: done, size: int64(len(snap.Doc) + len(snap.Text))}
	if snap.Doc == "" || snap.Version < 0 {
		return r, fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ErrInvalid)
	}
	return r, nil
}

// settleSnapshot answers a snapshot that enqueue did not accept.
func (s *Store) settleSnapshot(r request, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("put snapshot doc %q version %d: %w", r.snap.Doc, r.snap.Version, err)
	}
	if r.snapDone != nil {
		r.snapDone(err)
	} else {
		s.log.Warn().Err(err).Msg("snapshot dropped")
	}
}
