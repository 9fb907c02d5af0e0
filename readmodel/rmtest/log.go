package rmtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// OpenStore opens an event log in t's temp dir, closed at cleanup.
func OpenStore(t testing.TB) *eventlog.Store {
	t.Helper()
	s, err := eventlog.Open(filepath.Join(t.TempDir(), "log.db"), eventlog.Config{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Edit is one op to append: by Author at At (zero: now).
type Edit struct {
	Op     document.Op
	Author string
	At     time.Time
}

// Writer appends edits to one document, tracking its text and version.
type Writer struct {
	Store   *eventlog.Store
	Doc     string
	Text    *document.Text
	Version int64
}

// NewWriter starts a document with no events.
func NewWriter(s *eventlog.Store, doc string) *Writer {
	return &Writer{Store: s, Doc: doc, Text: document.NewText("")}
}

// Append appends one edit through Store.Append and waits for its commit.
func (w *Writer) Append(ctx context.Context, e Edit) (eventlog.Event, error) {
	ev, err := w.event(e)
	if err != nil {
		return ev, err
	}
	return w.Store.Append(ctx, ev)
}

func (w *Writer) event(e Edit) (eventlog.Event, error) {
	payload, err := e.Op.MarshalJSON()
	if err != nil {
		return eventlog.Event{}, fmt.Errorf("rmtest: %w", err)
	}
	if err := w.Text.Apply(e.Op); err != nil {
		return eventlog.Event{}, fmt.Errorf("rmtest: version %d: %w", w.Version, err)
	}
	ev := eventlog.Event{Doc: w.Doc, Version: w.Version, OpID: fmt.Sprintf("op-%d", w.Version),
		Author: e.Author, Time: e.At, Op: payload, Size: int64(w.Text.Len())}
	w.Version++
	return ev, nil
}

// AppendAll appends edits pipelined (AppendAsync, at most 1024 in
// flight) and puts a snapshot every snapEvery versions (0: none) with
// PutSnapshotAsync, as the hub does. It returns the first error.
func (w *Writer) AppendAll(ctx context.Context, edits []Edit, snapEvery int) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sem := make(chan struct{}, 1024)
	for _, e := range edits {
		ev, err := w.event(e)
		if err != nil {
			return err
		}
		sem <- struct{}{}
		wg.Add(1)
		w.Store.AppendAsync(ev, func(_ eventlog.Event, err error) {
			if err != nil {
				once.Do(func() { first = err })
			}
			<-sem
			wg.Done()
		})
		if snapEvery > 0 && w.Version%int64(snapEvery) == 0 {
			w.Store.PutSnapshotAsync(eventlog.Snapshot{Doc: w.Doc, Version: w.Version, Text: w.Text.String(), Time: e.At})
		}
	}
	wg.Wait()
	return first
}

// Lifecycle appends a lifecycle event of kind (with meta, e.g. from
// eventlog.RenameEvent) at the writer's version, as the hub does.
func (w *Writer) Lifecycle(ctx context.Context, kind eventlog.Kind, meta []byte, author string) (eventlog.Event, error) {
	ev := eventlog.Event{Doc: w.Doc, Version: w.Version, OpID: fmt.Sprintf("life-%d", w.Version),
		Author: author, Op: []byte("[]"), Size: int64(w.Text.Len()), Kind: kind, Meta: meta}
	got, err := w.Store.Append(ctx, ev)
	if err == nil {
		w.Version++
	}
	return got, err
}
