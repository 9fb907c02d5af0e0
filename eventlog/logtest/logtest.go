package logtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/internal/poll"
)

// Config is what a test asks of the Log it opens.
type Config struct {
	// OnCommit is the store's commit hook (eventlog.Config.OnCommit).
	OnCommit func()
}

// Impl adapts a store to the suite.
type Impl struct {
	// NewDB returns a fresh, empty database for t: a file path, a URL.
	NewDB func(t *testing.T) string
	// Open opens a Log on db in shared mode (several Logs may be open on
	// one db at once, as processes coordinating through leases) and closes
	// it in t.Cleanup.
	Open func(t *testing.T, db string, cfg Config) eventlog.Log
	// InsertRaw writes an event row with the given payload schema directly,
	// bypassing Append, as an older build would have; nil skips the
	// upcast test.
	InsertRaw func(t *testing.T, db string, e eventlog.Event, schema int)
}

// Run runs the suite against impl.
func Run(t *testing.T, impl Impl) {
	tests := []struct {
		name string
		fn   func(*testing.T, Impl)
	}{
		{"RoundTrip", testRoundTrip},
		{"Duplicate", testDuplicate},
		{"Conflict", testConflict},
		{"VersionGap", testVersionGap},
		{"PrevChain", testPrevChain},
		{"StaleWriterPipelined", testStaleWriterPipelined},
		{"Invalid", testInvalid},
		{"CallOrder", testCallOrder},
		{"GroupCommitBatches", testGroupCommitBatches},
		{"RaceSameVersion", testRaceSameVersion},
		{"RaceSameVersionTwoStores", testRaceTwoStores},
		{"SinceFollowsCommitOrder", testSinceFollowsCommitOrder},
		{"OnCommit", testOnCommit},
		{"Snapshots", testSnapshots},
		{"Docs", testDocs},
		{"LifecycleRules", testLifecycleRules},
		{"Purge", testPurge},
		{"CloseDrainsQueue", testCloseDrainsQueue},
		{"CloseConcurrentAppends", testCloseConcurrentAppends},
		{"Health", testHealth},
		{"Upcast", testUpcast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, impl)
		})
	}
}

// Ev is event v of doc with a deterministic op id and payload.
func Ev(doc string, v int64) eventlog.Event {
	return eventlog.Event{Doc: doc, Version: v, OpID: fmt.Sprintf("%s-op-%d", doc, v), Author: "alice",
		Op: []byte(fmt.Sprintf(`[%d,"x"]`, v)), Size: v + 1}
}

func open(t *testing.T, impl Impl) eventlog.Log {
	t.Helper()
	return impl.Open(t, impl.NewDB(t), Config{})
}

func mustAppend(t *testing.T, l eventlog.Log, e eventlog.Event) eventlog.Event {
	t.Helper()
	got, err := l.Append(context.Background(), e)
	if err != nil {
		t.Fatalf("append %s@%d: %v", e.Doc, e.Version, err)
	}
	return got
}

