package logtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/collabedit/collab/eventlog"
)

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
