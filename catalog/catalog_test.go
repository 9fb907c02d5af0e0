package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// openStore opens a real event log in the test's temporary directory.
func openStore(tb testing.TB) *eventlog.Store {
	tb.Helper()
	s, err := eventlog.Open(filepath.Join(tb.TempDir(), "events.db"), eventlog.Config{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// appendN appends n events to doc starting at version from, the last one
// recording size, each one second after base.
func appendN(tb testing.TB, s *eventlog.Store, doc string, from, n int, size int64, base time.Time) {
	tb.Helper()
	for i := 0; i < n; i++ {
		v := int64(from + i)
		e := eventlog.Event{Doc: doc, Version: v, OpID: fmt.Sprintf("t:%s:%d", doc, v), Author: "t",
			Op: []byte(`["x"]`), Size: size, Time: base.Add(time.Duration(v) * time.Second)}
		if _, err := s.Append(context.Background(), e); err != nil {
			tb.Fatalf("append %s@%d: %v", doc, v, err)
		}
	}
}

func TestList(t *testing.T) {
	s := openStore(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	appendN(t, s, "notes", 0, 3, 11, base)
	appendN(t, s, "plan.v2", 0, 1, -1, base) // size not recorded
	appendN(t, s, "empty", 0, 2, 0, base)
	// Written before the protocol refused "." and "..": left out.
	appendN(t, s, "..", 0, 1, 2, base)
	appendN(t, s, ".", 0, 1, 2, base)
	appendN(t, s, "...", 0, 1, 2, base)
	c := New(s)

	// "." and ".." are among the newest, yet a limit still counts listed documents.
	if got, err := c.List(context.Background(), 3); err != nil || len(got) != 3 {
		t.Fatalf("List(3) = %d entries, %v; want 3", len(got), err)
	}
	got, err := c.List(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	size := func(n int64) *int64 { return &n }
	want := []Entry{ // most recently committed first
		{ID: "...", Version: 1, Size: size(2), Link: "/d/..."},
		{ID: "empty", Version: 2, Size: size(0), Link: "/d/empty"},
		{ID: "plan.v2", Version: 1, Size: nil, Link: "/d/plan.v2"},
		{ID: "notes", Version: 3, Size: size(11), Link: "/d/notes"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Version != w.Version || g.Link != w.Link || (g.Size == nil) != (w.Size == nil) ||
			g.Size != nil && *g.Size != *w.Size {
			t.Errorf("entry %d = %+v (size %v), want %+v (size %v)", i, g, deref(g.Size), w, deref(w.Size))
		}
	}
	if u := got[3].Updated; !u.Equal(base.Add(2*time.Second)) || u.Location() != time.UTC {
		t.Errorf("notes updated = %v, want %v in UTC", u, base.Add(2*time.Second))
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestListLimits(t *testing.T) {
	s := openStore(t)
	base := time.Now()
	for i := 0; i < 5; i++ {
		appendN(t, s, fmt.Sprintf("d%d", i), 0, 1, 1, base)
	}
	c := New(s)
	for _, tc := range []struct {
		limit, want int
	}{
		{0, 5}, // default
		{2, 2},
		{-3, 1},           // clamped up
		{MaxLimit + 1, 5}, // clamped down, fewer exist
	} {
		got, err := c.List(context.Background(), tc.limit)
		if err != nil || len(got) != tc.want {
			t.Errorf("List(%d) = %d entries, %v; want %d", tc.limit, len(got), err, tc.want)
		}
	}
}

func TestHandler(t *testing.T) {
	s := openStore(t)
	appendN(t, s, "a", 0, 2, 7, time.Now())
	appendN(t, s, "b", 0, 1, -1, time.Now())
	srv := httptest.NewServer(New(s))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		query  string
		status int
		ids    []string
	}{
		{"", http.StatusOK, []string{"b", "a"}},
		{"?limit=1", http.StatusOK, []string{"b"}},
		{"?limit=0", http.StatusBadRequest, nil},
		{"?limit=x", http.StatusBadRequest, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, err := http.Get(srv.URL + "/api/docs" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("content type %q", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("cache control %q", cc)
			}
			var body struct {
				Docs []struct {
					ID   string
					Size *int64
				}
				Error string
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if tc.status != http.StatusOK {
				if body.Error == "" {
					t.Error("error response without a message")
				}
				return
			}
			if len(body.Docs) != len(tc.ids) {
				t.Fatalf("docs %+v, want ids %v", body.Docs, tc.ids)
			}
			for i, id := range tc.ids {
				if body.Docs[i].ID != id {
					t.Errorf("doc %d = %q, want %q", i, body.Docs[i].ID, id)
				}
			}
		})
	}

	// The size is a number when known and null when not.
	res, err := http.Get(srv.URL + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw struct{ Docs []map[string]json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if got := string(raw.Docs[0]["size"]); got != "null" {
		t.Errorf("unknown size encodes as %s, want null", got)
	}
	if got := string(raw.Docs[1]["size"]); got != "7" {
		t.Errorf("size encodes as %s, want 7", got)
	}
	if got := string(raw.Docs[1]["title"]); got != `"xx"` { // two events of ["x"]
		t.Errorf("title encodes as %s, want \"xx\"", got)
	}
}

// TestHandlerUnavailable: a closed event log is reported as 503 with a
// message, not as an empty list.
func TestHandlerUnavailable(t *testing.T) {
	s := openStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	New(s).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", rec.Code, rec.Body)
	}
}

// appendOps appends ops (JSON) to doc from version from on.
func appendOps(tb testing.TB, s *eventlog.Store, doc string, from int64, ops ...string) {
	tb.Helper()
	for i, op := range ops {
		v := from + int64(i)
		e := eventlog.Event{Doc: doc, Version: v, OpID: fmt.Sprintf("t:%s:%d", doc, v), Author: "t", Op: []byte(op), Size: -1}
		if _, err := s.Append(context.Background(), e); err != nil {
			tb.Fatalf("append %s@%d: %v", doc, v, err)
		}
	}
}

// titles lists the documents and returns their titles by id.
func titles(t *testing.T, c *Catalog) map[string]string {
	t.Helper()
	got, err := c.List(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string)
	for _, e := range got {
		m[e.ID] = e.Title
	}
	return m
}

// TestListTitles: each document is listed with the title of its latest
// text, from the snapshot and the events after it, and again after more
// edits (the cache follows the version).
func TestListTitles(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	appendOps(t, s, "md", 0, `["# Hello\nworld"]`)      // "# Hello\nworld", 13 code points
	appendOps(t, s, "plain", 0, `["\n\n  shopping  "]`) // blank lines first
	appendOps(t, s, "blank", 0, `["\n   \n"]`)
	c := New(s)
	want := map[string]string{"md": "Hello", "plain": "shopping", "blank": ""}
	if got := titles(t, c); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("titles %v, want %v", got, want)
	}

	// An edit of the first line; then a snapshot, and an edit after it.
	appendOps(t, s, "md", 1, `[2,"Big ",11]`) // "# Big Hello\nworld"
	if got := titles(t, c)["md"]; got != "Big Hello" {
		t.Fatalf("after an edit: title %q", got)
	}
	if err := s.PutSnapshot(ctx, eventlog.Snapshot{Doc: "md", Version: 2, Text: "# Big Hello\nworld"}); err != nil {
		t.Fatal(err)
	}
	appendOps(t, s, "md", 2, `[-6,11]`) // "Hello\nworld"
	if got := titles(t, c)["md"]; got != "Hello" {
		t.Fatalf("after a snapshot and an edit: title %q", got)
	}

	// Unchanged documents are not read again: the cache answers.
	c.mu.Lock()
	c.titles["plain"] = cachedTitle{version: 1, title: "from the cache"}
	c.mu.Unlock()
	if got := titles(t, c)["plain"]; got != "from the cache" {
		t.Errorf("an unchanged document was read again: %q", got)
	}

	// Out of time, a changed document keeps its last title until a
	// request has time for it.
	appendOps(t, s, "md", 3, `["# New "]`) // "# New Hello\nworld"
	c.budget = -time.Second
	if got := titles(t, c); got["md"] != "Hello" || got["blank"] != "" {
		t.Errorf("out of time: titles %v, want the last ones", got)
	}
	fresh := New(s)
	fresh.budget = -time.Second
	if got := titles(t, fresh)["md"]; got != "" {
		t.Errorf("out of time, never worked out: title %q", got)
	}
	c.budget = titleBudget
	if got := titles(t, c)["md"]; got != "New Hello" {
		t.Errorf("with time again: title %q", got)
	}

	// A source that cannot give texts lists no titles.
	if got := titles(t, New(docsOnly{s}))["md"]; got != "" {
		t.Errorf("title %q from a source without texts", got)
	}
}

// docsOnly hides a store's texts.
type docsOnly struct{ s *eventlog.Store }

func (d docsOnly) Docs(ctx context.Context, limit int) ([]eventlog.DocInfo, error) {
	return d.s.Docs(ctx, limit)
}