func testRoundTrip(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	if h, err := l.Head(ctx, "a"); err != nil || h != 0 {
		t.Fatalf("head of unknown doc = %d, %v; want 0", h, err)
	}
	if seq, err := l.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("last seq of an empty log = %d, %v", seq, err)
	}
	var stored []eventlog.Event
	for v := int64(0); v < 5; v++ {
		stored = append(stored, mustAppend(t, l, Ev("a", v)))
	}
	b := Ev("b", 0)
	b.Size, b.Prev = -1, ""
	stored = append(stored, mustAppend(t, l, b))
	for i := 1; i < len(stored); i++ {
		if stored[i].Seq <= stored[i-1].Seq {
			t.Fatalf("seq not increasing: %d then %d", stored[i-1].Seq, stored[i].Seq)
		}
	}
	if stored[0].Time.IsZero() {
		t.Fatal("Append did not set Time")
	}
	if h, err := l.Head(ctx, "a"); err != nil || h != 5 {
		t.Fatalf("head = %d, %v; want 5", h, err)
	}
	evs, err := l.Events(ctx, "a", 2, 2)
	if err != nil || len(evs) != 2 || evs[0].Version != 2 || evs[1].Version != 3 {
		t.Fatalf("events from 2 limit 2 = %+v, %v", evs, err)
	}
	want := stored[2]
	got := evs[0]
	if got.Seq != want.Seq || got.OpID != want.OpID || got.Author != want.Author || string(got.Op) != string(want.Op) ||
		got.Size != want.Size || !got.Time.Equal(want.Time) || got.Kind != eventlog.Op || got.Meta != nil {
		t.Fatalf("read back %+v, stored %+v", got, want)
	}
	all, err := l.Events(ctx, "a", 0, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("all events = %d, %v", len(all), err)
	}
	if bs, err := l.Events(ctx, "b", 0, 0); err != nil || len(bs) != 1 || bs[0].Size != -1 {
		t.Fatalf("unknown size read back as %+v, %v", bs, err)
	}
	since, err := l.Since(ctx, stored[1].Seq, 0)
	if err != nil || len(since) != 4 || since[0].Seq != stored[2].Seq {
		t.Fatalf("since = %d events, %v", len(since), err)
	}
	if since, err := l.Since(ctx, 0, 3); err != nil || len(since) != 3 {
		t.Fatalf("since limit 3 = %d events, %v", len(since), err)
	}
	if seq, err := l.LastSeq(ctx); err != nil || seq != stored[len(stored)-1].Seq {
		t.Fatalf("last seq = %d, %v; want %d", seq, err, stored[len(stored)-1].Seq)
	}
	if v, ok, err := l.FindOp(ctx, "a", Ev("a", 3).OpID); err != nil || !ok || v != 3 {
		t.Fatalf("find op = %d, %v, %v", v, ok, err)
	}
	if _, ok, err := l.FindOp(ctx, "a", "nope"); err != nil || ok {
		t.Fatalf("find unknown op = %v, %v", ok, err)
	}
}

func testDuplicate(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	for v := int64(0); v < 4; v++ {
		mustAppend(t, l, Ev("d", v))
	}
	cases := []eventlog.Event{
		Ev("d", 1),                             // exact retry
		{Doc: "d", Version: 4, OpID: "d-op-1"}, // retry rebased to head
		{Doc: "d", Version: 9, OpID: "d-op-1"}, // retry beyond head (gap)
	}
	for _, e := range cases {
		_, err := l.Append(ctx, e)
		var de *eventlog.DuplicateError
		if !errors.As(err, &de) || !errors.Is(err, eventlog.ErrDuplicate) || de.Version != 1 || de.OpID != "d-op-1" {
			t.Fatalf("append %+v: err = %v, want *DuplicateError at version 1", e, err)
		}
	}
	// The same op id in another doc is fine.
	mustAppend(t, l, eventlog.Event{Doc: "other", OpID: "d-op-1"})
	if h, _ := l.Head(ctx, "d"); h != 4 {
		t.Fatalf("head = %d, want 4", h)
	}
	if st := l.Stats(); st.Duplicates != 3 {
		t.Fatalf("stats = %+v, want 3 duplicates", st)
	}
}

func testConflict(t *testing.T, impl Impl) {
	l := open(t, impl)
	mustAppend(t, l, Ev("c", 0))
	other := Ev("c", 0)
	other.OpID = "someone-else"
	_, err := l.Append(context.Background(), other)
	var ce *eventlog.ConflictError
	if !errors.As(err, &ce) || ce.Version != 0 || !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("second op at version 0 = %v, want *ConflictError", err)
	}
	if st := l.Stats(); st.Conflicts != 1 {
		t.Fatalf("stats conflicts = %d, want 1", st.Conflicts)
	}
}

