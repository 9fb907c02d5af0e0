package readmodel

import (
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// loadFunc reads a document's stored text and version; found false for
// a document the projection has not seen.
type loadFunc func() (text string, version int64, found bool, err error)

// advanceText applies the pending events of b to the document's text,
// taken from the cache when it holds the version b starts at, else
// loaded. It returns the text, its version and the events applied. The
// caller writes the result and then puts it back into c.
func advanceText(c *cache[*document.Text], table string, b docBatch, load loadFunc) (*document.Text, int64, []eventlog.Event, error) {
	t, ok := c.take(table, b.doc, b.evs[0].Version)
	version := b.evs[0].Version
	if !ok {
		s, v, _, err := load()
		if err != nil {
			return nil, 0, nil, err
		}
		t, version = document.NewText(s), v
	}
	evs, err := pending(b, version)
	if err != nil {
		return nil, 0, nil, err
	}
	for _, e := range evs {
		op, err := decodeOp(e)
		if err != nil {
			return nil, 0, nil, err
		}
		if err := t.Apply(op); err != nil {
			return nil, 0, nil, &projection.EventError{Seq: e.Seq, Err: fmt.Errorf("doc %q version %d: %w", e.Doc, e.Version, err)}
		}
		version++
	}
	return t, version, evs, nil
}
