package eventlog

import (
	"context"
	"fmt"
	"time"
)

// enqueue hands r to the writer. It reports false after Close. It blocks
// only while the queue is full, i.e. for at most about one commit.
func (s *Store) enqueue(r request) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return false
	}
	s.queue <- r
	return true
}

// AppendAsync queues e for the next group commit and returns without
// waiting for it. done is called exactly once with the stored event (Seq
// and Time set) or an error (*ConflictError, *DuplicateError, ErrUnavailable,
// ErrClosed, ErrInvalid, all wrapped). done runs on the writer goroutine
// (or, for an event rejected before queueing, on the caller's goroutine) and
// must not block or call back into the Store, since the writer is waiting.
// Appends made by one goroutine commit, and their callbacks run, in call
// order.
func (s *Store) AppendAsync(e Event, done func(Event, error)) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := validEvent(e); err != nil {
		done(e, err)
		return
	}
	if s.enqueue(request{kind: kindAppend, ev: e, done: done}) {
		return
	}
	s.lateMu.Lock()
	if !s.writerExited {
		s.late = append(s.late, request{kind: kindAppend, ev: e, done: done})
		s.lateMu.Unlock()
		return
	}
	s.lateMu.Unlock()
	done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ErrClosed))
}

func validEvent(e Event) error {
	if e.Doc == "" || e.OpID == "" || e.Version < 0 {
		return fmt.Errorf("append doc %q version %d op %q: %w", e.Doc, e.Version, e.OpID, ErrInvalid)
	}
	return nil
}

type appendResult struct {
	ev  Event
	err error
}

// Append stores e and returns it with Seq set once it is durably committed.
// If ctx ends first, the returned error wraps ctx.Err() and the append may
// still commit: retry with the same OpID and treat *DuplicateError as
// success.
func (s *Store) Append(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err)
	}
	ch := make(chan appendResult, 1)
	s.AppendAsync(e, func(ev Event, err error) { ch <- appendResult{ev, err} })
	select {
	case r := <-ch:
		return r.ev, r.err
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ctx.Err())
	}
}

// PutSnapshotAsync queues snap to be written (INSERT OR REPLACE) in the
// writer's next transaction. Errors are only logged: a lost snapshot costs
// replay time, never data, because events are the source of truth.
func (s *Store) PutSnapshotAsync(snap Snapshot) {
	s.putSnapshot(snap, nil)
}

// PutSnapshot writes snap durably and waits for the commit.
func (s *Store) PutSnapshot(ctx context.Context, snap Snapshot) error {
	ch := make(chan error, 1)
	s.putSnapshot(snap, func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ctx.Err())
	}
}

func (s *Store) putSnapshot(snap Snapshot, done func(error)) {
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	var err error
	switch {
	case snap.Doc == "" || snap.Version < 0:
		err = fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ErrInvalid)
	case !s.enqueue(request{kind: kindSnapshot, snap: snap, snapDone: done}):
		err = fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ErrClosed)
	default:
		return
	}
	if done != nil {
		done(err)
	} else {
		s.log.Warn().Err(err).Msg("snapshot dropped")
	}
}
