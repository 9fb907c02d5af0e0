package query

import (
	"context"
	"database/sql"
	"net/http"

	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
)

// entryBody is the body of GET /api/v1/docs/{doc}/entry.
type entryBody struct {
	readmodel.DocEntry
	Position projection.Position `json:"position"`
}

// entry answers GET /api/v1/docs/{doc}/entry: the document's row of the
// list (title, name, size, authors...), as of the list's position. 410
// for a deleted document; 404 for one the list does not hold yet.
func (a *api) entry(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		if _, err := a.current(ctx, doc); err != nil {
			return nil, err
		}
		var body entryBody
		found := false
		err = a.reader.Read(ctx, readmodel.DocsName, func(ctx context.Context, tx *sql.Tx, t projection.Tables, pos projection.Position) error {
			body.Position = pos
			var err error
			body.DocEntry, found, err = readmodel.GetDoc(ctx, tx, t, doc)
			return err
		})
		if err != nil {
			return nil, readFailed(err)
		}
		if !found {
			return nil, notFound("document %q is not in the list yet", doc)
		}
		return body, nil
	})
}
