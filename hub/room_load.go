package hub

import (
	"errors"
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

var errRecovering = errors.New("document recovering from a failed commit")

// loadChunk is how many events before the snapshot one read brings in
// while the history window is filled backwards: small enough that a run
// of megabyte ops is never read in one piece, large enough that a window
// of 1,000 typing ops takes a handful of reads.
const loadChunk = 128

// load reads the latest snapshot and the events after it, then fills the
// history window backwards with up to HistoryLen earlier ops (HistoryBytes
// at most), so stale ops can still be transformed without reading the log
// right after a restart.
func (r *room) load() error {
	ctx, cancel := r.readContext()
	defer cancel()
	snap, _, err := r.h.store.LatestSnapshot(ctx, r.doc)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	tail, err := r.h.store.Events(ctx, r.doc, snap.Version, 0)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	from, bytes := snap.Version, 0
	for _, ev := range tail {
		bytes += len(ev.Op)
	}
	for from > 0 && snap.Version-from < int64(r.h.cfg.HistoryLen) && bytes < r.h.cfg.HistoryBytes {
		n := min(from, loadChunk)
		older, err := r.h.store.Events(ctx, r.doc, from-n, int(n))
		if err != nil {
			return fmt.Errorf("load %q: %w", r.doc, err)
		}
		for _, ev := range older {
			bytes += len(ev.Op)
		}
		tail = append(older, tail...)
		from -= n
	}
	hist, text, err := replay(r.doc, snap, from, tail)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	r.ids = make(map[string]int64, len(hist.entries))
	for i := range hist.entries {
		r.ids[hist.entries[i].id] = hist.base + int64(i)
	}
	r.hist, r.text = hist, text
	r.version, r.specLen = hist.head(), text.Len()
	r.next, r.pendingBytes = r.version, 0
	r.loaded, r.broken, r.stalled = true, false, false
	r.hist.trim(r.h.cfg.HistoryLen, r.h.cfg.HistoryBytes, r.version, r.forget)
	r.log.Debug().Int64("version", r.version).Int64("snapshot", snap.Version).Int("events", len(tail)).Msg("document loaded")
	return nil
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
		e.frame = protocol.AppendOp(nil, doc, ev.Version, ev.OpID, ev.Author, e.op)
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

// reload replaces the in-memory state with the log's, after a failed commit
// left memory ahead of it, and brings every subscriber up to date with what
// the log holds beyond what they were sent. It changes nothing if the log
// cannot be read.
func (r *room) reload() error {
	sent := r.version // every subscriber has been sent exactly the committed ops
	if err := r.load(); err != nil {
		return err
	}
	r.deliverBacklog(sent)
	return nil
}

// deliverBacklog sends every subscriber the committed ops from version
// sent on, which they have not seen, in order.
func (r *room) deliverBacklog(sent int64) {
	switch {
	case len(r.subs) == 0 || sent == r.version:
	case sent < r.hist.base || sent > r.version:
		// Too far behind for the window (or a log shorter than what was
		// sent, which only a replaced file can cause): a snapshot (§5).
		for c := range r.subs {
			c.send(protocol.AppendSnapshot(nil, r.doc, r.version, r.text.String()))
		}
	default:
		for v := sent; v < r.version; v++ {
			for c := range r.subs {
				c.send(r.hist.at(v).frame)
			}
		}
	}
}

// maybeReload recovers a broken room once its last pending commit is
// answered; if the store is still down it retries on the next tick.
func (r *room) maybeReload() {
	if !r.broken || r.pending() != 0 {
		return
	}
	if err := r.reload(); err != nil {
		r.log.Warn().Err(err).Msg("reload after failed commit")
	}
}

// ensureLoaded loads the document if it is not, or reports why it cannot be
// served now (still waiting for commits to fail out after a storage error).
func (r *room) ensureLoaded() error {
	if r.broken && r.pending() > 0 {
		return errRecovering
	}
	if r.loaded && !r.broken {
		return nil
	}
	return r.reload()
}
