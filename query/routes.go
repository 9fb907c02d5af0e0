package query

import (
	"context"
	"net/http"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// Reader runs fn inside a read transaction on the serving generation of
// the projection name, with the position it reflects. The projector
// (*projection.Projector) satisfies it.
type Reader interface {
	Read(ctx context.Context, name string, fn projection.ReadFunc) error
}

// Access decides which documents a request may read, as the document
// list's access does (cmd/server's listFilter, catalog.Catalog.Access):
// it returns allow, or nil with the status and message to refuse the
// request with. A nil Access lets every request read every document.
type Access func(r *http.Request) (allow func(doc string) bool, status int, msg string)

// Log is what the log-backed answers read: a document's head, its
// events and its snapshots. Every eventlog.Log (SQLite, PostgreSQL)
// implements it.
type Log interface {
	Head(ctx context.Context, doc string) (int64, error)
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
	SnapshotAt(ctx context.Context, doc string, version int64) (eventlog.Snapshot, bool, error)
}

// api is the state the handlers share.
type api struct {
	store  Log
	reader Reader
	access Access
}

// Routes registers the query API (docs/api.md) on mux: the read-model
// answers come through reader, the log-backed ones from store, and every
// route honours access.
func Routes(mux *http.ServeMux, store Log, reader Reader, access Access) {
	a := &api{store: store, reader: reader, access: access}
	mux.HandleFunc("GET /api/v1/docs", a.listDocs)
	mux.HandleFunc("GET /api/v1/search", a.search)
	mux.HandleFunc("GET /api/v1/docs/{doc}", a.doc)
	mux.HandleFunc("GET /api/v1/docs/{doc}/entry", a.entry)
	mux.HandleFunc("GET /api/v1/docs/{doc}/text", a.text)
	mux.HandleFunc("GET /api/v1/docs/{doc}/history", a.history)
	mux.HandleFunc("GET /api/v1/docs/{doc}/authorship", a.authorship)
	mux.HandleFunc("GET /api/v1/docs/{doc}/diff", a.diff)
}

// The projector serves the read models in the server.
var _ Reader = (*projection.Projector)(nil)

var _ Log = eventlog.Log(nil)
