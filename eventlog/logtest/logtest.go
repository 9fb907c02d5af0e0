package logtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
