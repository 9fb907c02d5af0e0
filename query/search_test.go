package query_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

type searchPage struct {
	Hits       []readmodel.Hit
	NextCursor string
	Position   projection.Position
}

func serve(e *env, path, auth string) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code
}

func TestSearchFindsAndForgets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var writers []*rmtest.Writer
	for i := range 5 {
		writers = append(writers, e.write(fmt.Sprint("n", i), rmtest.Edit{Op: document.FromPatch(0, 0, "The quarterly budget is approved"), Author: "a"}))
	}
	e.catchUp()
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		var p searchPage
		e.get("/api/v1/search?q=BUDGET&limit=2&cursor="+url.QueryEscape(cursor), http.StatusOK, &p)
		for _, h := range p.Hits {
			seen[h.Doc] = true
			if len(h.Snippet) < 2 || h.Snippet[1].Text != "budget" || !h.Snippet[1].Match {
				t.Fatalf("snippet %+v", h.Snippet)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("found %v", seen)
	}
	// Delete "budget " from n2.
	e.more(writers[2], rmtest.Edit{Op: document.FromPatch(14, 7, ""), Author: "b"})
	e.catchUp()
	var p searchPage
	e.get("/api/v1/search?q=budget&limit=10", http.StatusOK, &p)
	if len(p.Hits) != 4 || p.Position.Seq != 6 {
		t.Fatalf("after delete: %+v", p)
	}
	e.get("/api/v1/search?q=quarterly+approved&limit=10", http.StatusOK, &p)
	if len(p.Hits) != 5 {
		t.Fatalf("two words: %+v", p)
	}
	e.get("/api/v1/search?q=budg*", http.StatusOK, &p)
	if len(p.Hits) != 4 {
		t.Fatalf("prefix: %+v", p)
	}
	e.get("/api/v1/search?q=%22(", http.StatusBadRequest, nil)
	e.get("/api/v1/search?q=x&limit=1000", http.StatusBadRequest, nil)
}
