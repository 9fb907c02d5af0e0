package hub

import (
	"context"
	"errors"
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// loadChunk is how many events before the snapshot one read brings in
// while the history window is filled backwards: small enough that a run
// of megabyte ops is never read in one piece, large enough that a window
// of 1,000 typing ops takes a handful of reads.
const loadChunk = 128

// load reads a document's latest snapshot and the events after it, then
// fills the history window backwards with up to historyLen earlier ops
// (historyBytes at most), so stale ops can still be transformed without
// reading the log right after a restart. It returns the snapshot's
// version too, for the log line.
func load(ctx context.Context, store Store, doc string, historyLen, historyBytes int) (history, *document.Text, int64, error) {
	snap, _, err := store.LatestSnapshot(ctx, doc)
	if err != nil {
		return history{}, nil, 0, err
	}
	tail, err := store.Events(ctx, doc, snap.Version, 0)
	if err != nil {
		return history{}, nil, 0, err
	}
	if n := len(tail); n > 0 && tail[n-1].Kind.Tombstone() {
		// Deleted (or purged: then the tail is the purge alone).
		return history{}, nil, 0, &goneError{doc: doc, version: tail[n-1].Version + 1}
	}
	from, bytes := snap.Version, 0
	for _, ev := range tail {
		bytes += len(ev.Op)
	}
	for from > 0 && snap.Version-from < int64(historyLen) && bytes < historyBytes {
		n := min(from, loadChunk)
		older, err := store.Events(ctx, doc, from-n, int(n))
		if err != nil {
			return history{}, nil, 0, err
		}
		for _, ev := range older {
			bytes += len(ev.Op)
		}
		tail = append(older, tail...)
		from -= n
	}
	hist, text, err := replay(doc, snap, from, tail)
	return hist, text, snap.Version, err
}

// replay rebuilds the history window and committed text from a snapshot and
// the events from `from` on. Events before the snapshot only extend the
// window; their lengths are worked out backwards from the snapshot's.
func replay(doc string, snap eventlog.Snapshot, from int64, events []eventlog.Event) (history, *document.Text, error) {
	text := document.NewText(snap.Text)
	hist := history{base: from, entries: make([]entry, len(events))}
	for i, ev := range events {
		if ev.Version != from+int64(i) {
			return history{}, nil, fmt.Errorf("event log has a gap at version %d", from+int64(i))
		}
		e := &hist.entries[i]
		if err := e.op.UnmarshalJSON(ev.Op); err != nil {
			return history{}, nil, fmt.Errorf("stored op at version %d: %w", ev.Version, err)
		}
		e.id, e.author = ev.OpID, ev.Author
		e.frame = eventFrame(doc, ev.Version, ev.OpID, ev.Author, e.op, lifecycleOf(ev))
		hist.committed(e)
	}
	if int64(len(events)) < snap.Version-from {
		return history{}, nil, fmt.Errorf("event log ends at %d, before its snapshot at %d", from+int64(len(events)), snap.Version)
	}
	// Lengths before the snapshot, backwards from its length.
	n := text.Len()
	for v := snap.Version - 1; v >= from; v-- {
		e := &hist.entries[v-from]
		n -= e.op.Delta()
		e.lenBefore = n
	}
	for v := snap.Version; v < hist.head(); v++ {
		e := &hist.entries[v-from]
		e.lenBefore = text.Len()
		if err := text.Apply(e.op); err != nil {
			return history{}, nil, fmt.Errorf("stored op at version %d: %w", v, err)
		}
	}
	return hist, text, nil
}

// readFrames reads the events [from, to) of doc for a client further
// behind than the in-memory history and encodes their broadcasts,
// failing once they are over maxBytes (a snapshot is then smaller).
func readFrames(ctx context.Context, store Store, doc string, from, to int64, maxBytes int) ([][]byte, error) {
	events, err := store.Events(ctx, doc, from, int(to-from))
	if err != nil {
		return nil, err
	}
	if int64(len(events)) != to-from {
		return nil, fmt.Errorf("read %d events from %d: got %d", to-from, from, len(events))
	}
	frames := make([][]byte, 0, len(events))
	bytes := 0
	for _, ev := range events {
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			return nil, fmt.Errorf("stored op at version %d: %w: %w", ev.Version, errUndecodable, err)
		}
		f := eventFrame(doc, ev.Version, ev.OpID, ev.Author, op, lifecycleOf(ev))
		if bytes += len(f); bytes > maxBytes {
			return nil, errTooManyBytes
		}
		frames = append(frames, f)
	}
	return frames, nil
}

var (
	// errTooManyBytes: the catch-up is larger than a snapshot would be.
	errTooManyBytes = errors.New("catch-up over its byte bound")
	// errUndecodable: an op in the log does not decode, which is a bug.
	errUndecodable = errors.New("stored op does not decode")
)
