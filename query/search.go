package query

import (
	"context"
	"database/sql"
	"net/http"

	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
)

// searchPage is the body of GET /api/v1/search.
type searchPage struct {
	Hits       []readmodel.Hit     `json:"hits"`
	NextCursor string              `json:"nextCursor,omitempty"`
	Position   projection.Position `json:"position"`
}

// searchCursor is where the next page of hits starts.
type searchCursor struct {
	After int64 `json:"a"`
}

// search answers GET /api/v1/search?q=&limit=&cursor=.
func (a *api) search(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		match := readmodel.MatchQuery(r.URL.Query().Get("q"))
		if match == "" {
			return nil, badRequest("q must contain a word")
		}
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		var c searchCursor
		if _, err := decodeCursor(r, &c); err != nil {
			return nil, err
		}
		allow, err := a.allowed(r)
		if err != nil {
			return nil, err
		}
		page := searchPage{Hits: []readmodel.Hit{}}
		err = a.reader.Read(ctx, readmodel.SearchName, func(ctx context.Context, tx *sql.Tx, t projection.Tables, pos projection.Position) error {
			page.Position = pos
			after := c.After
			for round := 0; round < maxRounds && len(page.Hits) < limit; round++ {
				n := limit - len(page.Hits) + 1
				hits, err := readmodel.SearchDocs(ctx, tx, t, match, after, n)
				if err != nil {
					return err
				}
				more := len(hits) == n
				for i, h := range hits {
					if len(page.Hits) == limit || (more && i == len(hits)-1) {
						break
					}
					after = h.Key
					if allow(h.Doc) {
						page.Hits = append(page.Hits, h)
					}
				}
				if !more {
					return nil
				}
			}
			page.NextCursor = encodeCursor(searchCursor{After: after})
			return nil
		})
		if err != nil {
			return nil, readFailed(err)
		}
		return page, nil
	})
}
