package query_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

type docsPage struct {
	Docs       []readmodel.DocEntry
	NextCursor string
	Position   projection.Position
}

// walk pages through the list and returns the ids in order.
func walk(e *env, params string) []string {
	var ids []string
	cursor := ""
	for range 100 {
		var p docsPage
		e.get("/api/v1/docs?"+params+"&cursor="+url.QueryEscape(cursor), http.StatusOK, &p)
		for _, d := range p.Docs {
			ids = append(ids, d.Doc)
		}
		if p.NextCursor == "" {
			return ids
		}
		cursor = p.NextCursor
	}
	e.t.Fatal("cursor never ends")
	return nil
}

func TestDocsListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	titles := []string{"Zebra", "apple", "Mango", "# Budget", "kiwi", "Apple", "lime"}
	for i, title := range titles {
		e.write(fmt.Sprint("d", i), rmtest.Edit{Op: document.FromPatch(0, 0, title+"\nbody"), Author: "a", At: t0.Add(time.Duration(i) * time.Hour)})
	}
	// d0 changes last; created order stays d0..d6.
	w := rmtest.NewWriter(e.store, "d0")
	w.Text, w.Version = document.NewText("Zebra\nbody"), 1
	e.more(w, rmtest.Edit{Op: document.FromPatch(0, 0, "!"), Author: "b", At: t0.Add(100 * time.Hour)})
	e.catchUp()

	var first docsPage
	e.get("/api/v1/docs?limit=3", http.StatusOK, &first)
	if len(first.Docs) != 3 || first.Docs[0].Doc != "d0" || first.Docs[0].Title != "!Zebra" || first.Docs[0].Authors != 2 ||
		first.Docs[0].LastAuthor != "b" || first.Docs[0].Version != 2 || first.Position.Seq != 8 {
		t.Fatalf("first page %+v", first)
	}
	for _, c := range []struct{ params, want string }{
		{"limit=2", "d0 d6 d5 d4 d3 d2 d1"},
		{"limit=3&sort=created", "d6 d5 d4 d3 d2 d1 d0"},
		{"limit=2&sort=created&order=asc", "d0 d1 d2 d3 d4 d5 d6"},
		{"limit=2&sort=title", "d0 d5 d3 d2 d1 d4 d6"}, // SQLite BINARY order: "!", uppercase, lowercase
		{"limit=1&sort=title&order=desc", "d6 d4 d1 d2 d3 d5 d0"},
	} {
		if got := strings.Join(walk(e, c.params), " "); got != c.want {
			t.Errorf("%s: %s, want %s", c.params, got, c.want)
		}
	}
	for _, bad := range []string{"limit=0", "limit=201", "sort=size", "order=up", "cursor=@@@"} {
		e.get("/api/v1/docs?"+bad, http.StatusBadRequest, nil)
	}
}

func TestAccessFiltersEveryRoute(t *testing.T) {
	t.Parallel()
	access := func(r *http.Request) (func(string) bool, int, string) {
		if r.Header.Get("Authorization") != "Bearer test" {
			return nil, http.StatusUnauthorized, "token refused"
		}
		return func(doc string) bool { return !strings.HasPrefix(doc, "secret") }, 0, ""
	}
	e := newEnv(t, access)
	for i := range 5 {
		for _, prefix := range []string{"open", "secret"} {
			e.write(fmt.Sprint(prefix, i), rmtest.Edit{Op: document.FromPatch(0, 0, "shared words"), Author: "a"})
		}
	}
	e.catchUp()
	ids := walk(e, "limit=2")
	if len(ids) != 5 || slices.ContainsFunc(ids, func(s string) bool { return strings.HasPrefix(s, "secret") }) {
		t.Fatalf("list %v", ids)
	}
	var hits searchPage
	e.get("/api/v1/search?q=shared&limit=50", http.StatusOK, &hits)
	if len(hits.Hits) != 5 {
		t.Fatalf("search %+v", hits)
	}
	for _, p := range []string{"", "/text?version=1", "/history", "/authorship", "/diff?from=0&to=1"} {
		e.get("/api/v1/docs/secret1"+p, http.StatusForbidden, nil)
		e.get("/api/v1/docs/open1"+p, http.StatusOK, nil)
	}
	rec := serve(e, "/api/v1/docs", "")
	if rec != http.StatusUnauthorized {
		t.Fatalf("no token: %d", rec)
	}
}