func testVersionGap(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	if _, err := l.Append(ctx, Ev("g", 1)); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("version 1 of an empty doc = %v, want conflict", err)
	}
	mustAppend(t, l, Ev("g", 0))
	if _, err := l.Append(ctx, Ev("g", 2)); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("version 2 on head 1 = %v, want conflict", err)
	}
	// A failed event does not fail its batch: v (ok), v+2 (gap), other doc.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, e := range []eventlog.Event{Ev("g", 1), Ev("g", 3), Ev("h", 0)} {
		wg.Add(1)
		l.AppendAsync(e, func(_ eventlog.Event, err error) { errs[i] = err; wg.Done() })
	}
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], eventlog.ErrConflict) || errs[2] != nil {
		t.Fatalf("batch results = %v", errs)
	}
}

func testPrevChain(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	mustAppend(t, l, Ev("p", 0))
	e := Ev("p", 1)
	e.Prev = "not-the-op-at-0"
	if _, err := l.Append(ctx, e); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("wrong prev = %v, want conflict", err)
	}
	e.Prev = Ev("p", 0).OpID
	mustAppend(t, l, e)
}

// testStaleWriterPipelined is the deposed owner: it pipelines h and h+1
// (h+1 transformed on its own h) while a new owner, through another
// Store on the same database, has already taken h. Both must fail: h on
// UNIQUE(doc, version), h+1 on the prev check, though version h exists.
func testStaleWriterPipelined(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	stale, owner := impl.Open(t, db, Config{}), impl.Open(t, db, Config{})
	mustAppend(t, stale, Ev("s", 0))
	theirs := Ev("s", 1)
	theirs.OpID, theirs.Prev = "new-owner-1", Ev("s", 0).OpID
	mustAppend(t, owner, theirs)
	mine, next := Ev("s", 1), Ev("s", 2)
	mine.Prev, next.Prev = Ev("s", 0).OpID, mine.OpID
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, e := range []eventlog.Event{mine, next} {
		wg.Add(1)
		stale.AppendAsync(e, func(_ eventlog.Event, err error) { errs[i] = err; wg.Done() })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, eventlog.ErrConflict) {
			t.Errorf("stale pipelined append %d = %v, want conflict", i, err)
		}
	}
	evs, err := owner.Events(context.Background(), "s", 0, 0)
	if err != nil || len(evs) != 2 || evs[1].OpID != "new-owner-1" {
		t.Fatalf("log = %+v, %v; want the new owner's history only", evs, err)
	}
}

func testInvalid(t *testing.T, impl Impl) {
	l := open(t, impl)
	for _, e := range []eventlog.Event{
		{Doc: "", Version: 0, OpID: "x"},
		{Doc: "d", Version: 0, OpID: ""},
		{Doc: "d", Version: -1, OpID: "x"},
		{Doc: "d", Version: 0, OpID: "x", Kind: "explode"},
	} {
		if _, err := l.Append(context.Background(), e); !errors.Is(err, eventlog.ErrInvalid) {
			t.Errorf("append %+v = %v, want ErrInvalid", e, err)
		}
	}
	if err := l.PutSnapshot(context.Background(), eventlog.Snapshot{Doc: "", Version: 1}); !errors.Is(err, eventlog.ErrInvalid) {
		t.Errorf("snapshot without doc = %v, want ErrInvalid", err)
	}
}

// testCallOrder: one goroutine's pipelined appends are answered in call
// order and stored in that order.
func testCallOrder(t *testing.T, impl Impl) {
	l := open(t, impl)
	const n = 500
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	wg.Add(n)
	for v := int64(0); v < n; v++ {
		l.AppendAsync(Ev("o", v), func(e eventlog.Event, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("append %d: %v", e.Version, err)
			}
			mu.Lock()
			got = append(got, e.Version)
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("callback %d was for version %d", i, v)
		}
	}
	if h, _ := l.Head(context.Background(), "o"); h != n {
		t.Fatalf("head = %d, want %d", h, n)
	}
}

