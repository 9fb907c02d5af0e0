package logdump_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/logdump"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// Log is what the round trip reads and writes: either store.
type Log interface {
	logdump.Source
	logdump.Sink
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
	SnapshotAt(ctx context.Context, doc string, version int64) (eventlog.Snapshot, bool, error)
}

func openSQLite(t *testing.T) *eventlog.Store {
	t.Helper()
	s, err := eventlog.Open(filepath.Join(t.TempDir(), "events.db"), eventlog.Config{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fill writes docs documents of random typing into s, snapshots every
// 50 versions, then renames one, deletes one and deletes and purges one.
func fill(t *testing.T, s *eventlog.Store, docs, edits int) []string {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, uint64(docs)))
	var ids []string
	var writers []*rmtest.Writer
	for d := range docs {
		id := fmt.Sprintf("doc-%d", d)
		ids = append(ids, id)
		w := rmtest.NewWriter(s, id)
		writers = append(writers, w)
		text := document.NewText("")
		var es []rmtest.Edit
		for i := range edits {
			pos := rng.IntN(text.Len() + 1)
			op := document.FromPatch(pos, 0, []string{"a", "é", "😀", " word", "\n"}[rng.IntN(5)])
			if i%5 == 4 && text.Len() > 0 {
				op = document.FromPatch(rng.IntN(text.Len()), 1, "")
			}
			if err := text.Apply(op); err != nil {
				t.Fatal(err)
			}
			es = append(es, rmtest.Edit{Op: op, Author: fmt.Sprintf("u%d", i%3), At: time.Unix(1_700_000_000+int64(i), 0)})
		}
		if err := w.AppendAll(ctx, es, 50); err != nil {
			t.Fatal(err)
		}
	}
	meta, _ := eventlog.RenameEvent("Renamed")
	for _, step := range []struct {
		w    *rmtest.Writer
		kind eventlog.Kind
		meta []byte
	}{{writers[0], eventlog.Rename, meta}, {writers[1], eventlog.Delete, nil}, {writers[2], eventlog.Delete, nil}, {writers[2], eventlog.Purge, nil}} {
		if _, err := step.w.Lifecycle(ctx, step.kind, step.meta, "owner"); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// textAt replays doc to version from its nearest snapshot.
func textAt(t *testing.T, s Log, doc string, v int64) string {
	t.Helper()
	ctx := context.Background()
	snap, _, err := s.SnapshotAt(ctx, doc, v)
	if err != nil {
		t.Fatal(err)
	}
	text := document.NewText(snap.Text)
	if v == snap.Version {
		return text.String()
	}
	evs, err := s.Events(ctx, doc, snap.Version, int(v-snap.Version))
	if err != nil || int64(len(evs)) != v-snap.Version {
		t.Fatalf("%s: %d events from %d, want %d (%v)", doc, len(evs), snap.Version, v-snap.Version, err)
	}
	for _, e := range evs {
		var op document.Op
		if err := op.UnmarshalJSON(e.Op); err != nil {
			t.Fatal(err)
		}
		if err := text.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	return text.String()
}

// roundTrip dumps src, loads it into dst and compares them: every event
// but the purged document's, and every document's text at every
// snapshot version of the source, read from each side; the target has
// its own snapshots there.
func roundTrip(t *testing.T, src *eventlog.Store, dst Log, ids []string) {
	t.Helper()
	ctx := context.Background()
	var dump bytes.Buffer
	n, err := logdump.Write(ctx, src, &dump)
	if err != nil {
		t.Fatal(err)
	}
	st, err := logdump.Read(ctx, bytes.NewReader(dump.Bytes()), dst, logdump.Config{SnapshotEvery: 50})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events+st.Skipped != n || st.Skipped != 1 || st.Snapshots == 0 {
		t.Fatalf("dumped %d, loaded %+v", n, st)
	}
	for _, doc := range ids {
		a, errA := src.Events(ctx, doc, 0, 0)
		b, errB := dst.Events(ctx, doc, 0, 0)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if doc == "doc-2" { // purged
			if len(b) != 0 {
				t.Fatalf("purged document loaded: %d events", len(b))
			}
			continue
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d events, loaded %d", doc, len(a), len(b))
		}
		for i := range a {
			x, y := a[i], b[i]
			x.Seq, y.Seq = 0, 0
			if !x.Time.Equal(y.Time) || fmt.Sprint(x.Doc, x.Version, x.OpID, x.Author, string(x.Op), x.Prev, x.Size, x.Kind, string(x.Meta)) !=
				fmt.Sprint(y.Doc, y.Version, y.OpID, y.Author, string(y.Op), y.Prev, y.Size, y.Kind, string(y.Meta)) {
				t.Fatalf("%s event %d: %+v, loaded %+v", doc, i, x, y)
			}
		}
		for v := int64(50); v <= int64(len(a)); v += 50 {
			if want, got := textAt(t, src, doc, v), textAt(t, dst, doc, v); want != got {
				t.Fatalf("%s at %d: %q, loaded %q", doc, v, want, got)
			}
			snap, ok, err := dst.SnapshotAt(ctx, doc, v)
			if err != nil || !ok || snap.Version != v || snap.Text != textAt(t, src, doc, v) {
				t.Fatalf("%s: target snapshot at %d: version %d found %v (%v)", doc, v, snap.Version, ok, err)
			}
		}
	}
	// The target's own dump has the same events (numbered afresh).
	var again bytes.Buffer
	if m, err := logdump.Write(ctx, dst, &again); err != nil || m != n-1 {
		t.Fatalf("dump of the target: %d events, %v", m, err)
	}
}

func TestRoundTripSQLite(t *testing.T) {
	src := openSQLite(t)
	ids := fill(t, src, 6, 400)
	roundTrip(t, src, openSQLite(t), ids)
}

// TestRefusals: a load refuses a target with events, and a dump that is
// altered, truncated, extended or not a dump, before writing anything.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	fill(t, src, 3, 20)
	var dump bytes.Buffer
	if _, err := logdump.Write(ctx, src, &dump); err != nil {
		t.Fatal(err)
	}
	good := dump.Bytes()
	if _, err := logdump.Read(ctx, bytes.NewReader(good), src, logdump.Config{}); !errors.Is(err, logdump.ErrNotEmpty) {
		t.Fatalf("load into a log with events: %v", err)
	}
	altered := bytes.Replace(good, []byte(`"author":"u1"`), []byte(`"author":"u2"`), 1)
	tests := map[string][]byte{
		"altered":   altered,
		"truncated": good[:len(good)*2/3],
		"no end":    good[:bytes.LastIndexByte(good[:len(good)-1], '\n')+1],
		"extended":  append(append([]byte{}, good...), good[bytes.IndexByte(good, '\n')+1:][:10]...),
		"not JSON":  []byte("hello\n"),
		"empty":     nil,
	}
	for name, data := range tests {
		dst := openSQLite(t)
		if _, err := logdump.Read(ctx, bytes.NewReader(data), dst, logdump.Config{}); !errors.Is(err, logdump.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
		if last, _ := dst.LastSeq(ctx); last != 0 {
			t.Errorf("%s: %d events written from a corrupt dump", name, last)
		}
	}
}
