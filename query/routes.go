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

// api is the state the handlers share.
type api struct {
	store  *eventlog.Store
	reader Reader
	access Access
}

// Routes registers the query API (docs/api.md) on mux: the read-model
// answers come through reader, the log-backed ones from store, and every
// route honours access.
func Routes(mux *http.ServeMux, store *eventlog.Store, reader Reader, access Access) {
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
