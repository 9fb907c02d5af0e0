package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// textBody is the body of GET /api/v1/docs/{doc} and .../text.
type textBody struct {
	Doc     string       `json:"id"`
	Version int64        `json:"version"`
	Size    int          `json:"size"`
	Text    string       `json:"text"`
	Time    *time.Time   `json:"time,omitempty"` // of the last event included
	Read    ReadPosition `json:"read"`
}

// head returns doc's version, 404 for a document with no events and 410
// for a purged one. A deleted document's history stays readable.
func (a *api) head(ctx context.Context, doc string) (int64, error) {
	h, kind, err := a.last(ctx, doc)
	if err == nil && kind == eventlog.Purge {
		err = gone("document %q was deleted and purged", doc)
	}
	return h, err
}

// current is head for the current state: 410 for a deleted document too.
func (a *api) current(ctx context.Context, doc string) (int64, error) {
	h, kind, err := a.last(ctx, doc)
	if err == nil && kind.Tombstone() {
		err = gone("document %q was deleted; its history stays readable until purged", doc)
	}
	return h, err
}

// last returns doc's version and the kind of its last event.
func (a *api) last(ctx context.Context, doc string) (int64, eventlog.Kind, error) {
	h, err := a.store.Head(ctx, doc)
	if err != nil {
		return 0, "", fmt.Errorf("query: %w", err)
	}
	if h == 0 {
		return 0, "", notFound("unknown document %q", doc)
	}
	evs, err := a.store.Events(ctx, doc, h-1, 1)
	if err != nil || len(evs) != 1 {
		return 0, "", fmt.Errorf("query: last event of %q: %w", doc, errors.Join(err, eventlog.ErrUnavailable))
	}
	return h, evs[0].Kind, nil
}

// textAt returns doc's text at version (0 <= version <= head): the
// nearest snapshot at or below it plus a replay of the events after it,
// and the last event included (zero Seq for version 0).
func textAt(ctx context.Context, store Log, doc string, version int64) (*document.Text, eventlog.Event, error) {
	var last eventlog.Event
	snap, ok, err := store.SnapshotAt(ctx, doc, version)
	if err != nil {
		return nil, last, fmt.Errorf("query: text of %q at %d: %w", doc, version, err)
	}
	if !ok {
		snap = eventlog.Snapshot{Doc: doc}
	}
	from := snap.Version
	if from == version && version > 0 {
		from-- // read the last event only for its seq and time
	}
	var evs []eventlog.Event
	if version > from { // a limit of 0 would read them all
		evs, err = store.Events(ctx, doc, from, int(version-from))
	}
	if err != nil {
		return nil, last, fmt.Errorf("query: text of %q at %d: %w", doc, version, err)
	}
	if int64(len(evs)) != version-from {
		return nil, last, notFound("document %q has no version %d", doc, version)
	}
	text := document.NewText(snap.Text)
	for _, e := range evs {
		last = e
		if e.Version < snap.Version {
			continue
		}
		var op document.Op
		if err := op.UnmarshalJSON(e.Op); err != nil {
			return nil, last, fmt.Errorf("query: %q version %d: %w", doc, e.Version, err)
		}
		if err := text.Apply(op); err != nil {
			return nil, last, fmt.Errorf("query: %q version %d: %w", doc, e.Version, err)
		}
	}
	return text, last, nil
}

// versionAt returns how many of doc's events (head of them) have a time
// at or before at: the version the document had then. It assumes event
// times do not decrease along versions (the hub stamps them in order)
// and binary-searches, one indexed read per step.
func (a *api) versionAt(ctx context.Context, doc string, head int64, at time.Time) (int64, error) {
	lo, hi := int64(0), head // answer in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		evs, err := a.store.Events(ctx, doc, mid, 1)
		if err != nil {
			return 0, fmt.Errorf("query: version of %q at %v: %w", doc, at, err)
		}
		if len(evs) == 0 {
			return 0, notFound("document %q changed while read", doc)
		}
		if evs[0].Time.After(at) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// textResponse reads doc's text at version into the answer.
func (a *api) textResponse(ctx context.Context, doc string, version int64) (any, error) {
	text, last, err := textAt(ctx, a.store, doc, version)
	if err != nil {
		return nil, err
	}
	body := textBody{Doc: doc, Version: version, Size: text.Len(), Text: text.String(),
		Read: ReadPosition{Version: version, Seq: last.Seq}}
	if last.Seq != 0 {
		t := last.Time.UTC()
		body.Time = &t
	}
	return body, nil
}

// doc answers GET /api/v1/docs/{doc}: the current text and version.
func (a *api) doc(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		head, err := a.current(ctx, doc)
		if err != nil {
			return nil, err
		}
		return a.textResponse(ctx, doc, head)
	})
}

// text answers GET /api/v1/docs/{doc}/text?version=N or ?at=RFC3339.
func (a *api) text(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		version, hasVersion, err := intParam(r, "version")
		if err != nil {
			return nil, err
		}
		atParam := r.URL.Query().Get("at")
		if hasVersion && atParam != "" {
			return nil, badRequest("give version or at, not both")
		}
		headOf := a.head
		if !hasVersion && atParam == "" {
			headOf = a.current
		}
		head, err := headOf(ctx, doc)
		if err != nil {
			return nil, err
		}
		switch {
		case hasVersion && version > head:
			return nil, notFound("document %q has no version %d (head %d)", doc, version, head)
		case atParam != "":
			at, err := time.Parse(time.RFC3339Nano, atParam)
			if err != nil {
				return nil, badRequest("at must be an RFC 3339 time")
			}
			if version, err = a.versionAt(ctx, doc, head, at); err != nil {
				return nil, err
			}
		case !hasVersion:
			version = head
		}
		return a.textResponse(ctx, doc, version)
	})
}
