package postgres

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/collabedit/collab/eventlog"
)

// AppendAsync queues e for the next group commit and returns without
// waiting, ever; done is called exactly once, as with the SQLite store:
// on the writer after COMMIT, or at once on the caller's goroutine for an
// append refused at the door (ErrInvalid, ErrBusy).
func (s *Store) AppendAsync(e eventlog.Event, done func(eventlog.Event, error)) {
	s.q.AppendAsync(e, done)
}

// text reports whether v can be stored in a PostgreSQL text column: valid
// UTF-8 without NUL. Checked at the door, because a row PostgreSQL
// rejects would fail its whole batch's statement.
func text(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

// validEvent is what PostgreSQL refuses of an event beyond the common
// rules; the SQLite store leaves the kind to its CHECK constraint.
func validEvent(e eventlog.Event) bool {
	return e.Kind.Valid() && text(e.Doc) && text(e.OpID) && text(e.Author) && text(e.Prev)
}

func validSnapshot(snap eventlog.Snapshot) bool { return text(snap.Doc) && text(snap.Text) }

// Append stores e and returns it with Seq set once it is committed. It
// waits for room in a full queue (bounded by ctx) instead of answering
// ErrBusy. If ctx ends first the append may still commit: retry with the
// same OpID and treat *DuplicateError as success.
func (s *Store) Append(ctx context.Context, e eventlog.Event) (eventlog.Event, error) {
	return s.q.Append(ctx, e)
}

// PutSnapshotAsync queues snap without ever waiting; a full queue drops it
// (Stats.SnapshotsDropped): a lost snapshot costs replay time, not data.
func (s *Store) PutSnapshotAsync(snap eventlog.Snapshot) { s.q.PutSnapshotAsync(snap) }

// PutSnapshot writes snap and waits for the commit, bounded by ctx.
func (s *Store) PutSnapshot(ctx context.Context, snap eventlog.Snapshot) error {
	return s.q.PutSnapshot(ctx, snap)
}