// testGroupCommitBatches: concurrent appends share transactions.
func testGroupCommitBatches(t *testing.T, impl Impl) {
	l := open(t, impl)
	const docs, per = 64, 20
	var wg sync.WaitGroup
	for d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inner sync.WaitGroup
			for v := int64(0); v < per; v++ {
				inner.Add(1)
				l.AppendAsync(Ev(fmt.Sprintf("doc%d", d), v), func(_ eventlog.Event, err error) {
					if err != nil {
						t.Errorf("append: %v", err)
					}
					inner.Done()
				})
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	st := l.Stats()
	if st.Events != docs*per {
		t.Fatalf("stats events = %d, want %d", st.Events, docs*per)
	}
	if st.Commits >= st.Events || st.MaxBatch < 2 {
		t.Fatalf("no group commit: %d commits for %d events, max batch %d", st.Commits, st.Events, st.MaxBatch)
	}
	if st.QueuedAppends != 0 || st.QueuedBytes != 0 {
		t.Fatalf("queue gauges after all answered: %+v", st)
	}
}

// raceVersions has n appenders race for every version of one document;
// each round all of them append the same base version with distinct op
// ids, spread over stores.
func raceVersions(t *testing.T, stores []eventlog.Log, n, rounds int) {
	t.Helper()
	ctx := context.Background()
	for v := int64(0); v < int64(rounds); v++ {
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				l := stores[g%len(stores)]
				_, err := l.Append(ctx, eventlog.Event{Doc: "race", Version: v, OpID: fmt.Sprintf("g%d-v%d", g, v), Op: []byte(`[]`)})
				var ce *eventlog.ConflictError
				switch {
				case err == nil:
					wins.Add(1)
				case errors.As(err, &ce) && errors.Is(err, eventlog.ErrConflict) && ce.Version == v && ce.Doc == "race":
					conflicts.Add(1)
				default:
					t.Errorf("round %d: unexpected error %v", v, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != int32(n-1) {
			t.Fatalf("round %d: %d wins, %d conflicts; want 1 and %d", v, wins.Load(), conflicts.Load(), n-1)
		}
	}
	if h, err := stores[0].Head(ctx, "race"); err != nil || h != int64(rounds) {
		t.Fatalf("head = %d, %v; want %d", h, err, rounds)
	}
}

func testRaceSameVersion(t *testing.T, impl Impl) {
	raceVersions(t, []eventlog.Log{open(t, impl)}, 8, 60)
}

// testRaceTwoStores: appenders on two Stores of one database race for
// each version; exactly one wins, and the others were refused by a row
// their store did not write: the guard works through the database, not
// through either store's memory.
func testRaceTwoStores(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	a, b := impl.Open(t, db, Config{}), impl.Open(t, db, Config{})
	raceVersions(t, []eventlog.Log{a, b}, 8, 40)
	sa, sb := a.Stats(), b.Stats()
	if sa.Events+sb.Events != 40 || sa.Conflicts+sb.Conflicts != 40*7 {
		t.Fatalf("stats a=%+v b=%+v: want 40 events and 280 conflicts in total", sa, sb)
	}
}

// testSinceFollowsCommitOrder: two Stores on one database commit many
// events while a reader follows Since from its last seq, as a projection
// does. It must see every committed event exactly once, in increasing
// seq: a seq that became visible after a higher one would be skipped.
func testSinceFollowsCommitOrder(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	stores := []eventlog.Log{impl.Open(t, db, Config{}), impl.Open(t, db, Config{})}
	reader := impl.Open(t, db, Config{})
	const docs, per = 16, 60
	var committed sync.Map // seq → op id
	var total atomic.Int64
	var wg sync.WaitGroup
	for d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := stores[d%2]
			var inner sync.WaitGroup
			for v := int64(0); v < per; v++ {
				inner.Add(1)
				l.AppendAsync(Ev(fmt.Sprintf("f%d", d), v), func(e eventlog.Event, err error) {
					defer inner.Done()
					if err != nil {
						t.Errorf("append: %v", err)
						return
					}
					committed.Store(e.Seq, e.OpID)
					total.Add(1)
				})
			}
			inner.Wait()
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	ctx := context.Background()
	seen := map[int64]bool{}
	var last int64
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true // one more read after the last commit
		default:
		}
		evs, err := reader.Since(ctx, last, 97)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq <= last || seen[e.Seq] {
				t.Fatalf("seq %d after %d", e.Seq, last)
			}
			seen[e.Seq], last = true, e.Seq
		}
		if len(evs) == 97 {
			done = false // not caught up yet
		}
	}
	if int64(len(seen)) != total.Load() || total.Load() != docs*per {
		t.Fatalf("reader saw %d events, %d committed, want %d", len(seen), total.Load(), docs*per)
	}
	committed.Range(func(k, _ any) bool {
		if !seen[k.(int64)] {
			t.Errorf("committed seq %d was skipped by the reader", k)
		}
		return true
	})
}

