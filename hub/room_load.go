package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

var errRecovering = errors.New("document recovering from a failed commit")

// load reads the latest snapshot plus the tail of the log (and up to
// HistoryLen ops before the snapshot, so stale ops can still be transformed
// right after a restart).
func (r *room) load() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, _, err := r.h.store.LatestSnapshot(ctx, r.doc)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	from := max(0, snap.Version-int64(r.h.cfg.HistoryLen))
	events, err := r.h.store.Events(ctx, r.doc, from, 0)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	hist, text, err := replay(r.doc, snap, from, events)
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	r.ids = make(map[string]int64, len(hist.entries))
	for i := range hist.entries {
		r.ids[hist.entries[i].id] = hist.base + int64(i)
	}
	r.hist, r.text = hist, text
	r.version, r.specLen = hist.head(), text.Len()
	r.sent = r.version
	r.loaded, r.broken = true, false
	r.hist.trim(r.h.cfg.HistoryLen, r.version, r.forget)
	r.log.Debug().Int64("version", r.version).Int64("snapshot", snap.Version).Int("events", len(events)).Msg("document loaded")
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
// the log holds beyond what they were sent.
func (r *room) reload() error {
	sent := r.sent
	if err := r.load(); err != nil {
		return err
	}
	r.claim()
	if sent < r.hist.base {
		for c := range r.subs {
			c.send(protocol.AppendSnapshot(nil, r.doc, r.version, r.text.String()))
		}
		return nil
	}
	for v := sent; v < r.version && r.loaded; v++ {
		for c := range r.subs {
			c.send(r.hist.at(v).frame)
		}
	}
	return nil
}

// maybeReload recovers a broken room once its last pending commit is
// answered; if the store is still down it retries on the next command.
func (r *room) maybeReload() {
	if !r.broken || r.pending() != 0 {
		return
	}
	if err := r.reload(); err != nil {
		r.log.Warn().Err(err).Msg("reload after failed commit")
	}
}
