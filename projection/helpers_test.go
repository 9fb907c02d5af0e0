package projection

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// openLog opens a fresh event log in a temp dir; notify, if set, becomes
// its OnCommit hook.
func openLog(t testing.TB, notify func()) (*eventlog.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := eventlog.Open(filepath.Join(dir, "events.db"), eventlog.Config{MinFreeBytes: -1, OnCommit: notify})
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// appendN appends n events round-robin over docs, continuing each
// document's versions from what the log holds.
func appendN(t testing.TB, s *eventlog.Store, n int, docs ...string) {
	t.Helper()
	ctx := context.Background()
	heads := map[string]int64{}
	for _, d := range docs {
		h, err := s.Head(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		heads[d] = h
	}
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		d := docs[i%len(docs)]
		v := heads[d]
		heads[d]++
		s.AppendAsync(eventlog.Event{Doc: d, Version: v, OpID: fmt.Sprintf("%s-%d", d, v),
			Author: fmt.Sprintf("author%d", i%3), Op: []byte(`{}`), Size: -1},
			func(_ eventlog.Event, err error) { errs <- err })
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

// logCounts counts the log's events per document, except skip.
func logCounts(t testing.TB, s *eventlog.Store, skip string) map[string]int64 {
	t.Helper()
	evs, err := s.Since(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range evs {
		if e.Doc != skip {
			out[e.Doc]++
		}
	}
	return out
}

// newProjector returns a projector on dir/readmodels.db with compressed
// timers, closed at cleanup.
func newProjector(t testing.TB, dir string, log Log, ps ...Projection) *Projector {
	t.Helper()
	pr := New(filepath.Join(dir, "readmodels.db"), log)
	pr.PollInterval = 5 * time.Millisecond
	pr.RetryInterval = 10 * time.Millisecond
	for _, p := range ps {
		if err := pr.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = pr.Close() })
	return pr
}

func open(t testing.TB, pr *Projector) {
	t.Helper()
	if err := pr.Open(context.Background()); err != nil {
		t.Fatalf("open projector: %v", err)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// caughtUp waits until the named projection's serving generation has
// applied everything up to the log's head, with no rebuild running.
func caughtUp(t testing.TB, pr *Projector, s *eventlog.Store, name string) Stats {
	t.Helper()
	head, err := s.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	waitFor(t, name+" caught up", func() bool {
		st = statsOf(pr, name)
		return st.Seq >= head && st.BuildGeneration == 0
	})
	return st
}

func statsOf(pr *Projector, name string) Stats {
	for _, s := range pr.Stats() {
		if s.Name == name {
			return s
		}
	}
	return Stats{}
}

// readCounts reads the stats projection's per-document counts.
func readCounts(t testing.TB, pr *Projector, name string) (map[string]int64, Position) {
	t.Helper()
	var out map[string]int64
	var p Position
	err := pr.Read(context.Background(), name, func(ctx context.Context, tx *sql.Tx, tb Tables, pos Position) error {
		var err error
		out, err = DocCounts(ctx, tx, tb)
		p = pos
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return out, p
}

func sameCounts(t testing.TB, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("counts: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("counts[%s] = %d, want %d (got %v)", k, got[k], v, got)
		}
	}
}

// hooked is the stats projection under another name and version, with a
// hook run after each Apply has written its rows (so a failing hook
// proves the rows roll back).
type hooked struct {
	Counts
	name    string
	version int
	calls   atomic.Int64
	hook    func(ctx context.Context, call int64, evs []eventlog.Event) error
}

func (h *hooked) Name() string { return h.name }
func (h *hooked) Version() int { return h.version }

func (h *hooked) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventlog.Event) error {
	if err := h.Counts.Apply(ctx, tx, t, evs); err != nil {
		return err
	}
	if h.hook == nil {
		return nil
	}
	return h.hook(ctx, h.calls.Add(1), evs)
}