func testOnCommit(t *testing.T, impl Impl) {
	var calls atomic.Int64
	l := impl.Open(t, impl.NewDB(t), Config{OnCommit: func() { calls.Add(1) }})
	mustAppend(t, l, Ev("n", 0))
	if calls.Load() == 0 {
		t.Fatal("OnCommit not called before the append was answered")
	}
	// A store may also call it when another process commits (PostgreSQL's
	// LISTEN), so extra calls are allowed: it is a wake-up, not a count.
}

func testSnapshots(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	if _, ok, err := l.LatestSnapshot(ctx, "s"); ok || err != nil {
		t.Fatalf("snapshot of unknown doc: %v, %v", ok, err)
	}
	for _, v := range []int64{10, 30, 20} {
		if err := l.PutSnapshot(ctx, eventlog.Snapshot{Doc: "s", Version: v, Text: fmt.Sprintf("text@%d", v)}); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing one is allowed (same version, same text in practice).
	if err := l.PutSnapshot(ctx, eventlog.Snapshot{Doc: "s", Version: 30, Text: "text@30"}); err != nil {
		t.Fatal(err)
	}
	l.PutSnapshotAsync(eventlog.Snapshot{Doc: "s", Version: 40, Text: "text@40"})
	poll.Until(t, "the async snapshot", func() bool {
		s, ok, _ := l.LatestSnapshot(ctx, "s")
		return ok && s.Version == 40
	})
	tests := []struct {
		at     int64
		want   int64
		wantOK bool
	}{{5, 0, false}, {10, 10, true}, {25, 20, true}, {35, 30, true}, {100, 40, true}}
	for _, tt := range tests {
		s, ok, err := l.SnapshotAt(ctx, "s", tt.at)
		if err != nil || ok != tt.wantOK || (ok && (s.Version != tt.want || s.Text != fmt.Sprintf("text@%d", tt.want) || s.Time.IsZero())) {
			t.Errorf("snapshot at %d = %+v, %v, %v; want version %d", tt.at, s, ok, err, tt.want)
		}
	}
}

func testDocs(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	mustAppend(t, l, Ev("x", 0))
	mustAppend(t, l, Ev("y", 0))
	mustAppend(t, l, Ev("x", 1))
	docs, err := l.Docs(ctx, 0)
	if err != nil || len(docs) != 2 {
		t.Fatalf("docs = %+v, %v", docs, err)
	}
	if docs[0].Doc != "x" || docs[0].Version != 2 || docs[0].Size != 2 || docs[1].Doc != "y" || docs[1].Version != 1 {
		t.Fatalf("docs = %+v; want x@2 (size 2) then y@1", docs)
	}
	if docs, err := l.Docs(ctx, 1); err != nil || len(docs) != 1 {
		t.Fatalf("docs limit 1 = %+v, %v", docs, err)
	}
}

func lifecycleEv(doc string, v int64, k eventlog.Kind) eventlog.Event {
	e := Ev(doc, v)
	e.Kind, e.Op = k, []byte("[]")
	return e
}

// testLifecycleRules checks, in the database itself, which event may go
// on top of which: a deleted document takes nothing but a purge, a live
// one no purge, a purged one nothing at all.
func testLifecycleRules(t *testing.T, impl Impl) {
	O, R, D, P := eventlog.Op, eventlog.Rename, eventlog.Delete, eventlog.Purge
	tests := []struct {
		name   string
		below  []eventlog.Kind
		next   eventlog.Kind
		wantOK bool
	}{
		{"op on op", []eventlog.Kind{O}, O, true},
		{"rename on op", []eventlog.Kind{O}, R, true},
		{"op on rename", []eventlog.Kind{O, R}, O, true},
		{"delete on op", []eventlog.Kind{O}, D, true},
		{"op on delete", []eventlog.Kind{O, D}, O, false},
		{"rename on delete", []eventlog.Kind{O, D}, R, false},
		{"delete on delete", []eventlog.Kind{O, D}, D, false},
		{"purge on op", []eventlog.Kind{O}, P, false},
		{"purge on delete", []eventlog.Kind{O, D}, P, true},
		{"op on purge", []eventlog.Kind{O, D, P}, O, false},
		{"purge on purge", []eventlog.Kind{O, D, P}, P, false},
	}
	l := open(t, impl) // one database, a document per case
	for i, tt := range tests {
		doc := fmt.Sprintf("life%d", i)
		for v, k := range tt.below {
			mustAppend(t, l, lifecycleEv(doc, int64(v), k))
		}
		_, err := l.Append(context.Background(), lifecycleEv(doc, int64(len(tt.below)), tt.next))
		if tt.wantOK && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.wantOK && !errors.Is(err, eventlog.ErrConflict) {
			t.Errorf("%s = %v, want a conflict", tt.name, err)
		}
	}
	meta, err := eventlog.RenameEvent("Budget 2027")
	if err != nil {
		t.Fatal(err)
	}
	r := lifecycleEv("titled", 1, eventlog.Rename)
	r.Meta = meta
	mustAppend(t, l, Ev("titled", 0))
	mustAppend(t, l, r)
	evs, err := l.Events(context.Background(), "titled", 1, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if title, err := evs[0].Title(); err != nil || title != "Budget 2027" {
		t.Fatalf("rename read back as kind %q title %q, %v", evs[0].Kind, title, err)
	}
}

// testPurge: a purge leaves only itself: no earlier event, no snapshot,
// no list entry; other documents are untouched.
func testPurge(t *testing.T, impl Impl) {
	ctx := context.Background()
	l := open(t, impl)
	for v := int64(0); v < 3; v++ {
		mustAppend(t, l, Ev("gone", v))
		mustAppend(t, l, Ev("kept", v))
	}
	if err := l.PutSnapshot(ctx, eventlog.Snapshot{Doc: "gone", Version: 2, Text: "secret"}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, lifecycleEv("gone", 3, eventlog.Delete))
	if docs, err := l.Docs(ctx, 0); err != nil || len(docs) != 1 || docs[0].Doc != "kept" {
		t.Fatalf("docs after delete = %+v, %v", docs, err)
	}
	if evs, err := l.Events(ctx, "gone", 0, 0); err != nil || len(evs) != 4 {
		t.Fatalf("events after delete = %d, %v", len(evs), err)
	}
	purge := mustAppend(t, l, lifecycleEv("gone", 4, eventlog.Purge))
	evs, err := l.Events(ctx, "gone", 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Kind != eventlog.Purge || evs[0].Seq != purge.Seq {
		t.Fatalf("events after purge = %+v, %v", evs, err)
	}
	if _, ok, err := l.LatestSnapshot(ctx, "gone"); ok || err != nil {
		t.Fatalf("snapshot survived the purge (%v, %v)", ok, err)
	}
	if kept, err := l.Events(ctx, "kept", 0, 0); err != nil || len(kept) != 3 {
		t.Fatalf("other document: %d events, %v", len(kept), err)
	}
	all, err := l.Since(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Doc == "gone" && e.Kind != eventlog.Purge {
			t.Fatalf("purged event still in the log: %+v", e)
		}
	}
}

// testCloseDrainsQueue: Close answers everything queued before it (and
// commits it), then refuses with ErrClosed.
func testCloseDrainsQueue(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	l := impl.Open(t, db, Config{})
	const n = 300
	var wg sync.WaitGroup
	var ok atomic.Int64
	wg.Add(n)
	for v := int64(0); v < n; v++ {
		l.AppendAsync(Ev("c", v), func(_ eventlog.Event, err error) {
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, eventlog.ErrClosed) && !errors.Is(err, eventlog.ErrBusy) {
				t.Errorf("append: %v", err)
			}
			wg.Done()
		})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := l.Append(context.Background(), Ev("c", n)); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("append after close = %v", err)
	}
	if _, err := l.Events(context.Background(), "c", 0, 0); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("read after close = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	again := impl.Open(t, db, Config{})
	if h, err := again.Head(context.Background(), "c"); err != nil || h != ok.Load() {
		t.Fatalf("head after reopen = %d, %v; %d were acked", h, err, ok.Load())
	}
}

// testCloseConcurrentAppends races Close with appenders: every callback
// is answered exactly once, with success or ErrClosed, and successes are
// durable.
func testCloseConcurrentAppends(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	l := impl.Open(t, db, Config{})
	const goroutines, per = 16, 200
	var ok, calls atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := fmt.Sprintf("d%d", g)
			for v := int64(0); v < per; v++ {
				l.AppendAsync(Ev(doc, v), func(_ eventlog.Event, err error) {
					calls.Add(1)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, eventlog.ErrClosed):
					default:
						t.Errorf("unexpected: %v", err)
					}
				})
			}
		}()
	}
	// Close once appends are flowing, so that it lands among them.
	poll.Until(t, "the first appends to be answered", func() bool { return calls.Load() > 0 })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if calls.Load() != goroutines*per {
		t.Fatalf("%d callbacks, want %d", calls.Load(), goroutines*per)
	}
	if ok.Load() != l.Stats().Events {
		t.Fatalf("%d successes but %d events committed", ok.Load(), l.Stats().Events)
	}
	again := impl.Open(t, db, Config{})
	var stored int64
	for g := range goroutines {
		h, err := again.Head(context.Background(), fmt.Sprintf("d%d", g))
		if err != nil {
			t.Fatal(err)
		}
		stored += h
	}
	if stored != ok.Load() {
		t.Fatalf("%d events in the log after reopening, %d acked", stored, ok.Load())
	}
}

