package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openTest(t testing.TB, path string, cfg Config) *Store {
	t.Helper()
	s, err := Open(path, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "log.db") }

func ev(doc string, v int64) Event {
	return Event{Doc: doc, Version: v, OpID: fmt.Sprintf("%s-op-%d", doc, v), Author: "alice",
		Op: []byte(fmt.Sprintf(`{"ins":%d}`, v))}
}

func mustAppend(t testing.TB, s *Store, e Event) Event {
	t.Helper()
	got, err := s.Append(context.Background(), e)
	if err != nil {
		t.Fatalf("append %s@%d: %v", e.Doc, e.Version, err)
	}
	return got
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	mode, sync, err := s.Pragmas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode=%q synchronous=%d, want wal and 2 (FULL)", mode, sync)
	}
}

func TestRoundTripAndReopen(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	ctx := context.Background()
	s, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := s.Head(ctx, "a"); err != nil || h != 0 {
		t.Fatalf("head of unknown doc = %d, %v; want 0", h, err)
	}
	var stored []Event
	for v := int64(0); v < 5; v++ {
		stored = append(stored, mustAppend(t, s, ev("a", v)))
	}
	stored = append(stored, mustAppend(t, s, ev("b", 0)))
	for i := 1; i < len(stored); i++ {
		if stored[i].Seq <= stored[i-1].Seq {
			t.Fatalf("seq not increasing: %d then %d", stored[i-1].Seq, stored[i].Seq)
		}
	}
	if stored[0].Time.IsZero() {
		t.Fatal("Append did not set Time")
	}

	check := func(s *Store) {
		t.Helper()
		if h, err := s.Head(ctx, "a"); err != nil || h != 5 {
			t.Fatalf("head a = %d, %v; want 5", h, err)
		}
		evs, err := s.Events(ctx, "a", 2, 0)
		if err != nil || len(evs) != 3 {
			t.Fatalf("events a from 2 = %d, %v; want 3", len(evs), err)
		}
		for i, e := range evs {
			want := stored[2+i]
			if e.Seq != want.Seq || e.Version != want.Version || e.OpID != want.OpID ||
				e.Author != want.Author || string(e.Op) != string(want.Op) || !e.Time.Equal(want.Time) || e.Doc != "a" {
				t.Fatalf("event %d = %+v, want %+v", i, e, want)
			}
		}
		if evs, _ := s.Events(ctx, "a", 0, 2); len(evs) != 2 || evs[1].Version != 1 {
			t.Fatalf("events limit 2 = %+v", evs)
		}
		if v, ok, err := s.FindOp(ctx, "a", "a-op-3"); err != nil || !ok || v != 3 {
			t.Fatalf("find op = %d %v %v", v, ok, err)
		}
		if _, ok, err := s.FindOp(ctx, "a", "nope"); err != nil || ok {
			t.Fatalf("find missing op = %v %v", ok, err)
		}
		all, err := s.Since(ctx, 0, 0)
		if err != nil || len(all) != 6 {
			t.Fatalf("since 0 = %d, %v", len(all), err)
		}
		tail, err := s.Since(ctx, stored[3].Seq, 2)
		if err != nil || len(tail) != 2 || tail[0].Seq != stored[4].Seq || tail[1].Doc != "b" {
			t.Fatalf("since = %+v, %v", tail, err)
		}
		docs, err := s.Docs(ctx, 0)
		if err != nil || len(docs) != 2 || docs[0].Doc != "b" || docs[0].Version != 1 ||
			docs[1].Doc != "a" || docs[1].Version != 5 || !docs[1].Updated.Equal(stored[4].Time) {
			t.Fatalf("docs = %+v, %v", docs, err)
		}
		if docs, _ := s.Docs(ctx, 1); len(docs) != 1 {
			t.Fatalf("docs limit 1 = %+v", docs)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.Head(ctx, "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("head after close: %v", err)
	}
	s2 := openTest(t, path, Config{})
	check(s2)
	mustAppend(t, s2, ev("a", 5))
}

func TestVersionGap(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	ctx := context.Background()
	for v := int64(0); v < 3; v++ {
		mustAppend(t, s, ev("g", v))
	}
	_, err := s.Append(ctx, ev("g", 5))
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || ce.Version != 5 {
		t.Fatalf("gap append: %v, want *ConflictError", err)
	}
	if want := `append doc "g" version 5: version conflict`; err.Error() != want {
		t.Fatalf("error text %q, want %q", err.Error(), want)
	}
	if _, err := s.Append(ctx, ev("new", 1)); !errors.Is(err, ErrConflict) {
		t.Fatalf("first append at version 1: %v, want conflict", err)
	}
	if h, _ := s.Head(ctx, "g"); h != 3 {
		t.Fatalf("head = %d, want 3", h)
	}
	if _, ok, _ := s.FindOp(ctx, "g", "g-op-5"); ok {
		t.Fatal("gap event was stored")
	}
	if evs, _ := s.Events(ctx, "new", 0, 0); len(evs) != 0 {
		t.Fatalf("gap event stored: %+v", evs)
	}
	// The guard is in SQLite, not in Go: a raw insert is refused too.
	db, err := sql.Open("sqlite3", "file:"+s.path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES ('g', 4, 'x', '', 0, 1, x'')`)
	if err == nil {
		t.Fatal("raw gap insert succeeded")
	}
	// A conflicting event inside a batch does not fail the others.
	mustAppend(t, s, ev("g", 3))
}

// Generic tests of the contract (duplicates, invalid events, races for a
// version on one or two Stores, callback order, group commit) live in
// eventlog/logtest, run by TestConformance; this file keeps what only the
// SQLite store can show.

func TestCloseDrainsQueue(t *testing.T) {
	t.Parallel()
	s, err := Open(tempDB(t), Config{MaxBatch: 16})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var answered, failed atomic.Int32
	var wg sync.WaitGroup
	wg.Add(n + 1)
	for v := int64(0); v < n; v++ {
		s.AppendAsync(ev("c", v), func(e Event, err error) {
			answered.Add(1)
			if err != nil {
				failed.Add(1)
				t.Errorf("queued before close: %v", err)
			}
			wg.Done()
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if answered.Load() != n {
		t.Fatalf("close returned with %d of %d appends answered", answered.Load(), n)
	}
	var lateErr error
	s.AppendAsync(ev("c", n), func(_ Event, err error) { lateErr = err; wg.Done() })
	wg.Wait()
	if !errors.Is(lateErr, ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", lateErr)
	}
	if _, err := s.Append(context.Background(), ev("c", n)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if err := s.PutSnapshot(context.Background(), Snapshot{Doc: "c"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot after close: %v", err)
	}
	s2 := openTest(t, s.path(), Config{})
	if h, _ := s2.Head(context.Background(), "c"); h != n {
		t.Fatalf("head after reopen = %d, want %d", h, n)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	s := openTest(t, path, Config{})
	ctx := context.Background()
	if _, ok, err := s.LatestSnapshot(ctx, "s"); ok || err != nil {
		t.Fatalf("latest of unknown = %v, %v", ok, err)
	}
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "s", Version: 10, Text: "ten"}); err != nil {
		t.Fatal(err)
	}
	s.PutSnapshotAsync(Snapshot{Doc: "s", Version: 30, Text: "thirty"})
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "s", Version: 20, Text: "twenty"}); err != nil {
		t.Fatal(err)
	}
	// Same version again replaces.
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "s", Version: 10, Text: "TEN"}); err != nil {
		t.Fatal(err)
	}
	snap, ok, err := s.LatestSnapshot(ctx, "s")
	if err != nil || !ok || snap.Version != 30 || snap.Text != "thirty" || snap.Doc != "s" || snap.Time.IsZero() {
		t.Fatalf("latest = %+v %v %v", snap, ok, err)
	}
	if err := s.PutSnapshot(ctx, Snapshot{Version: 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid snapshot: %v", err)
	}
}

// TestUnavailableAndRecover holds SQLite's write lock from another
// connection longer than the busy timeout: the batch fails with
// ErrUnavailable, and the writer recovers once the lock is released.
func TestUnavailableAndRecover(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{BusyTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	mustAppend(t, s, ev("u", 0))

	release := holdWriteLock(t, s.path())
	_, err := s.Append(ctx, ev("u", 1))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append under foreign lock: %v, want ErrUnavailable", err)
	}
	// Reads are not blocked by a writer in WAL mode.
	if h, err := s.Head(ctx, "u"); err != nil || h != 1 {
		t.Fatalf("head while locked = %d, %v", h, err)
	}
	release()
	mustAppend(t, s, ev("u", 1))
	if st := s.Stats(); st.Failures != 1 {
		t.Fatalf("stats %+v, want 1 failure", st)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	s, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ := sql.Open("sqlite3", path)
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(path, Config{}); err == nil {
		s.Close()
		t.Fatal("opened a file with a newer storage version")
	}
}

// TestPrevChain: an event naming the op it was transformed on top of is
// refused when another writer's op took that place, even though its own
// version would be free: a deposed owner's pipelined ops cannot land.
func TestPrevChain(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	mustAppend(t, s, Event{Doc: "p", Version: 0, OpID: "new:1", Op: []byte(`["a"]`)})
	// The deposed owner lost version 0 to new:1 but pipelined old:2 on top
	// of its own old:1.
	_, err := s.Append(context.Background(), Event{Doc: "p", Version: 1, OpID: "old:2", Prev: "old:1", Op: []byte(`["b"]`)})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("append on top of the wrong op: err = %v, want a conflict", err)
	}
	mustAppend(t, s, Event{Doc: "p", Version: 1, OpID: "new:2", Prev: "new:1", Op: []byte(`["c"]`)})
	evs, err := s.Events(context.Background(), "p", 0, 0)
	if err != nil || len(evs) != 2 || evs[1].Prev != "new:1" {
		t.Fatalf("events %+v, %v", evs, err)
	}
}

// holdWriteLock takes SQLite's write lock on path from a connection of
// its own, as another process's writer would, until release is called.
func holdWriteLock(t testing.TB, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Error(err)
			}
			_ = conn.Close()
			_ = db.Close()
		})
	}
	t.Cleanup(release)
	return release
}
