package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The callers' side of WriteQueue: the store's write methods delegate
// here, so both stores refuse, wait and answer alike.

// AppendAsync queues e and returns without waiting, ever; done is called
// exactly once, as documented by Log.AppendAsync: on the writer, or at
// once on the caller's goroutine for an append refused at the door.
func (q *WriteQueue) AppendAsync(e Event, done func(Event, error)) {
	r, err := q.newAppend(e, done)
	if err == nil {
		err = q.enqueue(r)
	}
	q.settle(r, err)
}

// Append queues e and waits for its answer, waiting for room in a full
// queue (bounded by ctx) instead of answering ErrBusy.
func (q *WriteQueue) Append(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err)
	}
	ch := make(chan WriteResult, 1)
	r, err := q.newAppend(e, func(ev Event, err error) { ch <- WriteResult{ev, err} })
	if err == nil {
		err = q.enqueueWait(ctx, r)
	}
	if isContextErr(err) {
		return Event{}, fmt.Errorf("append doc %q version %d: waiting for room in the queue: %w", e.Doc, e.Version, err)
	}
	q.settle(r, err)
	select {
	case r := <-ch:
		return r.Event, r.Err
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ctx.Err())
	}
}

// newAppend validates e and builds its request.
func (q *WriteQueue) newAppend(e Event, done func(Event, error)) (WriteRequest, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	size := int64(len(e.Op) + len(e.Doc) + len(e.OpID) + len(e.Author) + len(e.Prev))
	if q.cfg.MetaBytes {
		size += int64(len(e.Meta))
	}
	r := WriteRequest{Kind: WriteAppend, Event: e, done: done, size: size}
	if e.Doc == "" || e.OpID == "" || e.Version < 0 || (q.cfg.ValidEvent != nil && !q.cfg.ValidEvent(e)) {
		return r, fmt.Errorf("append doc %q version %d op %q: %w", e.Doc, e.Version, e.OpID, ErrInvalid)
	}
	return r, nil
}

// settle answers an append that enqueue did not accept. An append that
// raced with Close joins the late list while the writer still runs, so it
// is answered after everything queued before Close.
func (q *WriteQueue) settle(r WriteRequest, err error) {
	e := r.Event
	switch {
	case err == nil:
		return
	case errors.Is(err, ErrClosed):
		q.lateMu.Lock()
		if !q.writerExited {
			q.late = append(q.late, r)
			q.lateMu.Unlock()
			return
		}
		q.lateMu.Unlock()
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, ErrClosed))
	case errors.Is(err, ErrBusy):
		q.busy.Add(1)
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err))
	case errors.Is(err, ErrReadOnly):
		r.done(e, fmt.Errorf("append doc %q version %d: %w", e.Doc, e.Version, err))
	default:
		r.done(e, err)
	}
}

// PutSnapshotAsync queues snap without ever waiting. Errors are only
// logged, and a full queue drops the snapshot (Stats.SnapshotsDropped,
// logged on DropLog): a lost snapshot costs replay time, never data.
func (q *WriteQueue) PutSnapshotAsync(snap Snapshot) {
	r, err := q.newSnapshot(snap, nil)
	if err == nil {
		if err = q.enqueue(r); errors.Is(err, ErrBusy) {
			n := q.snapsDropped.Add(1)
			q.cfg.DropLog.Warn().Err(err).Str("doc", snap.Doc).Int64("version", snap.Version).
				Int64("dropped_total", n).Msg("snapshot dropped: the event log's queue is full")
			return
		}
	}
	q.settleSnapshot(r, err)
}

// PutSnapshot queues snap and waits for the commit; like Append it waits
// for room in a full queue, bounded by ctx.
func (q *WriteQueue) PutSnapshot(ctx context.Context, snap Snapshot) error {
	ch := make(chan error, 1)
	r, err := q.newSnapshot(snap, func(err error) { ch <- err })
	if err == nil {
		err = q.enqueueWait(ctx, r)
	}
	if isContextErr(err) {
		return fmt.Errorf("put snapshot doc %q version %d: waiting for room in the queue: %w", snap.Doc, snap.Version, err)
	}
	q.settleSnapshot(r, err)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ctx.Err())
	}
}

func (q *WriteQueue) newSnapshot(snap Snapshot, done func(error)) (WriteRequest, error) {
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	r := WriteRequest{Kind: WriteSnapshot, Snapshot: snap, snapDone: done, size: int64(len(snap.Doc) + len(snap.Text))}
	if snap.Doc == "" || snap.Version < 0 || (q.cfg.ValidSnapshot != nil && !q.cfg.ValidSnapshot(snap)) {
		return r, fmt.Errorf("put snapshot doc %q version %d: %w", snap.Doc, snap.Version, ErrInvalid)
	}
	return r, nil
}

// settleSnapshot answers a snapshot that enqueue did not accept.
func (q *WriteQueue) settleSnapshot(r WriteRequest, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("put snapshot doc %q version %d: %w", r.Snapshot.Doc, r.Snapshot.Version, err)
	}
	if r.snapDone != nil {
		r.snapDone(err)
	} else {
		q.cfg.Log.Warn().Err(err).Msg("snapshot dropped")
	}
}

// call queues f to run on the writer between transactions, waiting for
// room like Append, and returns once it is queued.
func (q *WriteQueue) call(ctx context.Context, f func()) error {
	return q.enqueueWait(ctx, WriteRequest{Kind: WriteCall, call: f})
}
