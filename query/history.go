package query

import (
	"context"
	"net/http"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// SessionGap is the longest pause within one editing session: consecutive
// events by one author less than SessionGap apart form a session.
const SessionGap = 5 * time.Minute

// HistoryEvent is one event of a document's history.
type HistoryEvent struct {
	Version int64     `json:"version"` // the version the event produced
	Seq     int64     `json:"seq"`
	OpID    string    `json:"opId"`
	Author  string    `json:"author"`
	Time    time.Time `json:"time"`
	Size    *int64    `json:"size"` // code points after it; null if not recorded
}

// Session is a run of consecutive events by one author with pauses
// shorter than SessionGap: from version FromVersion to ToVersion, between
// Start and End.
type Session struct {
	Authors     []string  `json:"authors"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	FromVersion int64     `json:"fromVersion"`
	ToVersion   int64     `json:"toVersion"`
	Events      int       `json:"events"`
}

// historyPage is the body of GET /api/v1/docs/{doc}/history.
type historyPage struct {
	Doc        string         `json:"id"`
	Events     []HistoryEvent `json:"events"`
	Sessions   []Session      `json:"sessions"`
	NextCursor string         `json:"nextCursor,omitempty"`
	Read       ReadPosition   `json:"read"`
}

// historyCursor is the version below which the next page starts.
type historyCursor struct {
	Before int64 `json:"b"`
}

// history answers GET /api/v1/docs/{doc}/history?cursor=&limit=: events
// newest first, and the page's events grouped into sessions.
func (a *api) history(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		head, err := a.head(ctx, doc)
		if err != nil {
			return nil, err
		}
		c := historyCursor{Before: head}
		if ok, err := decodeCursor(r, &c); err != nil {
			return nil, err
		} else if ok && (c.Before < 0 || c.Before > head) {
			return nil, badRequest("cursor out of range")
		}
		from := max(0, c.Before-int64(limit))
		var evs []eventlog.Event
		if c.Before > from { // a limit of 0 would read them all
			evs, err = a.store.Events(ctx, doc, from, int(c.Before-from))
		}
		if err != nil {
			return nil, err
		}
		page := historyPage{Doc: doc, Events: newestFirst(evs), Read: ReadPosition{Version: head}}
		page.Sessions = Sessions(page.Events)
		if len(evs) > 0 {
			page.Read.Seq = evs[len(evs)-1].Seq
		}
		if from > 0 {
			page.NextCursor = encodeCursor(historyCursor{Before: from})
		}
		return page, nil
	})
}

// newestFirst turns events in version order into history entries,
// newest first.
func newestFirst(evs []eventlog.Event) []HistoryEvent {
	out := make([]HistoryEvent, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		h := HistoryEvent{Version: e.Version + 1, Seq: e.Seq, OpID: e.OpID, Author: e.Author, Time: e.Time.UTC()}
		if e.Size >= 0 {
			size := e.Size
			h.Size = &size
		}
		out = append(out, h)
	}
	return out
}

// Sessions groups history entries (newest first, consecutive versions)
// into editing sessions, newest first. A session never spans two pages.
func Sessions(evs []HistoryEvent) []Session {
	out := []Session{}
	for i, e := range evs {
		if i > 0 {
			s := &out[len(out)-1]
			if s.Authors[0] == e.Author && s.Start.Sub(e.Time) < SessionGap {
				s.Start, s.FromVersion = e.Time, e.Version-1
				s.Events++
				continue
			}
		}
		out = append(out, Session{Authors: []string{e.Author}, Start: e.Time, End: e.Time,
			FromVersion: e.Version - 1, ToVersion: e.Version, Events: 1})
	}
	return out
}
