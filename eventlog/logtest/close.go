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
