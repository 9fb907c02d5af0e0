package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

const (
	// DefaultLimit is how many documents a list request returns when it
	// names no limit: a start page shows the most recently changed ones.
	DefaultLimit = 100
	// MaxLimit caps one response: each entry is about 150 bytes of JSON,
	// so 1000 entries stay near 150 KB.
	MaxLimit = 1000
)

// Source is what the catalog reads: the event log's document read model.
// *eventlog.Store implements it.
type Source interface {
	Docs(ctx context.Context, limit int) ([]eventlog.DocInfo, error)
}

var _ Source = (*eventlog.Store)(nil)

// Entry is one document of the list.
type Entry struct {
	ID      string    `json:"id"`
	Version int64     `json:"version"` // ops applied so far
	Updated time.Time `json:"updated"` // time of the last change
	// Size is the length in code points, or nil when the log does not
	// know it (documents last changed before sizes were recorded).
	Size *int64 `json:"size"`
	// Link is the path of the document's editor page.
	Link string `json:"link"`
}

// Catalog lists documents from a Source.
type Catalog struct {
	src Source
}

// New returns a catalog reading src.
func New(src Source) *Catalog {
	return &Catalog{src: src}
}

// List returns up to limit documents, most recently changed first. limit
// is clamped to [1, MaxLimit]; 0 means DefaultLimit.
func (c *Catalog) List(ctx context.Context, limit int) ([]Entry, error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1:
		limit = 1
	case limit > MaxLimit:
		limit = MaxLimit
	}
	// Two more than asked: "." and ".." are the only stored ids that can
	// be left out below, so the list still holds limit documents.
	docs, err := c.src.Docs(ctx, limit+2)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	out := make([]Entry, 0, len(docs))
	for _, d := range docs {
		// A log written before the protocol refused the ids "." and ".."
		// may hold such a document; it can no longer be opened, so it is
		// left out.
		if protocol.ValidateDocID(d.Doc) != nil {
			continue
		}
		if out = append(out, entry(d)); len(out) == limit {
			break
		}
	}
	return out, nil
}

func entry(d eventlog.DocInfo) Entry {
	e := Entry{ID: d.Doc, Version: d.Version, Updated: d.Updated.UTC(), Link: Link(d.Doc)}
	if d.Size >= 0 {
		size := d.Size
		e.Size = &size
	}
	return e
}

// Link is the path of the editor page of document id, which must be
// valid (protocol.ValidateDocID): valid ids need no escaping in a path,
// and the protocol refuses "." and "..", which a browser would remove
// from a path as dot segments.
func Link(id string) string {
	return "/d/" + id
}
