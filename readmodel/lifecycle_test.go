package readmodel_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// listed returns the document list's titles by id.
func listed(t *testing.T, d *rmtest.Driver) map[string]readmodel.DocEntry {
	t.Helper()
	out := map[string]readmodel.DocEntry{}
	err := d.Read(context.Background(), readmodel.DocsName, func(_ context.Context, tx *sql.Tx, tb projection.Tables, _ projection.Position) error {
		es, err := readmodel.ListDocs(context.Background(), tx, tb, readmodel.ListQuery{Limit: 100})
		for _, e := range es {
			out[e.Doc] = e
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func searched(t *testing.T, d *rmtest.Driver, word string) []string {
	t.Helper()
	var ids []string
	err := d.Read(context.Background(), readmodel.SearchName, func(_ context.Context, tx *sql.Tx, tb projection.Tables, _ projection.Position) error {
		hits, err := readmodel.SearchDocs(context.Background(), tx, tb, word, 0, 100)
		for _, h := range hits {
			ids = append(ids, h.Doc)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func runsOf(t *testing.T, d *rmtest.Driver, doc string) []readmodel.Run {
	t.Helper()
	var runs []readmodel.Run
	err := d.Read(context.Background(), readmodel.AuthorshipName, func(_ context.Context, tx *sql.Tx, tb projection.Tables, _ projection.Position) error {
		var err error
		runs, err = readmodel.ReadRuns(context.Background(), tx, tb, doc)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestLifecycleInReadModels: a rename sets the listed title (and an empty
// one goes back to the first line) without counting the renamer as an
// author; a delete takes the document out of the list, search and
// authorship; the other document is untouched; and projections rebuilt
// from the log after a purge never see the document.
func TestLifecycleInReadModels(t *testing.T) {
	ctx := context.Background()
	store := rmtest.OpenStore(t)
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a, b := rmtest.NewWriter(store, "a"), rmtest.NewWriter(store, "b")
	for _, w := range []*rmtest.Writer{a, b} {
		if _, err := w.Append(ctx, rmtest.Edit{Op: document.FromPatch(0, 0, "first line budget\nmore"), Author: "ann", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	ps := func() []projection.Projection {
		return []projection.Projection{readmodel.NewDocs(), readmodel.NewSearch(), readmodel.NewAuthorship()}
	}
	d := rmtest.New(t, store, ps()...)
	catchUp := func(d *rmtest.Driver) {
		t.Helper()
		for _, batch := range []int{1, 64} { // twice: a second pass changes nothing
			if err := d.CatchUp(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	rename := func(title string) {
		t.Helper()
		meta, err := eventlog.RenameEvent(title)
		if err == nil {
			_, err = a.Lifecycle(ctx, eventlog.Rename, meta, "bob")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rename("Budget 2027")
	catchUp(d)
	if e := listed(t, d)["a"]; e.Title != "Budget 2027" || e.Authors != 1 || e.Version != 2 {
		t.Fatalf("after rename: %+v", e)
	}
	if _, err := a.Append(ctx, rmtest.Edit{Op: document.FromPatch(0, 0, "New "), Author: "ann", At: at}); err != nil {
		t.Fatal(err)
	}
	catchUp(d)
	if e := listed(t, d)["a"]; e.Title != "Budget 2027" {
		t.Fatalf("an edit after the rename changed the title: %+v", e)
	}
	rename("")
	catchUp(d)
	if e := listed(t, d)["a"]; e.Title != "New first line budget" {
		t.Fatalf("after clearing the name: %+v", e)
	}

	if _, err := a.Lifecycle(ctx, eventlog.Delete, nil, "bob"); err != nil {
		t.Fatal(err)
	}
	catchUp(d)
	if l := listed(t, d); len(l) != 1 || l["b"].Doc != "b" {
		t.Fatalf("list after delete: %+v", l)
	}
	if ids := searched(t, d, "budget"); len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("search after delete: %v", ids)
	}
	if r := runsOf(t, d, "a"); len(r) != 0 {
		t.Fatalf("authorship after delete: %+v", r)
	}
	if r := runsOf(t, d, "b"); len(r) != 1 {
		t.Fatalf("authorship of the other document: %+v", r)
	}

	if _, err := a.Lifecycle(ctx, eventlog.Purge, nil, "bob"); err != nil {
		t.Fatal(err)
	}
	catchUp(d)
	fresh := rmtest.New(t, store, ps()...)
	catchUp(fresh)
	if l := listed(t, fresh); len(l) != 1 || l["b"].Doc != "b" {
		t.Fatalf("rebuilt list after purge: %+v", l)
	}
	if ids := searched(t, fresh, "budget"); len(ids) != 1 {
		t.Fatalf("rebuilt search after purge: %v", ids)
	}
}
