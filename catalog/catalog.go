package catalog

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/collabedit/collab/document"

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
// every eventlog.Log (SQLite, PostgreSQL) implements it.
type Source interface {
	Docs(ctx context.Context, limit int) ([]eventlog.DocInfo, error)
}

var _ Source = eventlog.Log(nil)

// Texts is what the catalog reads documents' titles from: a document's
// latest snapshot and the events after it. every eventlog.Log (SQLite, PostgreSQL) implements it;
// a Source that does not lists no titles.
type Texts interface {
	LatestSnapshot(ctx context.Context, doc string) (eventlog.Snapshot, bool, error)
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
}

var _ Texts = eventlog.Log(nil)

// titleBudget bounds the time one list request spends working out titles
// that changed: after a restart every listed document needs its text
// rebuilt once. Titles not worked out in time are listed as before (or
// empty) and come with a later request.
const titleBudget = 500 * time.Millisecond

// maxCachedTitles bounds the title cache: more entries than this (the
// lists asked for named many different documents) start it afresh.
const maxCachedTitles = 4 * MaxLimit

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
	// Title is the document's first line without Markdown's heading
	// markers (see Title), or "" when the text has none or it is not
	// known yet.
	Title string `json:"title"`
}

// Catalog lists documents from a Source.
type Catalog struct {
	src   Source
	texts Texts // nil: no titles

	budget time.Duration // titleBudget; tests change it

	// Access, when set, decides which documents a request may see: it
	// returns a filter, or an HTTP status and message that refuse the
	// request (401 without a valid token). nil: every document.
	Access func(r *http.Request) (allow func(doc string) bool, status int, msg string)

	mu     sync.Mutex
	titles map[string]cachedTitle // by document
}

// cachedTitle is the title of a document at a version.
type cachedTitle struct {
	version int64
	title   string
}

// New returns a catalog reading src, and titles too if src is also Texts.
func New(src Source) *Catalog {
	c := &Catalog{src: src, budget: titleBudget, titles: make(map[string]cachedTitle)}
	c.texts, _ = src.(Texts)
	return c
}

// List returns up to limit documents, most recently changed first. limit
// is clamped to [1, MaxLimit]; 0 means DefaultLimit.
func (c *Catalog) List(ctx context.Context, limit int) ([]Entry, error) {
	return c.ListVisible(ctx, limit, nil)
}

// filteredScan is how many times limit a filtered list reads before it
// filters: the documents a token grants are usually a few among many, and
// the list is of the most recent, so it may come out shorter than limit.
const filteredScan = 10

// ListVisible is List with only the documents allow accepts (nil: all).
func (c *Catalog) ListVisible(ctx context.Context, limit int, allow func(doc string) bool) ([]Entry, error) {
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
	scan := limit + 2
	if allow != nil {
		scan = limit*filteredScan + 2
	}
	docs, err := c.src.Docs(ctx, scan)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	out := make([]Entry, 0, len(docs))
	for _, d := range docs {
		// A log written before the protocol refused the ids "." and ".."
		// may hold such a document; it can no longer be opened, so it is
		// left out.
		if protocol.ValidateDocID(d.Doc) != nil || (allow != nil && !allow(d.Doc)) {
			continue
		}
		if out = append(out, entry(d)); len(out) == limit {
			break
		}
	}
	c.fillTitles(ctx, out)
	return out, nil
}

// fillTitles sets the entries' titles: from the cache for documents that
// have not changed since, otherwise from the latest snapshot and the
// events after it (a document's text is not kept anywhere else), within
// titleBudget. A title that cannot be read is left as cached, or empty:
// the list itself does not fail for it.
func (c *Catalog) fillTitles(ctx context.Context, entries []Entry) {
	if c.texts == nil {
		return
	}
	deadline := time.Now().Add(c.budget)
	for i := range entries {
		e := &entries[i]
		c.mu.Lock()
		cached, ok := c.titles[e.ID]
		c.mu.Unlock()
		if ok && cached.version >= e.Version {
			e.Title = cached.title
			continue
		}
		e.Title = cached.title // until worked out
		if time.Now().After(deadline) || ctx.Err() != nil {
			continue
		}
		title, version, err := c.readTitle(ctx, e.ID)
		if err != nil {
			continue
		}
		e.Title = title
		c.mu.Lock()
		if len(c.titles) >= maxCachedTitles {
			c.titles = make(map[string]cachedTitle)
		}
		if old, ok := c.titles[e.ID]; !ok || old.version < version {
			c.titles[e.ID] = cachedTitle{version: version, title: title}
		}
		c.mu.Unlock()
	}
}

// readTitle rebuilds doc's text from its latest snapshot and the events
// after it and returns its title and version.
func (c *Catalog) readTitle(ctx context.Context, doc string) (string, int64, error) {
	snap, _, err := c.texts.LatestSnapshot(ctx, doc)
	if err != nil {
		return "", 0, err
	}
	events, err := c.texts.Events(ctx, doc, snap.Version, 0)
	if err != nil {
		return "", 0, err
	}
	text := document.NewText(snap.Text)
	version := snap.Version
	for _, ev := range events {
		if ev.Version != version {
			return "", 0, fmt.Errorf("title of %q: event %d after version %d", doc, ev.Version, version)
		}
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			return "", 0, fmt.Errorf("title of %q: event %d: %w", doc, ev.Version, err)
		}
		if err := text.Apply(op); err != nil {
			return "", 0, fmt.Errorf("title of %q: event %d: %w", doc, ev.Version, err)
		}
		version++
	}
	return Title(text.String()), version, nil
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
