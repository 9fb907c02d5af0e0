package eventlog

import (
	"context"
	"errors"
	"testing"
)

func lifecycleEv(doc string, v int64, k Kind, prev string) Event {
	e := ev(doc, v)
	e.Kind, e.Op, e.Prev = k, []byte("[]"), prev
	return e
}

// TestLifecycleRules checks, in the database itself, which event may go on
// top of which: a deleted document takes nothing but a purge, a live one
// no purge, a purged one nothing at all.
func TestLifecycleRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		below  []Kind // the document's events, in order
		next   Kind
		wantOK bool
	}{
		{"op on op", []Kind{Op}, Op, true},
		{"rename on op", []Kind{Op}, Rename, true},
		{"op on rename", []Kind{Op, Rename}, Op, true},
		{"delete on op", []Kind{Op}, Delete, true},
		{"op on delete", []Kind{Op, Delete}, Op, false},
		{"rename on delete", []Kind{Op, Delete}, Rename, false},
		{"delete on delete", []Kind{Op, Delete}, Delete, false},
		{"purge on op", []Kind{Op}, Purge, false},
		{"purge on delete", []Kind{Op, Delete}, Purge, true},
		{"op on purge", []Kind{Op, Delete, Purge}, Op, false},
		{"purge on purge", []Kind{Op, Delete, Purge}, Purge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, tempDB(t), Config{})
			for i, k := range tt.below {
				mustAppend(t, s, lifecycleEv("d", int64(i), k, ""))
			}
			_, err := s.Append(ctx, lifecycleEv("d", int64(len(tt.below)), tt.next, ""))
			if tt.wantOK && err != nil {
				t.Fatalf("append %q: %v", tt.next, err)
			}
			if !tt.wantOK && !errors.Is(err, ErrConflict) {
				t.Fatalf("append %q = %v, want a conflict", tt.next, err)
			}
		})
	}
}

func TestRenameRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, tempDB(t), Config{})
	mustAppend(t, s, ev("d", 0))
	meta, err := RenameEvent("Budget 2027")
	if err != nil {
		t.Fatal(err)
	}
	e := lifecycleEv("d", 1, Rename, "")
	e.Meta = meta
	mustAppend(t, s, e)
	evs, err := s.Events(ctx, "d", 0, 0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events = %d, %v", len(evs), err)
	}
	if evs[0].Kind != Op || evs[0].Meta != nil {
		t.Fatalf("op read back as kind %q meta %q", evs[0].Kind, evs[0].Meta)
	}
	if title, err := evs[1].Title(); err != nil || title != "Budget 2027" || evs[1].Kind != Rename {
		t.Fatalf("rename read back as kind %q title %q, %v", evs[1].Kind, title, err)
	}
	if _, err := RenameEvent(string(make([]byte, MaxTitle+1))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("over-long title: %v", err)
	}
}

// TestPurgeErases checks that a purge leaves only itself: no earlier
// event, no snapshot, no list entry; other documents are untouched.
func TestPurgeErases(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, tempDB(t), Config{})
	for v := int64(0); v < 3; v++ {
		mustAppend(t, s, ev("gone", v))
		mustAppend(t, s, ev("kept", v))
	}
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "gone", Version: 2, Text: "secret"}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, lifecycleEv("gone", 3, Delete, ""))
	if docs, err := s.Docs(ctx, 0); err != nil || len(docs) != 1 || docs[0].Doc != "kept" {
		t.Fatalf("docs after delete = %+v, %v", docs, err)
	}
	// History stays readable until purged.
	if evs, err := s.Events(ctx, "gone", 0, 0); err != nil || len(evs) != 4 {
		t.Fatalf("events after delete = %d, %v", len(evs), err)
	}
	purge := mustAppend(t, s, lifecycleEv("gone", 4, Purge, ""))
	evs, err := s.Events(ctx, "gone", 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Kind != Purge || evs[0].Seq != purge.Seq {
		t.Fatalf("events after purge = %+v, %v", evs, err)
	}
	if _, ok, err := s.LatestSnapshot(ctx, "gone"); ok || err != nil {
		t.Fatalf("snapshot survived the purge (%v, %v)", ok, err)
	}
	if kept, err := s.Events(ctx, "kept", 0, 0); err != nil || len(kept) != 3 {
		t.Fatalf("other document: %d events, %v", len(kept), err)
	}
	// The change feed's view: only the purge remains of the document.
	all, err := s.Since(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Doc == "gone" && e.Kind != Purge {
			t.Fatalf("purged event still in the log: %+v", e)
		}
	}
	if _, found, err := s.FindOp(ctx, "gone", ev("gone", 0).OpID); found || err != nil {
		t.Fatalf("purged op id still found (%v, %v)", found, err)
	}
}
