package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/eventlog"
)

type requestKind uint8

const (
	kindAppend requestKind = iota
	kindSnapshot
)

// request is one unit of work for the writer, passed by value.
type request struct {
	kind     requestKind
	ev       eventlog.Event
	done     func(eventlog.Event, error)
	snap     eventlog.Snapshot
	snapDone func(error)
	size     int64 // payload bytes, counted in queuedBytes until answered
}

type appendResult struct {
	ev  eventlog.Event
	err error
}

// enqueue hands r to the writer without ever waiting (see the SQLite
// store's enqueue): nil, ErrClosed, or an error wrapping ErrBusy.
func (s *Store) enqueue(r request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return eventlog.ErrClosed
	}
	if s.readOnly {
		return eventlog.ErrReadOnly
	}
	if n := s.queuedBytes.Add(r.size); n > s.maxQueueBytes && n != r.size {
		s.queuedBytes.Add(-r.size)
		return fmt.Errorf("%w: %d bytes of writes queued, the database is not keeping up", eventlog.ErrBusy, n-r.size)
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
		return fmt.Errorf("%w: %d writes queued, the database is not keeping up", eventlog.ErrBusy, queueSize)
	}
}

// AppendAsync queues e for the next group commit and returns without
// waiting, ever; done is called exactly once, as with the SQLite store:
// on the writer after COMMIT, or at once on the caller's goroutine for an
// append refused at the door (ErrInvalid, ErrBusy).
func (s *Store) AppendAsync(e eventlog.Event, done func(eventlog.Event, error)) {
	r, err := newAppend(e, done)
	if err == nil {
		err = s.enqueue(r)
	}
	s.settle(r, err)
}

// text reports whether v can be stored in a PostgreSQL text column: valid
// UTF-8 without NUL. Checked at the door, because a row PostgreSQL
// rejects would fail its whole batch's statement.
func text(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

func newAppend(e eventlog.Event, done func(eventlog.Event, error)) (request, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r := request{kind: kindAppend, ev: e, done: done,
		size: int64(len(e.Op) + len(e.Doc) + len(e.OpID) + len(e.Author) + len(e.Prev) + len(e.Meta))}
	if e.Doc == "" || e.OpID == "" || e.Version < 0 || !e.Kind.Valid() ||
		!text(e.Doc) || !text(e.OpID) || !text(e.Author) || !text(e.Prev) {
		return r, fmt.Errorf("append doc %q version %d op %q: %w", e.Doc, e.Version, e.OpID, eventlog.ErrInvalid)
	}
	return r, nil
}

// settle answers an append that enqueue did not accept.
func (s *Store) settle(r request, err error) {
	e := r.ev
	switch {
	case err == nil:
		return
	case errors.Is(err, eventlog.ErrClosed):
		s.lateMu.Lock()
		if !s.writerExited {
			s.late = append(s.late, r)
			s.lateMu.Unlock()
			return
		}
		s.lateMu.Unlock()
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, eventlog.ErrClosed))
	case errors.Is(err, eventlog.ErrBusy):
		s.busy.Add(1)
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err))
	default:
		r.done(e, err)
	}
}

// Append stores e and returns it with Seq set once it is committed. It
// waits for room in a full queue (bounded by ctx) instead of answering
// ErrBusy. If ctx ends first the append may still commit: retry with the
// same OpID and treat *DuplicateError as success.
func (s *Store) Append(ctx context.Context, e eventlog.Event) (eventlog.Event, error) {
	if err := ctx.Err(); err != nil {
		return eventlog.Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err)
	}
	ch := make(chan appendResult, 1)
	r, err := newAppend(e, func(ev eventlog.Event, err error) { ch <- appendResult{ev, err} })
	if err == nil {
		err = s.enqueueWait(ctx, r)
	}
	if isContextErr(err) {
		return eventlog.Event{}, fmt.Errorf("append doc %q version %d: waiting for room in the queue: %w", e.Doc, e.Version, err)
	}
	s.settle(r, err)
	select {
	case r := <-ch:
		return r.ev, r.err
	case <-ctx.Done():
		return eventlog.Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ctx.Err())
	}
}

// PutSnapshotAsync queues snap without ever waiting; a full queue drops it
// (Stats.SnapshotsDropped): a lost snapshot costs replay time, not data.
func (s *Store) PutSnapshotAsync(snap eventlog.Snapshot) {
	r, err := newSnapshot(snap, nil)
	if err == nil {
		if err = s.enqueue(r); errors.Is(err, eventlog.ErrBusy) {
			n := s.snapsDropped.Add(1)
			s.dropLog.Warn().Err(err).Str("doc", snap.Doc).Int64("version", snap.Version).
				Int64("dropped_total", n).Msg("snapshot dropped: the event log's queue is full")
			return
		}
	}
	s.settleSnapshot(r, err)
}

// PutSnapshot writes snap and waits for the commit, bounded by ctx.
func (s *Store) PutSnapshot(ctx context.Context, snap eventlog.Snapshot) error {
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

func newSnapshot(snap eventlog.Snapshot, done func(error)) (request, error) {
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	r := request{kind: kindSnapshot, snap: snap, snapDone: done, size: int64(len(snap.Doc) + len(snap.Text))}
	if snap.Doc == "" || snap.Version < 0 || !text(snap.Doc) || !text(snap.Text) {
		return r, fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, eventlog.ErrInvalid)
	}
	return r, nil
}

func (s *Store) settleSnapshot(r request, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, eventlog.ErrInvalid) {
		err = fmt.Errorf("put snapshot doc %q version %d: %w", r.snap.Doc, r.snap.Version, err)
	}
	if r.snapDone != nil {
		r.snapDone(err)
	} else {
		s.log.Warn().Err(err).Msg("snapshot dropped")
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
