package query_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/readmodel/rmtest"
)

type historyPage struct {
	Events     []query.HistoryEvent
	Sessions   []query.Session
	NextCursor string
	Read       query.ReadPosition
}

func TestHistorySessionsAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	// a: 0, 1m, 5m59s (gap 4m59s); b: 7m, 8m; a: 20m; a: 26m (gap 6m).
	steps := []struct {
		author string
		at     time.Duration
	}{{"a", 0}, {"a", time.Minute}, {"a", 5*time.Minute + 59*time.Second}, {"b", 7 * time.Minute},
		{"b", 8 * time.Minute}, {"a", 20 * time.Minute}, {"a", 26 * time.Minute}}
	var edits []rmtest.Edit
	for _, s := range steps {
		edits = append(edits, rmtest.Edit{Op: document.FromPatch(0, 0, "x"), Author: s.author, At: t0.Add(s.at)})
	}
	e.write("h", edits...)
	var p historyPage
	e.get("/api/v1/docs/h/history", http.StatusOK, &p)
	if len(p.Events) != 7 || p.Events[0].Version != 7 || *p.Events[0].Size != 7 || p.NextCursor != "" || p.Read.Version != 7 {
		t.Fatalf("%+v", p)
	}
	got := ""
	for _, s := range p.Sessions {
		got += fmt.Sprintf("%s %d-%d %s-%s; ", s.Authors[0], s.FromVersion, s.ToVersion,
			s.Start.Sub(t0), s.End.Sub(t0))
	}
	want := "a 6-7 26m0s-26m0s; a 5-6 20m0s-20m0s; b 3-5 7m0s-8m0s; a 0-3 0s-5m59s; "
	if got != want {
		t.Fatalf("sessions\n got %s\nwant %s", got, want)
	}
	var versions []int64
	cursor := ""
	for range 10 {
		p = historyPage{}
		e.get("/api/v1/docs/h/history?limit=3&cursor="+url.QueryEscape(cursor), http.StatusOK, &p)
		for _, ev := range p.Events {
			versions = append(versions, ev.Version)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(versions) != "[7 6 5 4 3 2 1]" {
		t.Fatalf("paged versions %v", versions)
	}
}
