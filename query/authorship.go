package query

import (
	"context"
	"database/sql"
	"net/http"

	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
)

// authorshipBody is the body of GET /api/v1/docs/{doc}/authorship.
type authorshipBody struct {
	Doc      string              `json:"id"`
	Version  int64               `json:"version"` // the version the runs reflect
	Runs     []readmodel.Run     `json:"runs"`
	Position projection.Position `json:"position"`
}

// authorship answers GET /api/v1/docs/{doc}/authorship: who wrote each
// surviving code point, as runs.
func (a *api) authorship(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		if _, err := a.current(ctx, doc); err != nil {
			return nil, err
		}
		body := authorshipBody{Doc: doc, Runs: []readmodel.Run{}}
		err = a.reader.Read(ctx, readmodel.AuthorshipName, func(ctx context.Context, tx *sql.Tx, t projection.Tables, pos projection.Position) error {
			body.Position = pos
			var err error
			if body.Version, _, err = readmodel.RunsVersion(ctx, tx, t, doc); err != nil {
				return err
			}
			body.Runs, err = readmodel.ReadRuns(ctx, tx, t, doc)
			return err
		})
		if err != nil {
			return nil, readFailed(err)
		}
		return body, nil
	})
}
