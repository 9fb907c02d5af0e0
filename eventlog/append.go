package eventlog

import (
	"context"
)

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
func (s *Store) AppendAsync(e Event, done func(Event, error)) { s.q.AppendAsync(e, done) }

// Append stores e and returns it with Seq set once it is durably committed.
// Unlike AppendAsync it waits for room in a full queue (bounded by ctx)
// instead of answering ErrBusy. If ctx ends first, the returned error wraps
// ctx.Err() and the append may still commit: retry with the same OpID and
// treat *DuplicateError as success.
func (s *Store) Append(ctx context.Context, e Event) (Event, error) { return s.q.Append(ctx, e) }

// PutSnapshotAsync queues snap to be written (INSERT OR REPLACE) in the
// writer's next transaction, without ever waiting. Errors are only logged,
// and a snapshot that finds the queue full is dropped (counted in
// Stats.SnapshotsDropped, logged at most once per 10 s): a lost snapshot
// costs replay time, never data, because events are the source of truth.
func (s *Store) PutSnapshotAsync(snap Snapshot) { s.q.PutSnapshotAsync(snap) }

// PutSnapshot writes snap durably and waits for the commit; like Append
// it waits for room in a full queue, bounded by ctx.
func (s *Store) PutSnapshot(ctx context.Context, snap Snapshot) error {
	return s.q.PutSnapshot(ctx, snap)
}
