package soak

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// logEvent is one event of the shared log, as the ledger needs it.
type logEvent struct {
	version int64
	id      string
}

// docLog is one document as the shared log has it.
type docLog struct {
	doc     string
	text    string
	version int64
	events  []logEvent
}

// readLog replays docs from the event log in data directory dir. The log
// is read through eventlog while the servers run (WAL readers never block
// the writers), opened read-only: it takes no lock and writes nothing. An event that does not apply, or a version out of sequence, is
// a finding against the log itself.
func readLog(tb testing.TB, dir string, docs []string, found *findings) map[string]docLog {
	tb.Helper()
	store, err := eventlog.Open(filepath.Join(dir, "events.db"), eventlog.Config{ReadOnly: true})
	if err != nil {
		tb.Fatalf("open the shared log: %v", err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make(map[string]docLog, len(docs))
	for _, doc := range docs {
		evs, err := store.Events(ctx, doc, 0, 0)
		if err != nil {
			tb.Fatalf("read %s from the shared log: %v", doc, err)
		}
		out[doc] = replay(doc, evs, found)
	}
	return out
}

// replay applies doc's events in order.
func replay(doc string, evs []eventlog.Event, found *findings) docLog {
	l := docLog{doc: doc, events: make([]logEvent, 0, len(evs))}
	for i, ev := range evs {
		if ev.Version != int64(i) {
			found.add(checkOrder, "log", doc, "event %d of the log is at version %d", i, ev.Version)
			break
		}
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			found.add(checkOrder, "log", doc, "version %d (op %s) does not decode: %v", ev.Version, ev.OpID, err)
			break
		}
		text, err := document.Apply(l.text, op)
		if err != nil {
			found.add(checkOrder, "log", doc, "version %d (op %s) does not apply: %v", ev.Version, ev.OpID, err)
			break
		}
		l.text, l.version = text, ev.Version+1
		l.events = append(l.events, logEvent{version: ev.Version, id: ev.OpID})
	}
	return l
}