func testHealth(t *testing.T, impl Impl) {
	l := open(t, impl)
	if err := l.Health(context.Background()); err != nil {
		t.Fatalf("health of an open store: %v", err)
	}
	_ = l.Close()
	if err := l.Health(context.Background()); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("health after close = %v", err)
	}
}

// testUpcast: rows written in schema 0 are read back in the current form,
// beside current rows; a row of an unknown schema fails the read.
func testUpcast(t *testing.T, impl Impl) {
	if impl.InsertRaw == nil {
		t.Skip("the store cannot insert raw rows")
	}
	ctx := context.Background()
	db := impl.NewDB(t)
	l := impl.Open(t, db, Config{})
	e := Ev("old", 0)
	e.Op = []byte(`{"ops":[{"insert":"héllo"}]}`)
	impl.InsertRaw(t, db, e, 0)
	e = Ev("old", 1)
	e.Op = []byte(`{"ops":[{"retain":1},{"delete":2},{"insert":"a\"b"},{"retain":2}]}`)
	impl.InsertRaw(t, db, e, 0)
	mustAppend(t, l, eventlog.Event{Doc: "old", Version: 2, OpID: "new-1", Op: []byte(`[3,"!"]`)})
	want := []string{`["héllo"]`, `[1,-2,"a\"b",2]`, `[3,"!"]`}
	evs, err := l.Events(ctx, "old", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	since, err := l.Since(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]eventlog.Event{evs, since} {
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			if string(e.Op) != want[i] {
				t.Errorf("event %d: op %s, want %s", i, e.Op, want[i])
			}
		}
	}
	impl.InsertRaw(t, db, Ev("future", 0), eventlog.SchemaVersion+1)
	if _, err := l.Events(ctx, "future", 0, 0); !errors.Is(err, eventlog.ErrUnknownSchema) {
		t.Fatalf("row of a newer schema = %v, want ErrUnknownSchema", err)
	}
}
