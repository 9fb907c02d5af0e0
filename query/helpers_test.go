package query_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// env is a log, the read models fed from it and the API on a mux.
type env struct {
	t     testing.TB
	store *eventlog.Store
	drv   *rmtest.Driver
	mux   *http.ServeMux
}

func newEnv(t testing.TB, access query.Access) *env {
	store := rmtest.OpenStore(t)
	drv := rmtest.New(t, store, readmodel.All()...)
	mux := http.NewServeMux()
	query.Routes(mux, store, drv, access)
	return &env{t: t, store: store, drv: drv, mux: mux}
}

func (e *env) catchUp() {
	e.t.Helper()
	if err := e.drv.CatchUp(context.Background(), 500); err != nil {
		e.t.Fatal(err)
	}
}

// get requests path and decodes the JSON answer into v (when non-nil),
// failing unless the status is want.
func (e *env) get(path string, want int, v any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer test")
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	if rec.Code != want {
		e.t.Fatalf("GET %s: status %d, want %d: %s", path, rec.Code, want, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("GET %s: content type %q", path, ct)
	}
	var body any = v
	if v == nil {
		body = &map[string]any{}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), body); err != nil {
		e.t.Fatalf("GET %s: %v: %s", path, err, rec.Body.String())
	}
}

// write appends edits to doc through Store.Append.
func (e *env) write(doc string, edits ...rmtest.Edit) *rmtest.Writer {
	e.t.Helper()
	w := rmtest.NewWriter(e.store, doc)
	e.more(w, edits...)
	return w
}

func (e *env) more(w *rmtest.Writer, edits ...rmtest.Edit) {
	e.t.Helper()
	for _, ed := range edits {
		if _, err := w.Append(context.Background(), ed); err != nil {
			e.t.Fatal(err)
		}
	}
}
