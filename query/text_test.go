package query_test

import (
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/readmodel/rmtest"
)

type textBody struct {
	ID      string
	Version int64
	Size    int
	Text    string
	Read    query.ReadPosition
}

// fixtureDirs are the temp dirs of the shared fixtures, removed by
// TestMain once every test and benchmark has run.
var (
	fixtureMu   sync.Mutex
	fixtureDirs []string
)

func tempDir() (string, error) {
	dir, err := os.MkdirTemp("", "query-test-")
	if err == nil {
		fixtureMu.Lock()
		fixtureDirs = append(fixtureDirs, dir)
		fixtureMu.Unlock()
	}
	return dir, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range fixtureDirs {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

func TestTextErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e.write("d", rmtest.Edit{Op: document.FromPatch(0, 0, "héllo"), Author: "a", At: t0},
		rmtest.Edit{Op: document.FromPatch(5, 0, " wörld"), Author: "b", At: t0.Add(time.Minute)})
	var b textBody
	e.get("/api/v1/docs/d", http.StatusOK, &b)
	if b.Text != "héllo wörld" || b.Version != 2 || b.Size != 11 || b.Read.Seq != 2 {
		t.Fatalf("%+v", b)
	}
	e.get("/api/v1/docs/d/text?at=2026-05-01T12:00:30Z", http.StatusOK, &b)
	if b.Text != "héllo" || b.Version != 1 {
		t.Fatalf("%+v", b)
	}
	e.get("/api/v1/docs/d/text?at=2020-01-01T00:00:00Z", http.StatusOK, &b)
	if b.Text != "" || b.Version != 0 {
		t.Fatalf("%+v", b)
	}
	for path, status := range map[string]int{
		"/api/v1/docs/nope":                  http.StatusNotFound,
		"/api/v1/docs/nope/history":          http.StatusNotFound,
		"/api/v1/docs/d/text?version=3":      http.StatusNotFound,
		"/api/v1/docs/d/diff?from=0&to=3":    http.StatusNotFound,
		"/api/v1/docs/d/text?version=-1":     http.StatusBadRequest,
		"/api/v1/docs/d/text?version=1&at=x": http.StatusBadRequest,
		"/api/v1/docs/d/text?at=yesterday":   http.StatusBadRequest,
		"/api/v1/docs/d/diff?from=2&to=1":    http.StatusBadRequest,
		"/api/v1/docs/d/diff?from=1":         http.StatusBadRequest,
		"/api/v1/docs/d/history?cursor=AAAA": http.StatusBadRequest,
		"/api/v1/docs/d/history?limit=x":     http.StatusBadRequest,
		"/api/v1/docs/bad%20id":              http.StatusBadRequest,
	} {
		e.get(path, status, nil)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	e.get("/api/v1/docs/d", http.StatusServiceUnavailable, nil)
	e.get("/api/v1/docs/d/text?version=1", http.StatusServiceUnavailable, nil)
}
