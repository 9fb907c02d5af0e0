package readmodel

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// docBatch is the events of one document within a batch, in order.
type docBatch struct {
	doc string
	evs []eventlog.Event
}

// byDoc splits a batch per document, documents in order of first
// appearance, so each document's rows are written once per batch.
func byDoc(evs []eventlog.Event) []docBatch {
	idx := make(map[string]int)
	var out []docBatch
	for _, e := range evs {
		i, ok := idx[e.Doc]
		if !ok {
			i = len(out)
			idx[e.Doc] = i
			out = append(out, docBatch{doc: e.Doc})
		}
		out[i].evs = append(out[i].evs, e)
	}
	return out
}

// decodeOp decodes an event's op, as an *projection.EventError.
func decodeOp(e eventlog.Event) (document.Op, error) {
	var op document.Op
	if err := op.UnmarshalJSON(e.Op); err != nil {
		return nil, &projection.EventError{Seq: e.Seq, Err: fmt.Errorf("doc %q version %d: decode op: %w", e.Doc, e.Version, err)}
	}
	return op, nil
}

// gapError is an event that does not follow the version a projection
// holds for its document (an earlier event was skipped as a dead letter).
func gapError(e eventlog.Event, have int64) error {
	return &projection.EventError{Seq: e.Seq, Err: fmt.Errorf("doc %q: event at version %d, projection holds version %d", e.Doc, e.Version, have)}
}

// pending returns the events of b not yet applied to a state at version
// have: earlier ones are skipped (already applied, so applying a batch
// twice changes nothing); a gap is an *projection.EventError.
func pending(b docBatch, have int64) ([]eventlog.Event, error) {
	evs := b.evs
	for len(evs) > 0 && evs[0].Version < have {
		evs = evs[1:]
	}
	if len(evs) > 0 && evs[0].Version != have {
		return nil, gapError(evs[0], have)
	}
	return evs, nil
}

// tombstoned reports whether b deletes or purges its document. The read
// models of current state then forget it; its history stays in the log
// until a purge.
func (b docBatch) tombstoned() bool {
	for _, e := range b.evs {
		if e.Kind.Tombstone() {
			return true
		}
	}
	return false
}

// forgetDoc deletes doc's rows from tables, each keyed by a doc column.
func forgetDoc(ctx context.Context, tx *sql.Tx, doc string, tables ...string) error {
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE doc = ?`, doc); err != nil {
			return fmt.Errorf("forget deleted %q in %s: %w", doc, t, err)
		}
	}
	return nil
}

// lastTitle returns the title the last rename of evs set, and whether
// there was one.
func lastTitle(evs []eventlog.Event) (string, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == eventlog.Rename {
			title, _ := evs[i].Title() // an undecodable title goes back to the first line
			return title, true
		}
	}
	return "", false
}
