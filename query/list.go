package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
)

// maxRounds bounds the reads one page takes when access filtering drops
// rows: a short page with a next cursor is answered after that many.
const maxRounds = 8

// docsPage is the body of GET /api/v1/docs.
type docsPage struct {
	Docs       []readmodel.DocEntry `json:"docs"`
	NextCursor string               `json:"nextCursor,omitempty"`
	Position   projection.Position  `json:"position"`
}

// listCursor is where the next page of the list starts.
type listCursor struct {
	Key json.Number `json:"k"`
	Str string      `json:"s,omitempty"`
	Doc string      `json:"d"`
}

// listQuery parses the list's parameters.
func listQuery(r *http.Request) (readmodel.ListQuery, error) {
	q := readmodel.ListQuery{Sort: readmodel.SortChanged, Desc: true}
	switch s := readmodel.Sort(r.URL.Query().Get("sort")); s {
	case "", readmodel.SortChanged:
	case readmodel.SortCreated, readmodel.SortTitle:
		q.Sort, q.Desc = s, s != readmodel.SortTitle
	default:
		return q, badRequest("sort must be changed, created or title")
	}
	switch o := r.URL.Query().Get("order"); o {
	case "":
	case "asc", "desc":
		q.Desc = o == "desc"
	default:
		return q, badRequest("order must be asc or desc")
	}
	var err error
	if q.Limit, err = limitParam(r); err != nil {
		return q, err
	}
	var c listCursor
	if q.After, err = decodeCursor(r, &c); err != nil || !q.After {
		return q, err
	}
	q.AfterDoc, q.AfterKey = c.Doc, c.Str
	if q.Sort != readmodel.SortTitle {
		n, err := c.Key.Int64()
		if err != nil {
			return q, badRequest("malformed cursor")
		}
		q.AfterKey = n
	}
	return q, nil
}

// listDocs answers GET /api/v1/docs.
func (a *api) listDocs(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		q, err := listQuery(r)
		if err != nil {
			return nil, err
		}
		allow, err := a.allowed(r)
		if err != nil {
			return nil, err
		}
		page := docsPage{Docs: []readmodel.DocEntry{}}
		err = a.reader.Read(ctx, readmodel.DocsName, func(ctx context.Context, tx *sql.Tx, t projection.Tables, pos projection.Position) error {
			page.Position = pos
			want := q.Limit
			for round := 0; round < maxRounds && len(page.Docs) < want; round++ {
				q.Limit = want - len(page.Docs) + 1
				rows, err := readmodel.ListDocs(ctx, tx, t, q)
				if err != nil {
					return err
				}
				more := len(rows) == q.Limit
				for i, e := range rows {
					if len(page.Docs) == want || (more && i == len(rows)-1) {
						break
					}
					q.After, q.AfterKey, q.AfterDoc = true, e.Key(q.Sort), e.Doc
					if allow(e.Doc) {
						page.Docs = append(page.Docs, e)
					}
				}
				if !more {
					return nil
				}
			}
			page.NextCursor = encodeAfter(q)
			return nil
		})
		if err != nil {
			return nil, readFailed(err)
		}
		return page, nil
	})
}

// encodeAfter makes the cursor of the row q.After points at.
func encodeAfter(q readmodel.ListQuery) string {
	c := listCursor{Doc: q.AfterDoc, Key: "0"}
	switch k := q.AfterKey.(type) {
	case string:
		c.Str = k
	case int64:
		c.Key = json.Number(strconv.FormatInt(k, 10))
	}
	return encodeCursor(c)
}
