package query_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// TestDeletedAndPurged: a deleted document leaves the list and answers
// 410 for its current state, while its history and old versions stay
// readable; once purged, everything about it answers 410.
func TestDeletedAndPurged(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	w := e.write("d", rmtest.Edit{Op: document.FromPatch(0, 0, "hello"), Author: "ann", At: at})
	e.write("other", rmtest.Edit{Op: document.FromPatch(0, 0, "kept"), Author: "ann", At: at})
	ctx := context.Background()
	meta, _ := eventlog.RenameEvent("Named")
	if _, err := w.Lifecycle(ctx, eventlog.Rename, meta, "bob"); err != nil {
		t.Fatal(err)
	}
	e.catchUp()
	var entry struct{ ID, Title, Name string }
	e.get("/api/v1/docs/d/entry", http.StatusOK, &entry)
	if entry.ID != "d" || entry.Title != "Named" || entry.Name != "Named" {
		t.Fatalf("entry after rename: %+v", entry)
	}
	if _, err := w.Lifecycle(ctx, eventlog.Delete, nil, "ann"); err != nil {
		t.Fatal(err)
	}
	e.catchUp()
	var list struct {
		Docs []struct{ ID string } `json:"docs"`
	}
	e.get("/api/v1/docs", http.StatusOK, &list)
	if len(list.Docs) != 1 || list.Docs[0].ID != "other" {
		t.Fatalf("list after delete: %+v", list)
	}
	e.get("/api/v1/docs/d", http.StatusGone, nil)
	e.get("/api/v1/docs/d/text", http.StatusGone, nil)
	e.get("/api/v1/docs/d/authorship", http.StatusGone, nil)
	e.get("/api/v1/docs/d/entry", http.StatusGone, nil)
	var text struct{ Text string }
	e.get("/api/v1/docs/d/text?version=1", http.StatusOK, &text)
	if text.Text != "hello" {
		t.Fatalf("text at version 1 of the deleted document: %q", text.Text)
	}
	e.get("/api/v1/docs/d/history", http.StatusOK, nil)

	if _, err := w.Lifecycle(ctx, eventlog.Purge, nil, "ann"); err != nil {
		t.Fatal(err)
	}
	e.catchUp()
	for _, path := range []string{"/api/v1/docs/d/text?version=1", "/api/v1/docs/d/history", "/api/v1/docs/d"} {
		e.get(path, http.StatusGone, nil)
	}
	e.get("/api/v1/docs/other", http.StatusOK, nil)
}
